import type { Client } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import OpenAI from 'openai';
import { createActivities, temporalTurnChannel } from '../../activities';
import type { WorkerVersioning } from '../config';
import { ConfigError } from '../config-error';
import { countRunningCalls } from '../ingress/call-workflows';
import type { Logger } from '../logger';
import type { AgentMetrics } from '../metrics';
import { VoipbinClient } from '../voipbin/client';
import { createCallWorker, type CallWorkerTracing } from '../worker';
import { bundleCallWorkflows, readCallWorkflowsBundle } from '../workflow-bundle';
import { connectWorker, type TemporalTarget } from './temporal';
import { settleVersion } from './worker-version';

export interface WorkerRuntimeOptions {
  target: TemporalTarget;
  client: Client;
  taskQueue: string;
  voipbin: { baseUrl: string; apiKey: string };
  openai: { baseUrl?: string; apiKey?: string };
  /** WORKER_SHUTDOWN_GRACE_SECONDS: how long a drain lets running activities finish. */
  shutdownGraceMs: number;
  versioning?: WorkerVersioning;
  /** The Temporal UI, for each call's link in the log. */
  temporalUiUrl?: string;
  /** The calls' and the model's metrics go here (`GET /metrics`). */
  metrics?: AgentMetrics;
  /** The workflows' and activities' spans, when tracing is on. */
  tracing?: CallWorkerTracing;
  /** WORKFLOW_BUNDLE: the call workflows bundled ahead of time; unset, they are bundled here. */
  workflowBundlePath?: string;
  log: Logger;
}

export interface RunningWorker {
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  /**
   * Drains: polls no more, lets running activities (an LLM turn mid-reply, a `/say`) finish within
   * the grace period, then stops. The same promise however often it is called.
   */
  shutdown: () => Promise<void>;
}

/** Real calls need a real model: refuse to start rather than apologise on every turn. */
export function requireLlm(openai: { baseUrl?: string; apiKey?: string }): void {
  if (!openai.apiKey && !openai.baseUrl) {
    throw new ConfigError('OPENAI_API_KEY or OPENAI_BASE_URL is required to answer real calls');
  }
}

/**
 * WORKFLOW_BUNDLE's bundle, refused unless it was built from this build; else the call workflows
 * bundled now. With tracing on, the bundle must hold its workflow interceptors: one built without
 * them (the image's) is set aside, with a warning, and the workflows bundled here with them.
 */
async function callWorkflowsBundle(opts: WorkerRuntimeOptions): Promise<{ code: string }> {
  const workflowInterceptorModules = opts.tracing?.workflowModules ?? [];
  const bundleNow = () =>
    bundleCallWorkflows({ logger: Runtime.instance().logger, workflowInterceptorModules });
  const path = opts.workflowBundlePath;
  if (!path) return bundleNow();
  if (workflowInterceptorModules.length > 0) {
    try {
      return readCallWorkflowsBundle(path, { workflowInterceptorModules });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // This build's bundle without tracing's interceptors: usable, but its workflows would make no
      // spans. Another build's bundle is refused below as usual.
      readCallWorkflowsBundle(path);
      opts.log.warn('tracing is on and WORKFLOW_BUNDLE was built without it: bundling the workflows now', {
        path,
      });
      return bundleNow();
    }
  }
  const bundle = readCallWorkflowsBundle(path);
  opts.log.info('workflow bundle built ahead of time', { path });
  return bundle;
}

export async function startWorker(opts: WorkerRuntimeOptions): Promise<RunningWorker> {
  // Before anything connects: a bundle that does not match this build stops the start.
  const workflowBundle = await callWorkflowsBundle(opts);
  const connection = await connectWorker(opts.target);
  const openai = new OpenAI({
    baseURL: opts.openai.baseUrl,
    // Local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) take any key.
    apiKey: opts.openai.apiKey ?? 'not-needed',
    maxRetries: 0, // Temporal retries the activity
  });
  const activities = createActivities({
    voipbin: new VoipbinClient(opts.voipbin),
    openai,
    channel: temporalTurnChannel(opts.client),
    metrics: opts.metrics,
  });
  opts.metrics?.countActiveCalls(() => countRunningCalls(opts.client, opts.taskQueue));
  const versioning = opts.versioning;
  const worker = await createCallWorker({
    connection,
    namespace: opts.target.namespace,
    taskQueue: opts.taskQueue,
    activities,
    workflowBundle,
    shutdownGraceMs: opts.shutdownGraceMs,
    metrics: opts.metrics,
    calls: { log: opts.log, uiUrl: opts.temporalUiUrl },
    tracing: opts.tracing,
    ...(versioning && {
      version: { deploymentName: versioning.deploymentName, buildId: versioning.buildId },
    }),
  });
  const done = worker.run().finally(() => connection.close());
  opts.log.info('worker running', {
    taskQueue: opts.taskQueue,
    namespace: opts.target.namespace,
    ...(versioning && { deploymentName: versioning.deploymentName, buildId: versioning.buildId }),
  });
  const stopSettling = new AbortController();
  if (versioning) {
    void settleVersion({
      client: opts.client,
      namespace: opts.target.namespace,
      versioning,
      log: opts.log,
      signal: stopSettling.signal,
    });
  }

  // The SDK's own SIGINT/SIGTERM handler (Runtime `shutdownSignals`) may have begun the drain a
  // moment before this runs, right after the signal: it is timed from here all the same.
  const drain = async (): Promise<void> => {
    stopSettling.abort();
    const state = worker.getState();
    if (state === 'STOPPED' || state === 'FAILED') return done;
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    opts.log.info('worker draining: polls no more, lets running activities finish', {
      activities: worker.getStatus().numInFlightNonLocalActivities,
      graceMs: opts.shutdownGraceMs,
    });
    if (worker.getState() === 'RUNNING') worker.shutdown();
    try {
      await done;
    } catch (err) {
      opts.log.error('worker drain failed', { ms: elapsed(), error: err as Error });
      throw err;
    }
    opts.log.info('worker drained', { ms: elapsed() });
  };
  let draining: Promise<void> | undefined;
  return { done, shutdown: () => (draining ??= drain()) };
}
