import { CALL_STATUS_RANK, type CallWorkflowInput } from '../../workflows/messages';
import type { Logger } from '../logger';
import type { CallSnapshot } from './call-signals';
import {
  TemporalUnavailableError,
  type CallNumbers,
  type CallWorkflows,
  type SignalOutcome,
} from './call-workflows';
import type { Counters } from './metrics';
import { sweepRunningCalls } from './start-sweep';

/** Runs `run` once after `delayMs`; returns what cancels it. Tests pass one they fire by hand. */
export type Schedule = (run: () => void, delayMs: number) => () => void;

const timerSchedule: Schedule = (run, delayMs) => {
  const timer = setTimeout(run, delayMs);
  // The ingress's server keeps the process alive; a pending retry must not.
  timer.unref();
  return () => clearTimeout(timer);
};

export interface RefusedEventsOptions {
  workflows: CallWorkflows;
  counters: Counters;
  log: Logger;
  /** Calls remembered at most; past it the oldest is forgotten (and counted). Default 10 000. */
  capacity?: number;
  /** Pause between rounds while anything is pending. Default 1000 ms, VoIPBIN's own retry pace. */
  retryEveryMs?: number;
  /**
   * Attempts before a call (or the start sweep) that fails with anything but Temporal being
   * unreachable is given up. Default 5.
   */
  maxFailures?: number;
  /** Reconcile signals in flight at once during the start sweep. Default 8. */
  sweepConcurrency?: number;
  schedule?: Schedule;
}

/** Snapshots arrive out of order: the one as far as the kept one, or further, is the newest. */
function isFurther(call: CallSnapshot, kept: CallSnapshot): boolean {
  return CALL_STATUS_RANK[call.status] >= CALL_STATUS_RANK[kept.status];
}

interface Pending {
  callId: string;
  /** The refused event would have started the call's workflow: start it late rather than never. */
  start?: { input: CallWorkflowInput; call: CallSnapshot; numbers?: CallNumbers };
  /** Bumped on every refusal, so a retry that began before the latest one does not clear it. */
  version: number;
  failures: number;
}

/**
 * What the ingress may have dropped, and the background loop that makes up for it. VoIPBIN gives up
 * on a webhook after three attempts a second apart, so an event answered 503 while Temporal was down
 * may never come again. Each call with a refused event is remembered; once Temporal answers, its
 * workflow is started if the event would have started it, then asked to reconcile with VoIPBIN.
 * At start-up every running call is asked too (`requestSweep`), as events may have met a closed port.
 */
export class RefusedEvents {
  private readonly calls = new Map<string, Pending>();
  private readonly capacity: number;
  private readonly retryEveryMs: number;
  private readonly maxFailures: number;
  private readonly schedule: Schedule;
  private sweepDue = false;
  private sweepFailures = 0;
  /** Said once per outage, not every second. */
  private sweepPostponed = false;
  private cancelTimer: (() => void) | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: RefusedEventsOptions) {
    this.capacity = options.capacity ?? 10_000;
    this.retryEveryMs = options.retryEveryMs ?? 1000;
    this.maxFailures = options.maxFailures ?? 5;
    this.schedule = options.schedule ?? timerSchedule;
  }

  /** An event of this call was refused (Temporal unreachable); `call` is its snapshot if it was a call event. */
  remember(callId: string, call?: CallSnapshot): void {
    const entry = this.entry(callId);
    if (call && entry.start && isFurther(call, entry.start.call))
      entry.start = { input: entry.start.input, call };
    this.wake(this.retryEveryMs);
  }

  /** A refused event would have started the call's workflow. */
  rememberStart(input: CallWorkflowInput, call: CallSnapshot, numbers?: CallNumbers): void {
    const entry = this.entry(input.callId);
    if (!entry.start || isFurther(call, entry.start.call)) entry.start = { input, call, numbers };
    this.wake(this.retryEveryMs);
  }

  /** The call's workflow was started (or found closed) meanwhile: only the reconcile is left to do. */
  started(callId: string): void {
    const entry = this.calls.get(callId);
    if (entry) entry.start = undefined;
  }

  /** Asks every running call to reconcile, in the background, retried until Temporal answers. */
  requestSweep(): void {
    this.sweepDue = true;
    this.sweepFailures = 0;
    this.wake(0);
  }

  /** One round now (or the round in flight): the sweep if due, then every remembered call. */
  runRound(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.inFlight ??= this.round()
      .catch((err: unknown) => this.options.log.error('reconcile round failed', { error: err as Error }))
      .finally(() => {
        this.inFlight = undefined;
        if (this.sweepDue || this.calls.size > 0) this.wake(this.retryEveryMs);
      });
    return this.inFlight;
  }

  /** Stops the loop; resolves once the round in flight, if any, has stopped. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.inFlight;
  }

  private wake(delayMs: number): void {
    if (this.closed || this.cancelTimer || this.inFlight) return;
    this.cancelTimer = this.schedule(() => {
      this.cancelTimer = undefined;
      void this.runRound();
    }, delayMs);
  }

  /** The call's entry, created if new, marked as refused once more and moved to the newest place. */
  private entry(callId: string): Pending {
    const { counters, log } = this.options;
    let entry = this.calls.get(callId);
    if (entry) {
      this.calls.delete(callId);
    } else {
      entry = { callId, version: 0, failures: 0 };
      counters.inc('events_refused_pending');
    }
    entry.version++;
    this.calls.set(callId, entry);
    if (this.calls.size > this.capacity) {
      const oldest = this.calls.values().next();
      if (!oldest.done) {
        this.forget(oldest.value);
        counters.inc('events_refused_dropped');
        log.warn('too many calls with refused events: forgot the oldest', {
          callId: oldest.value.callId,
          capacity: this.capacity,
        });
      }
    }
    return entry;
  }

  private forget(entry: Pending): void {
    if (this.calls.get(entry.callId) !== entry) return;
    this.calls.delete(entry.callId);
    this.options.counters.inc('events_refused_pending', -1);
  }

  private async round(): Promise<void> {
    if (this.sweepDue && !(await this.sweep())) return;
    let reconciled = 0;
    for (const callId of [...this.calls.keys()]) {
      if (this.closed) break;
      const result = await this.retry(callId);
      if (result === 'reconciled') reconciled++;
      // Temporal still unreachable: the others wait for the next round.
      if (result === 'unavailable') break;
    }
    if (reconciled > 0) {
      this.options.log.info('reconciled calls whose events were refused', {
        calls: reconciled,
        pending: this.calls.size,
      });
    }
  }

  /** False when Temporal is unreachable. */
  private async sweep(): Promise<boolean> {
    const { workflows, counters, log } = this.options;
    try {
      const calls = await sweepRunningCalls(workflows, {
        concurrency: this.options.sweepConcurrency ?? 8,
        counters,
        log,
        stopped: () => this.closed,
      });
      if (!this.closed) this.sweepDue = false;
      this.sweepPostponed = false;
      log.info('asked every running call to reconcile', { calls });
      return true;
    } catch (err) {
      if (err instanceof TemporalUnavailableError) {
        if (!this.sweepPostponed) log.warn('temporal unreachable: start sweep postponed');
        this.sweepPostponed = true;
        return false;
      }
      this.sweepFailures++;
      if (this.sweepFailures >= this.maxFailures) {
        this.sweepDue = false;
        log.error('start sweep given up', { attempts: this.sweepFailures, error: err as Error });
      } else {
        log.warn('start sweep failed, will retry', { attempt: this.sweepFailures, error: err as Error });
      }
      return true;
    }
  }

  private async retry(callId: string): Promise<'reconciled' | 'unavailable' | 'failed' | 'gone'> {
    const { workflows, counters, log } = this.options;
    const entry = this.calls.get(callId);
    if (!entry) return 'gone';
    const { version, start } = entry;
    try {
      if (start) {
        const outcome = await workflows.signalWithStart(start.input, start.call, start.numbers);
        if (entry.start === start) entry.start = undefined;
        counters.inc('events_refused_started');
        log.info('started a call whose start was refused', { callId, outcome });
        // A closed workflow (REJECT_DUPLICATE) has nothing left to reconcile.
        if (outcome === 'call-ended') return this.settled(entry, version, outcome);
      }
      const outcome = await workflows.reconcile(callId, { reason: 'events-refused' });
      if (outcome === 'delivered') counters.inc('reconcile_sent');
      return this.settled(entry, version, outcome);
    } catch (err) {
      if (err instanceof TemporalUnavailableError) {
        log.debug('temporal still unreachable: reconcile postponed', { pending: this.calls.size });
        return 'unavailable';
      }
      entry.failures++;
      if (entry.failures >= this.maxFailures) {
        this.forget(entry);
        counters.inc('events_refused_abandoned');
        log.error('reconcile of a call given up', { callId, attempts: entry.failures, error: err as Error });
      } else {
        log.warn('reconcile of a call failed, will retry', {
          callId,
          attempt: entry.failures,
          error: err as Error,
        });
      }
      return 'failed';
    }
  }

  private settled(entry: Pending, version: number, outcome: SignalOutcome): 'reconciled' {
    this.options.log.debug('reconcile requested', {
      callId: entry.callId,
      reason: 'events-refused',
      outcome,
    });
    // Refused again while this was under way: the next round asks again.
    if (entry.version === version) this.forget(entry);
    return 'reconciled';
  }
}
