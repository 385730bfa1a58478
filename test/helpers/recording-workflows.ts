import type { CallWorkflows, SignalOutcome } from '../../src/ingress/call-workflows';
import type { CallEvent, CallerSpeech, CallWorkflowInput, ReconcileRequest } from '../../workflows/messages';

/** One request the ingress made of Temporal, as a `CallWorkflows` received it. */
export type Recorded =
  | { method: 'signalWithStart'; input: CallWorkflowInput; event: CallEvent }
  | { method: 'signal'; callId: string; event: CallEvent }
  | { method: 'reconcile'; callId: string; request: ReconcileRequest }
  | { method: 'speech'; callId: string; speech: CallerSpeech }
  | { method: 'runningCalls' };

/**
 * A `CallWorkflows` that records, in order, every request the ingress hands over, and answers as
 * told: `outcome`, or `error` thrown while set, or whatever `respond` decides per request.
 */
export class RecordingWorkflows implements CallWorkflows {
  readonly calls: Recorded[] = [];
  outcome: SignalOutcome = 'delivered';
  error: Error | undefined = undefined;
  /** What `runningCalls()` lists. */
  running: string[] = [];
  respond: (request: Recorded) => SignalOutcome | Promise<SignalOutcome> = () => {
    if (this.error !== undefined) throw this.error;
    return this.outcome;
  };

  async signalWithStart(input: CallWorkflowInput, event: CallEvent): Promise<SignalOutcome> {
    return this.answer({ method: 'signalWithStart', input, event });
  }

  async signal(callId: string, event: CallEvent): Promise<SignalOutcome> {
    return this.answer({ method: 'signal', callId, event });
  }

  async speech(callId: string, speech: CallerSpeech): Promise<SignalOutcome> {
    return this.answer({ method: 'speech', callId, speech });
  }

  async reconcile(callId: string, request: ReconcileRequest): Promise<SignalOutcome> {
    return this.answer({ method: 'reconcile', callId, request });
  }

  async *runningCalls(): AsyncIterable<string> {
    const request: Recorded = { method: 'runningCalls' };
    await this.answer(request);
    yield* this.running;
  }

  private async answer(request: Recorded): Promise<SignalOutcome> {
    this.calls.push(request);
    return this.respond(request);
  }
}
