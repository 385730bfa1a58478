import { Context } from '@temporalio/activity';
import type OpenAI from 'openai';
import type { SentenceReady } from '../workflows/messages';
import { toActivityFailure } from './failures';
import { SentenceSplitter } from './sentences';
import type { LlmActivities, LlmTurnInput, LlmTurnResult } from './types';

/** Sends a finished sentence to the call workflow (a `sentence` signal). */
export type SentenceSink = (workflowId: string, sentence: SentenceReady) => Promise<void>;

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

/** While the model is silent (before its first token), heartbeats keep cancellation flowing. */
const HEARTBEAT_EVERY_MS = 1000;

function parseEndCall(args: string): { reason?: string } {
  try {
    const parsed = JSON.parse(args || '{}') as { reason?: unknown };
    return typeof parsed.reason === 'string' ? { reason: parsed.reason } : {};
  } catch {
    return {};
  }
}

/**
 * One LLM turn: streams the reply and hands each sentence to the workflow as soon as it is
 * complete, so the first `/say` does not wait for the whole reply.
 */
export function createLlmActivities(deps: { openai: OpenAI; sendSentence: SentenceSink }): LlmActivities {
  return {
    async llmTurn(input: LlmTurnInput): Promise<LlmTurnResult> {
      const ctx = Context.current();
      const heartbeat = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
      ctx.heartbeat();
      const splitter = new SentenceSplitter();
      let seq = 0;
      let text = '';
      const toolCalls = new Map<number, { name: string; args: string }>();
      const send = async (sentences: string[]) => {
        for (const sentence of sentences) {
          ctx.cancellationSignal.throwIfAborted();
          await deps.sendSentence(input.workflowId, { turnId: input.turnId, seq: seq++, text: sentence });
        }
      };
      try {
        const stream = await deps.openai.chat.completions.create(
          {
            model: input.model,
            stream: true,
            messages: [{ role: 'system', content: input.systemPrompt }, ...input.messages],
            tools: [END_CALL_TOOL],
          },
          { signal: ctx.cancellationSignal },
        );
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta;
          if (!delta) continue;
          if (delta.content) {
            text += delta.content;
            await send(splitter.push(delta.content));
          }
          for (const call of delta.tool_calls ?? []) {
            const entry = toolCalls.get(call.index) ?? { name: '', args: '' };
            entry.name += call.function?.name ?? '';
            entry.args += call.function?.arguments ?? '';
            toolCalls.set(call.index, entry);
          }
        }
        // The openai package ends an aborted stream quietly: a barged-in turn must not look complete.
        ctx.cancellationSignal.throwIfAborted();
        await send(splitter.end());
        const endCall = [...toolCalls.values()].find((c) => c.name === END_CALL_TOOL.function.name);
        return { text, sentences: seq, ...(endCall ? { endCall: parseEndCall(endCall.args) } : {}) };
      } catch (err) {
        // A cancelled turn (barge-in) rethrows the cancellation as it is.
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
        throw toActivityFailure(err);
      } finally {
        clearInterval(heartbeat);
      }
    },
  };
}
