import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import {
  callWorkflowId,
  voipbinEventSignal,
  type CallEvent,
  type CallWorkflowInput,
} from '../../workflows/messages';

/** Temporal did not answer: the event was not accepted, so the sender must retry (503). */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
}

export type SignalOutcome = 'delivered' | 'no-workflow' | 'call-ended';

/** How the ingress hands events to call workflows. */
export interface CallWorkflows {
  /** Signals the call's workflow, starting it first if it has never run. */
  signalWithStart(input: CallWorkflowInput, event: CallEvent): Promise<SignalOutcome>;
  /** Signals the call's workflow only if it is running. */
  signal(callId: string, event: CallEvent): Promise<SignalOutcome>;
}

const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

function isUnavailable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === GRPC_UNAVAILABLE || e.code === GRPC_DEADLINE_EXCEEDED) return true;
    if (e instanceof Error && /failed to connect|connection refused|transport error/i.test(e.message))
      return true;
  }
  return false;
}

/** Signals through a Temporal client, each call bounded by a deadline shorter than VoIPBIN's timeout. */
export function temporalCallWorkflows(client: Client, taskQueue: string, deadlineMs = 5000): CallWorkflows {
  const guarded = async (fn: () => Promise<SignalOutcome>): Promise<SignalOutcome> => {
    try {
      return await client.withDeadline(Date.now() + deadlineMs, fn);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return 'no-workflow';
      // The call's workflow already ran and closed: this event is late news about an ended call.
      if (err instanceof WorkflowExecutionAlreadyStartedError) return 'call-ended';
      if (isUnavailable(err)) throw new TemporalUnavailableError('Temporal is unreachable', { cause: err });
      throw err;
    }
  };
  return {
    signalWithStart: (input, event) =>
      guarded(async () => {
        await client.workflow.signalWithStart('callWorkflow', {
          workflowId: callWorkflowId(input.callId),
          taskQueue,
          args: [input],
          signal: voipbinEventSignal,
          signalArgs: [event],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
        return 'delivered';
      }),
    signal: (callId, event) =>
      guarded(async () => {
        await client.workflow.getHandle(callWorkflowId(callId)).signal(voipbinEventSignal, event);
        return 'delivered';
      }),
  };
}
