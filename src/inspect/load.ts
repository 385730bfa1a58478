// A call's timeline from a Temporal client: every run's history, and while it runs the live query and
// what its speaking turns have recorded so far.
import type { Client } from '@temporalio/client';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { TurnSpeech } from '../../activities/types';
import { conversationQuery, type ConversationView } from '../../workflows/messages';
import { callHistories } from '../histories';
import { buildTimeline, type CallTimeline, type SpeakingNow } from './timeline';

/** How long the live query may take: a call with no worker polling never answers it. */
const LIVE_QUERY_TIMEOUT_MS = 2_000;

/**
 * The call by its VoIPBIN call id or workflow id (`HistoryError` when Temporal has no such call).
 * While it runs, the workflow's own view adds its phase; no worker answering in time leaves it out.
 */
export async function loadCallTimeline(client: Client, callId: string): Promise<CallTimeline> {
  const runs = await callHistories(client, callId);
  const last = runs[runs.length - 1]!;
  const running = !last.history.events?.some(
    (e) =>
      e.workflowExecutionCompletedEventAttributes ||
      e.workflowExecutionFailedEventAttributes ||
      e.workflowExecutionCanceledEventAttributes ||
      e.workflowExecutionTerminatedEventAttributes ||
      e.workflowExecutionTimedOutEventAttributes ||
      e.workflowExecutionContinuedAsNewEventAttributes,
  );
  const [live, speaking] = running
    ? await Promise.all([
        liveView(client, last.workflowId, last.runId),
        speakingNow(client, last.workflowId, last.runId),
      ])
    : [];
  return buildTimeline(last.workflowId, runs, live, speaking);
}

/**
 * The sentences of the call's speaking turns still running (`replySpeech: direct`): in no history
 * event until the turn ends, they are in its heartbeat details, which the server describes. Left
 * out when the server does not answer.
 */
async function speakingNow(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<SpeakingNow | undefined> {
  try {
    const atMs = Date.now();
    const { raw } = await client.workflow.getHandle(workflowId, runId).describe();
    const turns = new Map<string, TurnSpeech>();
    for (const pending of raw.pendingActivities ?? []) {
      const payloads = pending.heartbeatDetails?.payloads;
      if (pending.activityType?.name !== 'llmTurn' || !pending.activityId || !payloads?.length) continue;
      const [speech] = (await decodeArrayFromPayloads(client.options.loadedDataConverter, payloads)) as [
        TurnSpeech | undefined,
      ];
      if (speech && Array.isArray(speech.said)) turns.set(pending.activityId, speech);
    }
    return { turns, atMs };
  } catch {
    return undefined;
  }
}

async function liveView(
  client: Client,
  workflowId: string,
  runId: string,
): Promise<ConversationView | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), LIVE_QUERY_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      client.workflow
        .getHandle(workflowId, runId)
        .query(conversationQuery)
        .catch(() => undefined),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
