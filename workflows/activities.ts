// Every activity the workflow calls is proxied here, once, grouped by latency and failure class.
import {
  ActivityCancellationType,
  proxyActivities,
  proxyLocalActivities,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { LlmActivities, ToolActivities, VoipbinActivities } from '../activities/types';
import { FailureType } from './messages';

/**
 * VoIPBIN requests the next step waits for, all idempotent (a create adopts the session it
 * already made): local, so no server round trip before the request; replayed after a crash.
 */
export const voipbin = proxyLocalActivities<
  Pick<
    VoipbinActivities,
    'createTranscribe' | 'createSpeaking' | 'flush' | 'stopSpeaking' | 'stopTranscribe' | 'hangupCall'
  >
>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '3s', maximumAttempts: 6 },
});

/**
 * `/say`, at most once: a regular activity, whose completion the server records at once, never
 * retried (a timeout or a 5xx may have been said). A local activity would be re-run on replay
 * after a crash, and say the sentence twice. The heartbeat timeout (the activity heartbeats only
 * while a request is slow) notices a worker that died mid-request.
 */
export const speech = proxyActivities<Pick<VoipbinActivities, 'say'>>({
  startToCloseTimeout: '10s',
  heartbeatTimeout: '500ms',
  retry: { maximumAttempts: 1 },
});

/** Reconciliation reads VoIPBIN off the hot path: a local activity would hold up the workflow task. */
export const reads = proxyActivities<Pick<VoipbinActivities, 'reconcile'>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumAttempts: 3 },
});

/**
 * The LLM turn: streams for seconds, heartbeats, cancelled on barge-in. After a worker dies, its
 * next attempt starts about two seconds later (the 500 ms heartbeat timeout, plus the server
 * noticing: docs/benchmarks.md) and continues the same reply. A stalled model is not retried:
 * the caller hears the apology.
 * A cancelled turn is waited for only at the end of the call (call-state never waits for it: the
 * next turn starts at once), so that no stream outlives its call.
 */
const LLM_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '500ms',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '10ms',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: [FailureType.LlmStalled],
  },
};

export const llm = proxyActivities<Pick<LlmActivities, 'llmTurn'>>(LLM_OPTIONS);

/**
 * A speaking turn's step (LlmTurnInput `speak`): the same activity, under an id of its own
 * (call-state `turnActivityId`), by which its flush finds it on the server. It heartbeats by
 * itself (its records), and a cancelled one stops at its next record and returns what it said.
 */
export function speakingTurn(activityId: string): Pick<LlmActivities, 'llmTurn'> {
  return proxyActivities<Pick<LlmActivities, 'llmTurn'>>({ ...LLM_OPTIONS, activityId });
}

/**
 * The flush that cuts a speaking turn off: a regular activity, so that it starts only once the
 * workflow task that cancelled the turn is recorded (the turn's next record then answers that it
 * is cancelled: no `/say` of it can follow). Idempotent: retried.
 */
export const turnFlush = proxyActivities<Pick<LlmActivities, 'flushTurn'>>({
  // It may wait up to 3 s for a `/say` in flight, then send `/flush` (10 s at most).
  startToCloseTimeout: '15s',
  retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s', maximumAttempts: 5 },
});

/**
 * The same cut, at once, by the worker that runs the workflow task deciding it (a local activity):
 * when the turn runs in its process, it is silenced there and flushed with no round trip through
 * the server. Its answer is undefined when the turn runs elsewhere: `turnFlush` then. Idempotent.
 */
export const turnCut = proxyLocalActivities<Pick<LlmActivities, 'cutTurn'>>({
  // It may wait up to 3 s for a `/say` in flight, then send `/flush`.
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '1s', maximumAttempts: 3 },
});

/**
 * `POST /transfers`: a regular activity, recorded the moment it returns, so a failover never
 * transfers the call twice; a retry first asks VoIPBIN whether the call is still with the agent.
 */
export const transfers = proxyActivities<Pick<VoipbinActivities, 'transferCall'>>({
  startToCloseTimeout: '15s',
  heartbeatTimeout: '5s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumAttempts: 3 },
});

const toolProxies = new Map<number, ToolActivities>();

/**
 * An HTTP tool's activity, with its own timeout: one attempt may take the tool's `timeoutSeconds`
 * (then the model is told it timed out), plus a margin for the worker to notice. The heartbeat
 * timeout notices a dead worker; the retry (same `Idempotency-Key`) starts on another. A server
 * that cannot be reached or answers 5xx is tried 3 times in all.
 */
export function toolsOf(timeoutSeconds: number): ToolActivities {
  let proxy = toolProxies.get(timeoutSeconds);
  if (!proxy) {
    proxy = proxyActivities<ToolActivities>({
      startToCloseTimeout: `${Math.ceil(timeoutSeconds * 1000) + 5000}ms`,
      heartbeatTimeout: '1s',
      retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s', maximumAttempts: 3 },
    });
    toolProxies.set(timeoutSeconds, proxy);
  }
  return proxy;
}
