import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import type { Activities } from '../activities';

export interface CallWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (tests bundle once per file); by default the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Only to measure the alternative (bench/scenarios/failover-cost.ts): STICKY_QUEUE_TIMEOUT. */
  stickyQueueTimeout?: WorkerOptions['stickyQueueScheduleToStartTimeout'];
}

/**
 * How long a call's next workflow task waits on the sticky queue of the worker that has the call
 * cached before any worker may take it (replaying the history). The SDK's default is 10 s: after a
 * SIGKILL that is 10 s of dead air on every call the dead worker held. A task that waits this long
 * on a live worker means the worker is saturated, and another worker taking it is what we want.
 */
export const STICKY_QUEUE_TIMEOUT = '1s';

/** The call workflows a worker runs: `replay` replays histories against the same module. */
export const CALL_WORKFLOWS_PATH = require.resolve('../workflows');

/** The worker that runs call workflows and their activities. */
export function createCallWorker(opts: CallWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    activities: opts.activities,
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle }
      : { workflowsPath: CALL_WORKFLOWS_PATH }),
    stickyQueueScheduleToStartTimeout: opts.stickyQueueTimeout ?? STICKY_QUEUE_TIMEOUT,
    // Heartbeats reach the server at most every 500 ms (or 0.8 × an activity's heartbeat timeout,
    // if less), so a barged-in turn learns of its cancellation that quickly.
    maxHeartbeatThrottleInterval: '500ms',
    defaultHeartbeatThrottleInterval: '500ms',
  });
}
