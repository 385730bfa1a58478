import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type OpenAI from 'openai';
import type { AgentMetrics } from '../src/metrics';
import type { VoipbinClient } from '../src/voipbin/client';
import { FailureType, type SentenceReady } from '../workflows/messages';
import { continuationPrompt } from './continuation';
import { toActivityFailure } from './failures';
import { SentenceSplitter } from './sentences';
import type { CallExecution, TurnChannel } from './turn-channel';
import {
  createTurnSpeechActivities,
  ENDED_ON_HEARING_KEPT_MS,
  runningTurn,
  TurnSpeaker,
  withSpoken,
} from './turn-speech';
import type { LlmActivities, LlmTurnInput, LlmTurnResult, TurnSpeech, TurnSpoken } from './types';

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
 * is noticed quickly, and a barge-in's cancellation arrives with the next heartbeat's answer. A
 * speaking turn records its speech this often instead (activities/turn-speech.ts).
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

/**
 * The model stopped sending: not retried, the caller hears the apology within seconds. A speaking
 * turn's says what it said before the stall.
 */
function stalled(why: string, spoken?: TurnSpoken): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.LlmStalled,
    message: `model stalled: ${why}`,
    nonRetryable: true,
    ...(spoken && { details: [{ spoken }] }),
  });
}

/**
 * One LLM turn: streams the reply and hands each sentence on as soon as it is complete (or as soon
 * as the stream pauses after a sentence end), so the first `/say` does not wait for the whole
 * reply. A sentence goes to the workflow as a `sentence` signal, or, in a speaking turn
 * (`input.speak`), straight to `/say` (activities/turn-speech.ts). A retried attempt (the worker
 * running the turn died) continues the reply from what the caller already heard, never starts it
 * again: the sentences the workflow received, or those the speaking turn recorded.
 */
export function createLlmActivities(deps: {
  openai: OpenAI;
  channel: TurnChannel;
  /** A speaking turn's `/say`, and `flushTurn`'s `/flush`. */
  voipbin: VoipbinClient;
  metrics?: AgentMetrics;
}): LlmActivities {
  return {
    ...createTurnSpeechActivities(deps),

    async llmTurn(input: LlmTurnInput): Promise<LlmTurnResult> {
      const ctx = Context.current();
      const { attempt } = ctx.info;
      const execution: CallExecution | undefined = ctx.info.workflowExecution;
      if (!execution) throw ApplicationFailure.nonRetryable('llmTurn runs for a call workflow only');
      const abort = new AbortController();
      // A speaking turn's heartbeats are its records; the SDK's own, which would overwrite them,
      // only every 2 s, given the speech just recorded (TurnSpeaker).
      const speaker = input.speak
        ? new TurnSpeaker({
            channel: deps.channel,
            voipbin: deps.voipbin,
            speakingId: input.speak.speakingId,
            bargeIn: input.speak.bargeIn,
            taskToken: ctx.info.taskToken,
            cancellation: ctx,
            prior: attempt > 1 ? (ctx.info.heartbeatDetails as TurnSpeech | undefined) : undefined,
            recordEveryMs: HEARTBEAT_EVERY_MS,
            scheduledAt: ctx.info.currentAttemptScheduledTimestampMs,
            onStop: () => abort.abort(),
            log: ctx.log,
            sdkHeartbeat: (speech) => ctx.heartbeat(speech),
          })
        : undefined;
      let heartbeat: NodeJS.Timeout | undefined;
      // A barge-in decided by a workflow task on this worker cuts it off here (`cutTurn`).
      const notHere = speaker ? runningTurn(execution, ctx.info.activityId, speaker) : undefined;
      if (speaker) {
        speaker.start();
      } else {
        heartbeat = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
        ctx.heartbeat();
      }
      const onCancel = () => abort.abort(ctx.cancellationSignal.reason);
      // What ends the attempt with the cancellation itself: any cancellation for a plain turn; for
      // a speaking turn, one other than the workflow's (which it ends as cut off, with what it said).
      const stopNow = speaker?.halted ?? ctx.cancellationSignal;
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
      const toolCalls = new Map<number, { id: string; name: string; args: string }>();
      const calls = () => [...toolCalls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c);
      /**
       * The model's first token (this worker's clock): told with this attempt's first sentence, or
       * in a speaking turn's result.
       */
      let firstTokenAt: number | undefined;

      /**
       * How a speaking turn ends, whether its stream ended or failed (`failed`). The sentences
       * already complete are still said first, as the workflow says those signalled before a
       * failure (once cancelled, none is). Its result, or its failure's last detail, says what it
       * said. Cancelled (a record's answer), it returns what it said; dead (a record failed), it
       * throws at once: the server has moved on from this attempt.
       */
      const endSpeaking = async (s: TurnSpeaker, failed?: { error: unknown }): Promise<LlmTurnResult> => {
        clearTimeout(watchdog);
        clearTimeout(pause);
        s.throwIfDead();
        if (failed && !s.cancelled) deps.metrics?.modelErrors.inc({ kind: stall ? 'stall' : 'error' });
        // A turn about to return its result needs no last record (TurnSpeaker.finish).
        await s.finish({ completing: !failed });
        stopNow.throwIfAborted();
        s.throwIfDead();
        const onHearing = s.endedOnHearing();
        if (failed && !s.cancelled) {
          const spoken = s.spoken();
          throw stall ? stalled(stall, spoken) : withSpoken(failed.error, spoken);
        }
        return {
          ...turnResult(calls()),
          spoken: s.spoken(),
          ...(firstTokenAt !== undefined && { firstTokenAt }),
          ...(s.cancelled && { cancelled: true }),
          ...(onHearing && { onHearing }),
        };
      };

      try {
        // An earlier attempt was cut off (its record says so): this one says nothing more.
        if (speaker?.cancelled) return await endSpeaking(speaker);
        let failed: { error: unknown } | undefined;
        try {
          if (speaker && attempt > 1) await deps.channel.releaseSticky(execution);
          const said = speaker
            ? speaker.prefix
            : attempt > 1
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
          const emit = (sentences: string[]): Promise<void> => {
            if (speaker) {
              // Not waited for: the stream reads on while a `/say` is out, so a slow `/say` does
              // not hold the tokens back (nor look like a stalled model).
              speaker.say(sentences);
              return Promise.resolve();
            }
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
          stopNow.throwIfAborted();
          if (!speaker) {
            await emit(splitter.end());
            return turnResult(calls());
          }
          // A speaking turn stopped by the workflow's cancellation has said its last.
          if (!speaker.cancelled && !speaker.isDead()) speaker.say(splitter.end());
        } catch (err) {
          // A cancelled turn (barge-in) rethrows the cancellation as it is; a speaking turn, only
          // a worker shutdown's or a timed-out attempt's (the workflow's ends it with what it said).
          if (stopNow.aborted) throw stopNow.reason;
          if (!speaker) {
            deps.metrics?.modelErrors.inc({ kind: stall ? 'stall' : 'error' });
            if (stall) throw stalled(stall);
            throw toActivityFailure(err);
          }
          failed = { error: err };
        }
        return await endSpeaking(speaker, failed);
      } catch (err) {
        // The SDK reports its last heartbeat details with a failure: the newest speech, then. Not
        // on success: the result says what was said, and sdk-core sends a token's first heartbeat
        // at once, a needless write on the server for a turn shorter than SDK_HEARTBEAT_EVERY_MS.
        if (speaker && !speaker.isDead()) ctx.heartbeat(speaker.current());
        throw err;
      } finally {
        clearInterval(heartbeat);
        speaker?.close();
        // Cut off on hearing the caller, it ended before the workflow's task for those words ran:
        // that task's `cutTurn` finds its flush done here, a while yet.
        if (notHere && speaker?.endedOnHearing()) setTimeout(notHere, ENDED_ON_HEARING_KEPT_MS).unref();
        else notHere?.();
        clearTimeout(watchdog);
        clearTimeout(pause);
        ctx.cancellationSignal.removeEventListener('abort', onCancel);
      }
    },
  };
}
