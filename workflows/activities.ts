// Every activity the workflow calls is proxied here, once, grouped by latency and failure class.
import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { LlmActivities, VoipbinActivities } from '../activities/types';

/** VoIPBIN REST calls: milliseconds each; local, so no server round trip before the request. */
export const voipbin = proxyLocalActivities<VoipbinActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '3s', maximumAttempts: 6 },
});

/** The LLM turn: streams for seconds, heartbeats, cancelled on barge-in. */
export const llm = proxyActivities<LlmActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10s',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumAttempts: 2 },
});
