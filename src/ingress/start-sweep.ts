import type { Logger } from '../logger';
import { TemporalUnavailableError, type CallWorkflows } from './call-workflows';
import type { Counters } from './metrics';

export interface StartSweepOptions {
  /** How many reconcile signals are in flight at once. */
  concurrency: number;
  counters: Counters;
  log: Logger;
  /** True once the ingress is closing: no more signals are sent. */
  stopped: () => boolean;
}

/**
 * Asks every running call workflow to reconcile. Run when the ingress starts: while it was not
 * listening, VoIPBIN's three webhook attempts may all have met a closed port, and those events
 * are gone. Returns how many workflows were asked. Throws TemporalUnavailableError when Temporal
 * cannot be reached (listing or signalling): the whole sweep is then due again. Any other
 * failure for one call is logged and the sweep goes on.
 */
export async function sweepRunningCalls(workflows: CallWorkflows, opts: StartSweepOptions): Promise<number> {
  const callIds: string[] = [];
  for await (const callId of workflows.runningCalls()) callIds.push(callId);
  let next = 0;
  let delivered = 0;
  let unavailable: TemporalUnavailableError | undefined;
  const worker = async (): Promise<void> => {
    while (!unavailable && !opts.stopped() && next < callIds.length) {
      const callId = callIds[next++]!;
      try {
        const outcome = await workflows.reconcile(callId, { reason: 'ingress-started' });
        opts.log.debug('reconcile requested', { callId, reason: 'ingress-started', outcome });
        if (outcome === 'delivered') {
          delivered++;
          opts.counters.inc('reconcile_sent');
        }
      } catch (err) {
        if (err instanceof TemporalUnavailableError) unavailable = err;
        else opts.log.warn('reconcile request failed', { callId, reason: 'ingress-started', error: err });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, callIds.length) }, worker));
  if (unavailable) throw unavailable;
  return delivered;
}
