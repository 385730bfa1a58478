// The recent and running calls, from Temporal's visibility store: one row per call (its latest run),
// with what its search attributes say when the namespace has them. `GET /calls` serves it.
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { callWorkflowId } from '../../workflows/messages';
import { quoted } from '../ingress/call-workflows';
import { CallSearchAttributes } from '../../workflows/search-attributes';
import type { CallTimeline } from './timeline';

export type CallStatus = CallTimeline['status'];

/** Each status a call can have, and how Temporal's visibility queries name it. */
const EXECUTION_STATUS: Record<CallStatus, string> = {
  running: 'Running',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Canceled',
  terminated: 'Terminated',
  'timed-out': 'TimedOut',
};

const STATUS_OF_EXECUTION: Partial<Record<WorkflowExecutionInfo['status']['name'], CallStatus>> = {
  RUNNING: 'running',
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed-out',
};

export const CALL_STATUSES = Object.keys(EXECUTION_STATUS) as CallStatus[];

/** `ended`: every call that is not running, however it closed. */
export type StatusFilter = CallStatus | 'ended';

export interface CallListFilters {
  status?: StatusFilter;
  /** Only the calls of this profile: a query on the VoipbinProfile search attribute. */
  profile?: string;
  /** At most this many calls. */
  limit: number;
}

export interface CallListing {
  callId: string;
  workflowId: string;
  /** The call's latest run: a call that continued as new has several. */
  runId: string;
  runs: number;
  status: CallStatus;
  /** When the call's first run started. */
  startedAt: string;
  closedAt: string | null;
  /** From the call's search attributes: null when the namespace or the call has none. */
  profile: string | null;
  direction: string | null;
  /** The VoIPBIN call's status (dialing, ringing, progressing, ..., hangup). */
  callStatus: string | null;
  endReason: string | null;
  /** The call's page on this ingress. */
  page: string;
}

/** The query used a search attribute the namespace does not have. */
export class SearchAttributeMissingError extends Error {
  override name = 'SearchAttributeMissingError';
  constructor(
    readonly attribute: string,
    readonly namespace: string,
  ) {
    super(
      `the search attribute ${attribute} is not registered on the Temporal namespace ${namespace}: ` +
        `register it (\`temporal operator search-attribute create --namespace ${namespace} --name ${attribute} --type Keyword\`, ` +
        `or in Temporal Cloud's namespace settings), then new calls carry it`,
    );
  }
}

const CALL_WORKFLOW = `WorkflowType = 'callWorkflow'`;
const WORKFLOW_ID_PREFIX = callWorkflowId('');
/** How many workflow ids one query of earlier runs names. */
const IDS_PER_QUERY = 100;

/**
 * The visibility query of the calls on a task queue. A call that continued as new has one
 * execution per run; all but the latest closed as ContinuedAsNew, so leaving those out lists each
 * call once.
 */
export function callListQuery(taskQueue: string, filters: Omit<CallListFilters, 'limit'>): string {
  const parts = [CALL_WORKFLOW, `TaskQueue = ${quoted(taskQueue)}`, `ExecutionStatus != 'ContinuedAsNew'`];
  if (filters.status === 'ended') parts.push(`ExecutionStatus != 'Running'`);
  else if (filters.status) parts.push(`ExecutionStatus = '${EXECUTION_STATUS[filters.status]}'`);
  if (filters.profile !== undefined)
    parts.push(`${CallSearchAttributes.profile.name} = ${quoted(filters.profile)}`);
  return parts.join(' AND ');
}

/** Temporal refused the query for an attribute it does not know (INVALID_ARGUMENT naming it). */
function missingAttribute(err: unknown, attribute: string): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 3 && e instanceof Error && e.message.includes(attribute)) return true;
  }
  return false;
}

/**
 * Up to `limit` calls that match, newest first (by the start of their first run). Which ones, when
 * more match: Temporal's visibility order picks, the running calls first, then the latest closed.
 */
export async function listCalls(
  client: Client,
  taskQueue: string,
  filters: CallListFilters,
): Promise<CallListing[]> {
  const latest = new Map<string, WorkflowExecutionInfo>();
  try {
    const runs = client.workflow.list({
      query: callListQuery(taskQueue, filters),
      pageSize: Math.min(filters.limit, 100),
    });
    for await (const run of runs) {
      if (!STATUS_OF_EXECUTION[run.status.name]) continue; // continued as new while we read
      const seen = latest.get(run.workflowId);
      if (!seen || seen.startTime < run.startTime) latest.set(run.workflowId, run);
      if (latest.size >= filters.limit) break;
    }
  } catch (err) {
    const attribute = CallSearchAttributes.profile.name;
    if (filters.profile !== undefined && missingAttribute(err, attribute)) {
      throw new SearchAttributeMissingError(attribute, client.options.namespace);
    }
    throw err;
  }
  const earlier = await earlierRuns(client, [...latest.keys()]);
  return [...latest.values()]
    .map((run) => listing(run, earlier.get(run.workflowId)))
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** The runs before the latest of calls that continued as new: how many, and when the first began. */
async function earlierRuns(
  client: Client,
  workflowIds: string[],
): Promise<Map<string, { count: number; firstStart: Date }>> {
  const found = new Map<string, { count: number; firstStart: Date }>();
  for (let i = 0; i < workflowIds.length; i += IDS_PER_QUERY) {
    const ids = workflowIds.slice(i, i + IDS_PER_QUERY).map(quoted);
    const query = `${CALL_WORKFLOW} AND ExecutionStatus = 'ContinuedAsNew' AND WorkflowId IN (${ids.join(', ')})`;
    for await (const run of client.workflow.list({ query })) {
      const known = found.get(run.workflowId);
      if (!known) found.set(run.workflowId, { count: 1, firstStart: run.startTime });
      else {
        known.count += 1;
        if (run.startTime < known.firstStart) known.firstStart = run.startTime;
      }
    }
  }
  return found;
}

function listing(run: WorkflowExecutionInfo, earlier?: { count: number; firstStart: Date }): CallListing {
  const attributes = run.typedSearchAttributes;
  const callId =
    attributes.get(CallSearchAttributes.callId) ??
    (run.workflowId.startsWith(WORKFLOW_ID_PREFIX)
      ? run.workflowId.slice(WORKFLOW_ID_PREFIX.length)
      : run.workflowId);
  return {
    callId,
    workflowId: run.workflowId,
    runId: run.runId,
    runs: 1 + (earlier?.count ?? 0),
    status: STATUS_OF_EXECUTION[run.status.name]!,
    startedAt: (earlier?.firstStart ?? run.startTime).toISOString(),
    closedAt: run.closeTime?.toISOString() ?? null,
    profile: attributes.get(CallSearchAttributes.profile) ?? null,
    direction: attributes.get(CallSearchAttributes.direction) ?? null,
    callStatus: attributes.get(CallSearchAttributes.callStatus) ?? null,
    endReason: attributes.get(CallSearchAttributes.endReason) ?? null,
    page: `/calls/${encodeURIComponent(callId)}`,
  };
}
