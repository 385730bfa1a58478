// The call pages' reads from Temporal, each bounded by a deadline: a dead server answers 503, not
// a hung page.
import type { Client } from '@temporalio/client';
import { listCalls, type CallListFilters, type CallListing } from '../inspect/call-list';
import { loadCallTimeline } from '../inspect/load';
import type { CallPageView } from '../inspect/page';
import { temporalUiLink } from '../temporal/ui-link';
import { guardedBy } from './call-workflows';

/** What the call pages read: from Temporal here, from a fake in the routes' tests. */
export interface CallReads {
  list(filters: CallListFilters): Promise<CallListing[]>;
  /**
   * The call by its VoIPBIN call id or workflow id: `HistoryError` when Temporal has no such call.
   * Either throws `TemporalUnavailableError` when Temporal does not answer.
   */
  call(callId: string): Promise<CallPageView>;
}

export function temporalCallReads(
  client: Client,
  opts: { taskQueue: string; uiUrl?: string; deadlineMs?: number },
): CallReads {
  const guarded = guardedBy(client, opts.deadlineMs ?? 5000);
  return {
    list: (filters) => guarded(() => listCalls(client, opts.taskQueue, filters)),
    call: (callId) =>
      guarded(async () => {
        const timeline = await loadCallTimeline(client, callId);
        const temporalUi = temporalUiLink(opts.uiUrl, client.options.namespace, timeline.workflowId);
        return { timeline, ...(temporalUi && { temporalUi }) };
      }),
  };
}
