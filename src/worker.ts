import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import {
  Worker,
  type ActivityInterceptorsFactory,
  type InjectedSinks,
  type NativeConnection,
  type WorkerOptions,
} from '@temporalio/worker';
import type { Activities } from '../activities';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { CallMetricsSinks } from '../workflows/messages';
import { rememberKey } from './bounded';
import { temporalUiLink } from './temporal/ui-link';
import type { Logger } from './logger';
import type { AgentMetrics } from './metrics';

export interface CallWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (tests bundle once per file); by default the worker bundles `workflows/`. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Only to measure the alternative (bench/scenarios/failover-cost.ts): STICKY_QUEUE_TIMEOUT. */
  stickyQueueTimeout?: WorkerOptions['stickyQueueScheduleToStartTimeout'];
  /**
   * After shutdown begins, how long running activities may go on before they are cancelled (see
   * drainOptions). Unset, the SDK's default: cancel at once, and no force time (tests); the CLI
   * passes WORKER_SHUTDOWN_GRACE_SECONDS.
   */
  shutdownGraceMs?: number;
  /** Worker Versioning: the deployment version this build is. Unset: an unversioned worker. */
  version?: { deploymentName: string; buildId: string };
  /** Where the call workflows' reports go (barge-ins, reprompts, turns); unset, nowhere. */
  metrics?: AgentMetrics;
  /** Each call's start is logged here, with its page in the Temporal UI when `uiUrl` is known. */
  calls?: CallLog;
  /** OpenTelemetry (src/runtime/tracing.ts): spans of the workflows and activities; unset, none. */
  tracing?: CallWorkerTracing;
}

export interface CallLog {
  log: Logger;
  uiUrl?: string;
}

/** What tracing adds to the call worker; all of it from src/runtime/otel-tracing.ts. */
export interface CallWorkerTracing {
  /** A span for each activity run, a child of the workflow's span that scheduled it. */
  activity: ActivityInterceptorsFactory[];
  /**
   * The workflow interceptor modules, bundled with the workflows when the worker bundles them. A
   * prebuilt `workflowBundle` must have been bundled with them (`workflowInterceptorModules`), or
   * its workflows make no spans (the SDK warns that it ignores them).
   */
  workflowModules: string[];
  /** The sink through which the workflows' spans leave the isolate to be exported. */
  sinks: InjectedSinks<OpenTelemetrySinks>;
}

/**
 * The call workflows' metrics sink, fed to `metrics`; without it, every report is dropped (a
 * replay, a test). Never called while a history is replayed: a call a worker takes over after a
 * crash is not counted again.
 */
export function callSinks(metrics?: AgentMetrics, calls?: CallLog): InjectedSinks<CallMetricsSinks> {
  const sink = <A extends unknown[]>(fn: (m: AgentMetrics, ...args: A) => void) => ({
    fn: (_info: WorkflowInfo, ...args: A) => {
      if (metrics) fn(metrics, ...args);
    },
    callDuringReplay: false,
  });
  // A run starts and ends once, but the workflow task that ends it can fail on the server (a signal
  // came in meanwhile) and run again, not as a replay: its report is counted once, by run.
  const seen = new Set<string>();
  const oncePerRun = <A extends unknown[]>(what: string, fn: (m: AgentMetrics, ...args: A) => void) => ({
    fn: (info: WorkflowInfo, ...args: A) => {
      if (metrics && rememberKey(seen, `${what}:${info.runId}`, 10_000)) fn(metrics, ...args);
    },
    callDuringReplay: false,
  });
  return {
    callMetrics: {
      callStarted: {
        fn: (info: WorkflowInfo) => {
          if (!rememberKey(seen, `started:${info.runId}`, 10_000)) return;
          metrics?.callsStarted.inc();
          calls?.log.info('call started', {
            workflowId: info.workflowId,
            temporalUi: temporalUiLink(calls.uiUrl, info.namespace, info.workflowId),
          });
        },
        callDuringReplay: false,
      },
      callEnded: oncePerRun('ended', (m, reason) => m.callsEnded.inc({ reason })),
      turnEnded: sink((m, outcome) => m.turns.inc({ outcome })),
      firstSentence: sink((m, ms: number) => m.firstSentenceSeconds.observe(ms / 1000)),
      bargeIn: sink((m) => m.bargeIns.inc()),
      reprompt: sink((m) => m.reprompts.inc()),
    },
  };
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

/** Past the grace period, how long the worker may take to wind up before it gives up. */
export const SHUTDOWN_FORCE_MARGIN_MS = 5000;

/**
 * What `Worker.shutdown()` does in SDK 1.24 (read in @temporalio/core-bridge/sdk-core,
 * crates/sdk-core/src/worker/mod.rs `initiate_shutdown` and worker/activities.rs):
 * - It stops polling at once, workflow tasks and activity tasks alike, and calls the server's
 *   ShutdownWorker with this worker's sticky queue name: the calls it had cached get their next
 *   workflow tasks on the normal queue straight away (no `stickyQueueScheduleToStartTimeout` to
 *   wait out), so another worker carries them on while this one drains.
 * - Workflow tasks already in hand are completed, their local activities waited for.
 * - Running activities go on for `shutdownGraceTime` (heartbeats keep flowing, so a barge-in still
 *   cancels a turn); past it each gets a cancellation ('WORKER_SHUTDOWN') and is reported failed,
 *   so the server retries it elsewhere at once. The SDK's default grace is 0: an LLM turn is cut
 *   mid-reply and finishes as a second attempt on another worker, two seconds of dead air later.
 * - `run()` resolves once no activity is left; past `shutdownForceTime` it throws instead
 *   (GracefulShutdownPeriodExpiredError), for an activity that ignores its cancellation.
 * So a draining worker does no new workflow task: with no other worker on the queue, the
 * sentences its LLM turn finishes wait in the call's history for the next worker to say them.
 */
export function drainOptions(
  graceMs: number,
): Pick<WorkerOptions, 'shutdownGraceTime' | 'shutdownForceTime'> {
  return { shutdownGraceTime: graceMs, shutdownForceTime: graceMs + SHUTDOWN_FORCE_MARGIN_MS };
}

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
    sinks: { ...callSinks(opts.metrics, opts.calls), ...opts.tracing?.sinks },
    // A bundle holds the workflow interceptors it was built with (src/workflow-bundle.ts).
    ...(opts.tracing && {
      interceptors: {
        activity: opts.tracing.activity,
        ...(!opts.workflowBundle && { workflowModules: opts.tracing.workflowModules }),
      },
    }),
    stickyQueueScheduleToStartTimeout: opts.stickyQueueTimeout ?? STICKY_QUEUE_TIMEOUT,
    // Heartbeats reach the server at most every 500 ms (or 0.8 × an activity's heartbeat timeout,
    // if less), so a barged-in turn learns of its cancellation that quickly.
    maxHeartbeatThrottleInterval: '500ms',
    defaultHeartbeatThrottleInterval: '500ms',
    ...(opts.shutdownGraceMs !== undefined && drainOptions(opts.shutdownGraceMs)),
    // Pinned: a call stays on the build it started on to its end, whatever becomes current meanwhile,
    // and so does a run it continues as new (unless it asks for `initialVersioningBehavior:
    // 'AUTO_UPGRADE'`). While a worker of that build drains, only another of the same build takes
    // the call's tasks.
    ...(opts.version && {
      workerDeploymentOptions: {
        version: opts.version,
        useWorkerVersioning: true,
        defaultVersioningBehavior: 'PINNED' as const,
      },
    }),
  });
}
