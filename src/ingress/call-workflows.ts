import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import {
  CALL_WORKFLOW_TASK_TIMEOUT,
  callWorkflowId,
  callerSpeechSignal,
  type CallerSpeech,
  reconcileSignal,
  voipbinEventSignal,
  type CallEvent,
  type CallWorkflowInput,
  type ReconcileRequest,
} from '../../workflows/messages';
import { startSearchAttributes, upsertedByWorkflow } from '../../workflows/search-attributes';
import { NO_SEARCH_ATTRIBUTES, type SearchAttributeRegistry } from '../temporal/search-attributes';

/** Temporal did not answer: the event was not accepted, so the sender must retry (503). */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
}

export type SignalOutcome = 'delivered' | 'no-workflow' | 'call-ended';

/** How the ingress hands events to call workflows. */
export interface CallWorkflows {
  /**
   * Signals the call's workflow, starting it first if it has never run (an inbound call: the
   * ingress starts no other). `numbers`: the call's, for the opt-in phone number search attributes.
   */
  signalWithStart(input: CallWorkflowInput, event: CallEvent, numbers?: CallNumbers): Promise<SignalOutcome>;
  /** Signals the call's workflow only if it is running. */
  signal(callId: string, event: CallEvent): Promise<SignalOutcome>;
  /** Tells the call's workflow, if it is running, that the caller is speaking (before the final). */
  speech(callId: string, speech: CallerSpeech): Promise<SignalOutcome>;
  /** Asks the call's workflow, if it is running, to compare its view of the call with VoIPBIN's. */
  reconcile(callId: string, request: ReconcileRequest): Promise<SignalOutcome>;
  /** The call ids of the call workflows running on this task queue. */
  runningCalls(): AsyncIterable<string>;
}

export interface CallNumbers {
  caller: string;
  called: string;
}

/**
 * A call not answered yet (`dialing`, `ringing`) gives its workflow nothing to do but note its
 * status. Its first workflow task is held back (the start's delay) until `progressing` comes (a
 * SignalWithStart ends the delay at once; the event router sends a `ringing` after a start it
 * delivered as a plain signal, which does not), or this long: the call's first events reach the
 * workflow together, in one workflow task instead of one each, the commonest cost of a call's
 * start under load (docs/benchmarks.md). A `progressing` start is never held back. Other signals
 * (a hangup while it rings) do not end the delay: the workflow takes them this long after the call
 * came in, at most.
 */
export const PRE_ANSWER_START_DELAY = '1s';
const PRE_ANSWER = new Set(['dialing', 'ringing']);

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
const WORKFLOW_ID_PREFIX = callWorkflowId('');

/** Temporal could not be reached, or did not answer in time. */
function isUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === GRPC_UNAVAILABLE || e.code === GRPC_DEADLINE_EXCEEDED) return true;
    if (e instanceof Error && /failed to connect|connection refused|transport error/i.test(e.message))
      return true;
  }
  return false;
}

/** A visibility query string literal (single quotes doubled, as in SQL). */
export function quoted(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The visibility query for the call workflows running on a task queue. */
export function runningCallsQuery(taskQueue: string): string {
  return `WorkflowType = 'callWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = ${quoted(taskQueue)}`;
}

/** How many calls are running on the task queue, cluster-wide (one visibility count, bounded). */
export async function countRunningCalls(
  client: Client,
  taskQueue: string,
  deadlineMs = 2000,
): Promise<number> {
  const { count } = await client.withDeadline(Date.now() + deadlineMs, () =>
    client.workflow.count(runningCallsQuery(taskQueue)),
  );
  return count;
}

/**
 * Runs a Temporal request within `deadlineMs`; a server that cannot be reached is a
 * TemporalUnavailableError (the ingress answers 503), anything else is rethrown as it is.
 */
export function guardedBy(client: Client, deadlineMs: number) {
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await client.withDeadline(Date.now() + deadlineMs, fn);
    } catch (err) {
      if (isUnavailable(err)) throw new TemporalUnavailableError('Temporal is unreachable', { cause: err });
      throw err;
    }
  };
}

/** Signals through a Temporal client, each call bounded by a deadline shorter than VoIPBIN's timeout. */
export function temporalCallWorkflows(
  client: Client,
  taskQueue: string,
  opts: { deadlineMs?: number; searchAttributes?: SearchAttributeRegistry } = {},
): CallWorkflows {
  const searchAttributes = opts.searchAttributes ?? NO_SEARCH_ATTRIBUTES;
  const guarded = guardedBy(client, opts.deadlineMs ?? 5000);
  const signalled = (fn: () => Promise<void>): Promise<SignalOutcome> =>
    guarded(async () => {
      try {
        await fn();
        return 'delivered';
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return 'no-workflow';
        // The call's workflow already ran and closed: this event is late news about an ended call.
        if (err instanceof WorkflowExecutionAlreadyStartedError) return 'call-ended';
        throw err;
      }
    });
  const query = runningCallsQuery(taskQueue);
  return {
    signalWithStart: async (input, event, numbers) => {
      const registered = await searchAttributes.registered();
      const facts = {
        callId: input.callId,
        profile: input.profileName,
        direction: 'inbound' as const,
        ...numbers,
      };
      const kept = upsertedByWorkflow(registered);
      return signalled(async () => {
        await client.workflow.signalWithStart('callWorkflow', {
          workflowId: callWorkflowId(input.callId),
          taskQueue,
          args: [kept.length ? { ...input, searchAttributes: kept } : input],
          typedSearchAttributes: startSearchAttributes(facts, registered, searchAttributes.phoneNumbers),
          signal: voipbinEventSignal,
          signalArgs: [event],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          workflowTaskTimeout: CALL_WORKFLOW_TASK_TIMEOUT,
          ...(event.kind === 'call' &&
            PRE_ANSWER.has(event.status) && { startDelay: PRE_ANSWER_START_DELAY }),
        });
      });
    },
    signal: (callId, event) =>
      signalled(() => client.workflow.getHandle(callWorkflowId(callId)).signal(voipbinEventSignal, event)),
    speech: (callId, speech) =>
      signalled(() => client.workflow.getHandle(callWorkflowId(callId)).signal(callerSpeechSignal, speech)),
    reconcile: (callId, request) =>
      signalled(() => client.workflow.getHandle(callWorkflowId(callId)).signal(reconcileSignal, request)),
    runningCalls: async function* () {
      const executions = client.workflow.list({ query })[Symbol.asyncIterator]();
      for (;;) {
        // Each page is its own request: each gets the deadline, so a dead server cannot hang the sweep.
        const next = await guarded(() => executions.next());
        if (next.done) return;
        const { workflowId } = next.value;
        if (workflowId.startsWith(WORKFLOW_ID_PREFIX)) yield workflowId.slice(WORKFLOW_ID_PREFIX.length);
      }
    },
  };
}
