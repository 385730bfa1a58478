import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import type { AgentMetrics } from '../src/metrics';
import { FailureType, type SentenceReady } from '../workflows/messages';
import { continuationPrompt } from './continuation';
import { toActivityFailure } from './failures';
import { SentenceSplitter } from './sentences';
import type { CallExecution, TurnChannel } from './turn-channel';
import type { LlmActivities, LlmTurnInput, LlmTurnResult } from './types';

export const END_CALL_TOOL = {
  type: 'function',
  function: {
    name: 'end_call',
    description: 'End the phone call. Use it after saying goodbye, when the caller is done.',
    parameters: {
      type: 'object',
      properties: { reason: { type: 'string', description: 'Why the call is ending.' } },
    },
  },
} as const;

/**
 * How often the activity tells Temporal it is alive. The SDK sends at most one heartbeat per
 * throttle interval (0.8 × the 500 ms heartbeat timeout of workflows/activities.ts): a dead worker
 * is noticed quickly, and a barge-in's cancellation arrives with the next heartbeat's answer.
 */
const HEARTBEAT_EVERY_MS = 200;

function parseEndCall(args: string): { reason?: string } {
  try {
    const parsed = JSON.parse(args || '{}') as { reason?: unknown };
    return typeof parsed.reason === 'string' ? { reason: parsed.reason } : {};
  } catch {
    return {};
  }
}

/**
 * What the reply asked for besides speech: `end_call`, and the other tools in the model's order.
 * A call without an id (some compatible servers send none) gets one from its place in the reply.
 */
export function turnResult(calls: { id: string; name: string; args: string }[]): LlmTurnResult {
  const result: LlmTurnResult = {};
  const endCall = calls.find((c) => c.name === END_CALL_TOOL.function.name);
  if (endCall) result.endCall = parseEndCall(endCall.args);
  const others = calls
    .map((c, i) => ({ id: c.id || `call_${i}`, name: c.name, arguments: c.args }))
    .filter((c) => c.name !== END_CALL_TOOL.function.name && c.name !== '');
  if (others.length) result.toolCalls = others;
  return result;
}

/**
 * A long call's turn is given only its most recent messages: the model is told that the call
 * began earlier, so that it does not greet the caller again or act as if it had just started.
 */
export function windowedPrompt(systemPrompt: string, earlierMessages: number): string {
  if (earlierMessages <= 0) return systemPrompt;
  return (
    `${systemPrompt}\n\n` +
    `This call has been going on for a while: its first ${earlierMessages} messages are not shown ` +
    'below. Carry on the conversation from where it is.'
  );
}

/** The model stopped sending: not retried, the caller hears the apology within seconds. */
function stalled(why: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.LlmStalled,
    message: `model stalled: ${why}`,
    nonRetryable: true,
  });
}

/**
 * One LLM turn: streams the reply and hands each sentence to the workflow as soon as it is
 * complete (or as soon as the stream pauses after a sentence end), so the first `/say` does not
 * wait for the whole reply. A retried attempt (the worker running the turn died) continues the
 * reply from the sentences the workflow already received, never starts it again.
 */
export function createLlmActivities(deps: {
  openai: OpenAI;
  channel: TurnChannel;
  metrics?: AgentMetrics;
}): LlmActivities {
  return {
    async llmTurn(input: LlmTurnInput): Promise<LlmTurnResult> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const execution: CallExecution | undefined = ctx.info.workflowExecution;
      if (!execution) throw ApplicationFailure.nonRetryable('llmTurn runs for a call workflow only');
      const heartbeat = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
      ctx.heartbeat();
      const abort = new AbortController();
      const onCancel = () => abort.abort(ctx.cancellationSignal.reason);
      ctx.cancellationSignal.addEventListener('abort', onCancel);
      let watchdog: NodeJS.Timeout | undefined;
      let pause: NodeJS.Timeout | undefined;
      let stall: string | undefined;
      const arm = (ms: number, why: string) => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => {
          stall = why;
          abort.abort();
        }, ms);
      };
      try {
        const said =
          attempt > 1
            ? (
                await Promise.all([
                  deps.channel.releaseSticky(execution),
                  deps.channel.received(execution, input.turnId, input.step ?? 0),
                ])
              )[1]
            : [];
        const splitter = new SentenceSplitter();
        let seq = said.length;
        // Sentences go out one at a time, in order, from the stream and from the pause timer.
        let sending: Promise<void> = Promise.resolve();
        /** The model's first token (this worker's clock): told with this attempt's first sentence. */
        let firstTokenAt: number | undefined;
        const emit = (sentences: string[]): Promise<void> => {
          for (const text of sentences) {
            const sentence: SentenceReady = { turnId: input.turnId, seq: seq++, text, attempt };
            if (input.step) sentence.step = input.step;
            if (sentence.seq === said.length && firstTokenAt !== undefined)
              sentence.firstTokenAt = firstTokenAt;
            sending = sending.then(() => {
              ctx.cancellationSignal.throwIfAborted();
              return deps.channel.send(execution, sentence);
            });
          }
          return sending;
        };
        const prompt = windowedPrompt(input.systemPrompt, input.earlierMessages);
        const systemPrompt = said.length ? continuationPrompt(prompt, said.join(' ')) : prompt;
        const toolCalls = new Map<number, { id: string; name: string; args: string }>();
        arm(input.firstTokenTimeoutMs, `no first token within ${input.firstTokenTimeoutMs} ms`);
        const firstToken = deps.metrics?.modelFirstTokenSeconds.startTimer();
        let tokens = 0;
        const stream = await deps.openai.chat.completions.create(
          {
            model: input.model,
            stream: true,
            messages: [{ role: 'system', content: systemPrompt }, ...input.messages],
            tools: [
              END_CALL_TOOL,
              ...(input.tools ?? []).map((t) => ({ type: 'function' as const, function: t })),
            ],
          },
          { signal: abort.signal },
        );
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta;
          if (!delta?.content && !delta?.tool_calls?.length) continue;
          arm(input.stallTimeoutMs, `no token for ${input.stallTimeoutMs} ms`);
          if (tokens++ === 0) {
            firstToken?.();
            firstTokenAt = Date.now();
          }
          for (const call of delta.tool_calls ?? []) {
            const entry = toolCalls.get(call.index) ?? { id: '', name: '', args: '' };
            entry.id ||= call.id ?? '';
            entry.name += call.function?.name ?? '';
            entry.args += call.function?.arguments ?? '';
            toolCalls.set(call.index, entry);
          }
          if (!delta.content) continue;
          clearTimeout(pause);
          await emit(splitter.push(delta.content));
          pause = setTimeout(
            () => void emit(splitter.flushComplete()).catch(() => undefined),
            input.sentencePauseMs,
          );
        }
        clearTimeout(pause);
        // The openai package ends an aborted stream quietly: a stalled or barged-in turn must not look complete.
        if (stall) throw stalled(stall);
        ctx.cancellationSignal.throwIfAborted();
        await emit(splitter.end());
        return turnResult([...toolCalls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c));
      } catch (err) {
        // A cancelled turn (barge-in) rethrows the cancellation as it is.
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        deps.metrics?.modelErrors.inc({ kind: stall ? 'stall' : 'error' });
        if (stall) throw stalled(stall);
        throw toActivityFailure(err);
      } finally {
        clearInterval(heartbeat);
        clearTimeout(watchdog);
        clearTimeout(pause);
        ctx.cancellationSignal.removeEventListener('abort', onCancel);
      }
    },
  };
}
