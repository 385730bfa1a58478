// A call's timeline from a Temporal client: every run's history, and the live query while it runs.
import type { Client } from '@temporalio/client';
import { conversationQuery, type ConversationView } from '../../workflows/messages';
import { callHistories } from '../histories';
import { buildTimeline, type CallTimeline } from './timeline';

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
  const live = running ? await liveView(client, last.workflowId, last.runId) : undefined;
  return buildTimeline(last.workflowId, runs, live);
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
