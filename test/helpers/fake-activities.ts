import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type {
  Activities,
  LlmTurnInput,
  LlmTurnResult,
  ToolResult,
  ReconcileInput,
  ReconcileResult,
} from '../../activities/types';
import { FailureType, sentenceSignal } from '../../workflows/messages';
import { temporalTurnChannel } from '../../activities/turn-channel';
import {
  createTurnSpeechActivities,
  runningTurn,
  TurnSpeaker,
  withSpoken,
} from '../../activities/turn-speech';
import type { TurnSpeech } from '../../activities/types';
import type { VoipbinClient } from '../../src/voipbin/client';
import { VoipbinApiError, VoipbinNetworkError } from '../../src/voipbin/errors';

export interface ScriptedReply {
  sentences: string[];
  /** Send only this many sentences, then stream "forever" (until cancelled by a barge-in). */
  holdAfter?: number;
  /** The model endpoint fails. */
  fail?: boolean;
  /** The model calls the end_call tool. */
  endCall?: boolean;
}

/** What VoIPBIN answers to a `/say`: said, the session is gone (404), refused (400), or a timeout. */
export type SayAnswer = 'ok' | 'gone' | 'refused' | 'timeout';

/**
 * Activities that record every VoIPBIN request in order (`log`) and play scripted LLM replies,
 * as the real LLM activity does: a speaking turn (`speak`) says its sentences itself, recording
 * each on the test's Temporal server first (the real TurnSpeaker and channel), and its flush is
 * the real `flushTurn`; otherwise each sentence is signalled to the workflow. VoIPBIN's answers
 * can be scripted: `sayAnswer`, `reconcileAnswer`, `failCreate`.
 */
export class FakeCallActivities {
  readonly log: string[] = [];
  readonly llmInputs: LlmTurnInput[] = [];
  readonly reconcileInputs: ReconcileInput[] = [];
  readonly replies: ScriptedReply[] = [];
  sayAnswer: (text: string, speakingId: string) => SayAnswer = () => 'ok';
  reconcileAnswer: (input: ReconcileInput) => ReconcileResult = () => ({
    call: 'progressing',
    transcripts: [],
  });
  failCreate: { transcribe?: boolean; speaking?: boolean } = {};
  /**
   * Speaking turns run in the worker's process, where `cutTurn` finds them; false: as if on another
   * worker (the workflow then cuts them with `flushTurn`).
   */
  turnsHere = true;
  /**
   * A speaking turn's records tell it of the workflow's cancellation; false: they never do, and
   * only the SDK's heartbeat does (which may come first).
   */
  recordsTellCancel = true;
  toolAnswer: (name: string, args: string) => ToolResult = () => ({
    ok: true,
    content: '{"ok":true}',
    ms: 1,
  });
  /** Told of every sentence VoIPBIN took, by the workflow's `say` or a speaking turn. */
  onSaid: (text: string) => void = () => undefined;
  private speakings = 0;

  constructor(private readonly client: () => Client) {}

  activities(): Activities {
    const log = this.log;
    return {
      createTranscribe: async () => {
        log.push('createTranscribe');
        if (this.failCreate.transcribe)
          throw ApplicationFailure.nonRetryable('answered 403', 'VoipbinApiError');
        return { transcribeId: 'transcribe-1', adopted: false };
      },
      createSpeaking: async () => {
        log.push('createSpeaking');
        if (this.failCreate.speaking)
          throw ApplicationFailure.nonRetryable('answered 403', 'VoipbinApiError');
        return { speakingId: `speaking-${++this.speakings}`, adopted: false };
      },
      say: async ({ text, speakingId }) => {
        const answer = this.sayAnswer(text, speakingId);
        log.push(`say:${text}${answer === 'ok' ? '' : ` -> ${answer}`}`);
        if (answer === 'gone') {
          throw ApplicationFailure.create({
            type: FailureType.SpeakingGone,
            message: 'answered 404',
            nonRetryable: true,
            details: [{ httpStatus: 404 }],
          });
        }
        if (answer === 'refused') {
          throw ApplicationFailure.create({
            type: 'VoipbinApiError',
            message: 'answered 400',
            nonRetryable: true,
            details: [{ httpStatus: 400 }],
          });
        }
        if (answer === 'timeout') throw ApplicationFailure.retryable('timed out', 'VoipbinNetworkError');
        this.onSaid(text);
      },
      flush: async () => void log.push('flush'),
      stopSpeaking: async ({ speakingId }) => void log.push(`stopSpeaking:${speakingId}`),
      stopTranscribe: async () => void log.push('stopTranscribe'),
      hangupCall: async () => {
        log.push('hangupCall');
        return { status: 'terminating' };
      },
      reconcile: async (input) => {
        log.push('reconcile');
        this.reconcileInputs.push(input);
        return this.reconcileAnswer(input);
      },
      transferCall: async ({ to }) => {
        log.push(`transferCall:${to}`);
        return { transferId: 'transfer-1' };
      },
      callTool: async ({ tool, arguments: args }) => {
        log.push(`callTool:${tool.name}:${args}`);
        return this.toolAnswer(tool.name, args);
      },
      llmTurn: (input) => this.llmTurn(input),
      flushTurn: (input) => this.turnSpeech().flushTurn(input),
      cutTurn: (input) => this.turnSpeech().cutTurn(input),
    };
  }

  /** `flushTurn` and `cutTurn` as the worker has them, on the fake's VoIPBIN. */
  private turnSpeech() {
    return createTurnSpeechActivities({
      channel: temporalTurnChannel(this.client()),
      voipbin: this.voipbin(),
    });
  }

  /** The VoIPBIN requests a speaking turn and its flush make, logged and answered as scripted. */
  private voipbin(): VoipbinClient {
    const target = { method: 'POST', path: '/speakings/x/say' };
    const say = async (speakingId: string, text: string) => {
      const answer = this.sayAnswer(text, speakingId);
      this.log.push(`say:${text}${answer === 'ok' ? '' : ` -> ${answer}`}`);
      if (answer === 'gone')
        throw new VoipbinApiError({ ...target, httpStatus: 404, status: 'NOT_FOUND', reason: '' });
      if (answer === 'refused')
        throw new VoipbinApiError({ ...target, httpStatus: 400, status: 'INVALID_ARGUMENT', reason: '' });
      if (answer === 'timeout') throw new VoipbinNetworkError({ ...target, code: 'TIMEOUT' });
      this.onSaid(text);
      return {};
    };
    const flush = async () => {
      this.log.push('flush');
      return {};
    };
    return { say, flush } as unknown as VoipbinClient;
  }

  /** A speaking turn: says the scripted sentences itself, as activities/llm-turn.ts does. */
  private async speakingTurn(input: LlmTurnInput, reply: ScriptedReply): Promise<LlmTurnResult> {
    const ctx = Context.current();
    let stopped = false;
    const channel = temporalTurnChannel(this.client());
    if (!this.recordsTellCancel) {
      const record = channel.record.bind(channel);
      channel.record = async (token, speech) => ({
        ...(await record(token, speech)),
        cancelRequested: false,
      });
    }
    const speaker = new TurnSpeaker({
      channel,
      voipbin: this.voipbin(),
      speakingId: input.speak!.speakingId,
      taskToken: ctx.info.taskToken,
      cancellation: ctx,
      prior: ctx.info.heartbeatDetails as TurnSpeech | undefined,
      recordEveryMs: 50,
      onStop: () => (stopped = true),
      log: ctx.log,
      sdkHeartbeat: (speech) => ctx.heartbeat(speech),
    });
    speaker.start();
    // Findable by `cutTurn` unless the test puts the turn on "another worker".
    const notHere = this.turnsHere
      ? runningTurn(ctx.info.workflowExecution!, ctx.info.activityId, speaker)
      : undefined;
    try {
      if (reply.fail)
        throw withSpoken(
          ApplicationFailure.nonRetryable('model endpoint answered 500', 'LlmApiError'),
          speaker.spoken(),
        );
      speaker.say(reply.sentences.slice(speaker.prefix.length, reply.holdAfter ?? reply.sentences.length));
      if (reply.holdAfter !== undefined) {
        // Streams "forever": until the workflow cancels the turn (a record's answer, or the SDK's).
        while (!stopped) await new Promise((r) => setTimeout(r, 20));
      }
      await speaker.finish();
      speaker.throwIfDead();
      if (speaker.cancelled) {
        this.log.push(`llm-cancelled:${input.turnId}`);
        return { cancelled: true, spoken: speaker.spoken() };
      }
      return { ...(reply.endCall && { endCall: {} }), spoken: speaker.spoken() };
    } finally {
      speaker.close();
      notHere?.();
    }
  }

  private async llmTurn(input: LlmTurnInput): Promise<LlmTurnResult> {
    this.llmInputs.push(input);
    const reply = this.replies.shift() ?? { sentences: ['Okay.'] };
    if (input.speak) return this.speakingTurn(input, reply);
    const ctx = Context.current();
    if (reply.fail) throw ApplicationFailure.nonRetryable('model endpoint answered 500', 'LlmApiError');
    // To the run that started the turn, as the real activity does (activities/turn-channel.ts).
    const { workflowId, runId } = ctx.info.workflowExecution!;
    const handle = this.client().workflow.getHandle(workflowId, runId);
    const count = reply.holdAfter ?? reply.sentences.length;
    for (let seq = 0; seq < count; seq++) {
      await handle.signal(sentenceSignal, {
        turnId: input.turnId,
        seq,
        text: reply.sentences[seq]!,
        attempt: ctx.info.attempt,
      });
    }
    if (reply.holdAfter !== undefined) {
      for (;;) {
        ctx.heartbeat();
        try {
          await ctx.sleep(50);
        } catch (err) {
          this.log.push(`llm-cancelled:${input.turnId}`);
          throw err;
        }
      }
    }
    return reply.endCall ? { endCall: {} } : {};
  }
}
