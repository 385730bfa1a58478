import type { Client } from '@temporalio/client';
import { decodeArrayFromPayloads, encodeToPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { acceptSentence } from '../workflows/call-state';
import { sentenceSignal, type SentenceReady } from '../workflows/messages';
import type { TurnSpeech } from './types';

export interface CallExecution {
  workflowId: string;
  runId?: string;
}

/** How the LLM activity talks to its call's workflow. */
export interface TurnChannel {
  /** Hands a finished sentence to the workflow (a `sentence` signal). */
  send(execution: CallExecution, sentence: SentenceReady): Promise<void>;
  /**
   * The sentences of the turn that the workflow has received, in order, read from its history:
   * the record that counts (an earlier attempt's heartbeats can lag behind what it signalled).
   */
  received(execution: CallExecution, turnId: number, step?: number): Promise<string[]>;
  /**
   * The worker the call was sticky to may be dead: its next workflow task goes to the normal task
   * queue at once, instead of waiting out `stickyQueueScheduleToStartTimeout` on a queue nobody polls.
   */
  releaseSticky(execution: CallExecution): Promise<void>;
  /**
   * A speaking turn's record: its speech, as its activity's heartbeat details, written on the
   * server before a `/say` goes out (the SDK's own heartbeats are throttled and asynchronous).
   * `cancelRequested`: the workflow has cancelled the turn. Throws when this attempt is no longer
   * the running one (it timed out and was retried): it must say nothing more.
   */
  record(taskToken: Uint8Array, speech: TurnSpeech): Promise<{ cancelRequested: boolean }>;
  /**
   * A speaking turn's activity as the server has it: still running, with its last record, or
   * ended (its result or failure says what it said).
   */
  turnSpeech(
    execution: CallExecution,
    activityId: string,
  ): Promise<{ running: boolean; speech?: TurnSpeech }>;
}

export function temporalTurnChannel(client: Client): TurnChannel {
  const handle = (e: CallExecution) => client.workflow.getHandle(e.workflowId, e.runId);
  return {
    send: (execution, sentence) => handle(execution).signal(sentenceSignal, sentence),
    async received(execution, turnId, step = 0) {
      const history = await handle(execution).fetchHistory();
      // The workflow's own rule decides which of the signals it accepted.
      const turn = { id: turnId, step, attempt: 1, received: 0, refused: 0 };
      const texts: string[] = [];
      for (const event of history.events ?? []) {
        const signal = event.workflowExecutionSignaledEventAttributes;
        if (signal?.signalName !== sentenceSignal.name) continue;
        const [sentence] = (await decodeArrayFromPayloads(
          client.options.loadedDataConverter,
          signal.input?.payloads,
        )) as [SentenceReady];
        if (acceptSentence(turn, sentence)) texts.push(sentence.text);
      }
      return texts;
    },
    async releaseSticky(execution) {
      await client.workflowService.resetStickyTaskQueue({ namespace: client.options.namespace, execution });
    },
    // Straight to the service, not through `client.activity.heartbeat`: its answer is needed as
    // it is (a cancellation is news to act on, not an error), and its failures unchanged.
    async record(taskToken, speech) {
      const response = await client.workflowService.recordActivityTaskHeartbeat({
        namespace: client.options.namespace,
        taskToken,
        details: { payloads: await encodeToPayloads(client.options.loadedDataConverter, speech) },
        identity: client.options.identity,
      });
      return { cancelRequested: !!response.cancelRequested };
    },
    async turnSpeech(execution, activityId) {
      const { pendingActivities } = await client.workflowService.describeWorkflowExecution({
        namespace: client.options.namespace,
        execution: { workflowId: execution.workflowId, runId: execution.runId },
      });
      const pending = pendingActivities?.find((a) => a.activityId === activityId);
      if (!pending) return { running: false };
      const [speech] = await decodeArrayFromPayloads(
        client.options.loadedDataConverter,
        pending.heartbeatDetails?.payloads,
      );
      return { running: true, speech: speech as TurnSpeech | undefined };
    },
  };
}
