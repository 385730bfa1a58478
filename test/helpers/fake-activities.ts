import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities, LlmTurnInput, LlmTurnResult } from '../../activities/types';
import { sentenceSignal } from '../../workflows/messages';

export interface ScriptedReply {
  sentences: string[];
  /** Send only this many sentences, then stream "forever" (until cancelled by a barge-in). */
  holdAfter?: number;
  /** The model endpoint fails. */
  fail?: boolean;
  /** The model calls the end_call tool. */
  endCall?: boolean;
}

/**
 * Activities that record every VoIPBIN request in order and play scripted LLM replies,
 * signalling each sentence to the workflow as the real LLM activity does.
 */
export class FakeCallActivities {
  readonly log: string[] = [];
  readonly llmInputs: LlmTurnInput[] = [];
  readonly replies: ScriptedReply[] = [];

  constructor(private readonly client: () => Client) {}

  activities(): Activities {
    const log = this.log;
    return {
      createTranscribe: async () => {
        log.push('createTranscribe');
        return { transcribeId: 'transcribe-1' };
      },
      createSpeaking: async () => {
        log.push('createSpeaking');
        return { speakingId: 'speaking-1' };
      },
      say: async ({ text }) => void log.push(`say:${text}`),
      flush: async () => void log.push('flush'),
      stopSpeaking: async () => void log.push('stopSpeaking'),
      stopTranscribe: async () => void log.push('stopTranscribe'),
      hangupCall: async () => {
        log.push('hangupCall');
        return { status: 'terminating' };
      },
      getCall: async () => ({ status: 'progressing' }),
      llmTurn: (input) => this.llmTurn(input),
    };
  }

  private async llmTurn(input: LlmTurnInput): Promise<LlmTurnResult> {
    this.llmInputs.push(input);
    const reply = this.replies.shift() ?? { sentences: ['Okay.'] };
    const ctx = Context.current();
    if (reply.fail) throw ApplicationFailure.nonRetryable('model endpoint answered 500', 'LlmApiError');
    const handle = this.client().workflow.getHandle(input.workflowId);
    const count = reply.holdAfter ?? reply.sentences.length;
    for (let seq = 0; seq < count; seq++) {
      await handle.signal(sentenceSignal, { turnId: input.turnId, seq, text: reply.sentences[seq]! });
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
    return { text: reply.sentences.join(' '), sentences: count, ...(reply.endCall ? { endCall: {} } : {}) };
  }
}
