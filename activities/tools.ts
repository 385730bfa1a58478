// The agent's HTTP tools: one request per tool call, made by a durable activity. A retry (the
// worker died mid-request, the server answered 5xx) sends the same `Idempotency-Key`, so that the
// tool's server can tell a retry from a second booking; once the result is in the call's history,
// no failover runs it again.
import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import { argumentsChecker, expandVariables } from '../src/agent-tools';
import { ConfigError } from '../src/config-error';
import { isRetryableStatus, parseRetryAfter } from '../src/voipbin/errors';
import { heartbeatWhileSlow } from './heartbeat';
import type { ToolActivities, ToolCallInput, ToolResult } from './types';

/** The most of a tool's answer the model is given (and the call's history records), in characters. */
export const TOOL_RESULT_MAX_CHARS = 4000;

/** The header the tool's server can deduplicate by: the same for every attempt of one tool call. */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/**
 * One tool call's key: from the call's workflow and the call, the turn, the step of the turn and
 * the call's place in the model's reply. Every attempt of the activity computes the same one; no
 * other tool call of any call has it.
 */
export function idempotencyKey(
  workflowId: string,
  input: Pick<ToolCallInput, 'callId' | 'turnId' | 'step' | 'index'>,
): string {
  const hex = createHash('sha256')
    .update(`${workflowId}\n${input.callId}\n${input.turnId}\n${input.step}\n${input.index}`)
    .digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const checkers = new Map<string, z.ZodType>();

/** The tool's arguments, parsed and checked against its `parameters`; or what is wrong with them. */
export function checkArguments(
  parameters: Record<string, unknown>,
  raw: string,
): { ok: true; value: unknown } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch {
    return { ok: false, error: `the arguments are not valid JSON: ${raw.slice(0, 200)}` };
  }
  const key = JSON.stringify(parameters);
  let checker = checkers.get(key);
  if (!checker) {
    checker = argumentsChecker(parameters);
    checkers.set(key, checker);
  }
  const parsed = checker.safeParse(value);
  if (parsed.success) return { ok: true, value };
  const issues = parsed.error.issues.map(
    (i) => `${i.path.length ? i.path.join('.') : '(arguments)'}: ${i.message}`,
  );
  return { ok: false, error: `the arguments do not match the tool's parameters: ${issues.join('; ')}` };
}

/** The answer's body as the model reads it: JSON compacted, text as is, both cut at the cap. */
export function resultText(body: string, contentType: string | null): string {
  let text = body.trim();
  if (contentType?.includes('json')) {
    try {
      text = JSON.stringify(JSON.parse(text));
    } catch {
      // Not JSON after all: the text as it came.
    }
  }
  if (text.length <= TOOL_RESULT_MAX_CHARS) return text;
  return `${text.slice(0, TOOL_RESULT_MAX_CHARS)} [cut: ${text.length} characters in all]`;
}

function errorResult(error: string, startedAt: number, status?: number): ToolResult {
  return { ok: false, error, ...(status !== undefined && { status }), ms: Date.now() - startedAt };
}

export interface ToolActivityDeps {
  /** Where `${VAR}` comes from. Default: the worker's environment. */
  env?: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

export function createToolActivities(deps: ToolActivityDeps = {}): ToolActivities {
  const env = deps.env ?? process.env;
  const fetchImpl = deps.fetch ?? ((input, init) => fetch(input, init));
  return {
    async callTool(input: ToolCallInput): Promise<ToolResult> {
      const ctx = Context.current();
      const startedAt = Date.now();
      const { tool } = input;
      const args = checkArguments(tool.parameters, input.arguments);
      // The model's mistake: told to it, so it can ask the caller or try again.
      if (!args.ok) return errorResult(args.error, startedAt);
      let url: URL;
      let headers: Record<string, string>;
      try {
        url = new URL(expandVariables(tool.http.url, env, `tool "${tool.name}"`));
        headers = Object.fromEntries(
          Object.entries(tool.http.headers).map(([k, v]) => [
            k,
            expandVariables(v, env, `tool "${tool.name}"`),
          ]),
        );
      } catch (err) {
        // Checked at start-up; a worker started otherwise learns it here, and the model is told.
        const why = err instanceof ConfigError ? err.message : `tool "${tool.name}" has a bad URL`;
        ctx.log.error('tool not callable', { tool: tool.name, error: why });
        return errorResult(`the tool is not configured correctly on this worker: ${why}`, startedAt);
      }
      const method = tool.http.method;
      let body: string | undefined;
      if (method === 'GET' || method === 'DELETE') {
        for (const [k, v] of Object.entries((args.value ?? {}) as Record<string, unknown>))
          url.searchParams.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      } else {
        body = JSON.stringify(args.value ?? {});
        headers = { 'Content-Type': 'application/json', ...headers };
      }
      const workflowId = ctx.info.workflowExecution?.workflowId ?? ctx.info.activityId;
      headers = {
        Accept: 'application/json, text/plain;q=0.9, */*;q=0.5',
        ...headers,
        [IDEMPOTENCY_HEADER]: idempotencyKey(workflowId, input),
        'X-Voipbin-Call-Id': input.callId,
        ...(input.caller && { 'X-Voipbin-Caller': input.caller }),
        ...(input.called && { 'X-Voipbin-Called': input.called }),
      };
      const timeoutMs = tool.http.timeoutSeconds * 1000;
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = AbortSignal.any([timeout, ctx.cancellationSignal]);
      try {
        const { res, text } = await heartbeatWhileSlow(async () => {
          const res = await fetchImpl(url, { method, headers, body, signal });
          return { res, text: await res.text() };
        });
        if (res.ok)
          return {
            ok: true,
            status: res.status,
            content: resultText(text, res.headers.get('content-type')),
            ms: Date.now() - startedAt,
          };
        const detail = `${tool.name} answered ${res.status}${text.trim() ? `: ${resultText(text, res.headers.get('content-type')).slice(0, 500)}` : ''}`;
        if (isRetryableStatus(res.status)) {
          // Retried with the same key; after the last attempt the model hears it failed.
          throw ApplicationFailure.create({
            type: 'ToolUnavailable',
            message: detail,
            nextRetryDelay: parseRetryAfter(res.headers.get('retry-after')),
            details: [{ httpStatus: res.status }],
          });
        }
        return errorResult(detail, startedAt, res.status);
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        // A tool that does not answer in time may have acted: not retried, the model is told.
        if (timeout.aborted)
          return errorResult(`${tool.name} did not answer within ${tool.http.timeoutSeconds} s`, startedAt);
        // No answer at all (refused, reset): retried with the same key.
        throw ApplicationFailure.create({
          type: 'ToolUnreachable',
          message: `${tool.name} could not be reached: ${(err as Error).message}`,
        });
      }
    },
  };
}
