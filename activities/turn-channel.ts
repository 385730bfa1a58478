import type { Client } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import { acceptSentence } from '../workflows/call-state';
import { sentenceSignal, type SentenceReady } from '../workflows/messages';

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
  };
}
