/**
 * OpenTelemetry tracing, when an OTLP endpoint is configured (README "Tracing"). Unset, nothing of
 * OpenTelemetry is loaded: ./otel-tracing is imported only here, on demand, and no client or worker
 * gets an interceptor.
 */
import type { ClientInterceptors } from '@temporalio/client';
import type { TracingConfig } from '../config';
import type { Logger } from '../logger';
import type { CallWorkerTracing } from '../worker';

/** Which process the spans come from: the `voipbin_agent.role` resource attribute. */
export type ProcessRole = 'serve' | 'worker' | 'ingress' | 'call';

export interface Tracing {
  /** For the process's Temporal client: a span per start, signal, query, its context in the headers. */
  client: ClientInterceptors;
  /** For the call worker: the workflows' and activities' spans, children of the client's. */
  worker: CallWorkerTracing;
  /**
   * Exports the spans still buffered and stops: once the worker and the client are done, or the
   * last spans (a call's end, the process's last signals) are lost. The same promise however often
   * it is called.
   */
  shutdown: () => Promise<void>;
}

/**
 * The modules that make the workflows' spans, for the workflow bundle: the package's own, which
 * imports only @temporalio/workflow and OpenTelemetry's API and SDK. A bundle built ahead of time
 * must be built with them (`workflowInterceptorModules`) for a tracing worker to trace its
 * workflows; a worker (or a replay) that runs such a bundle needs the `exporter` sink, or the SDK
 * logs an unregistered sink at every activation. Resolved, not loaded.
 */
export function tracingWorkflowModules(): string[] {
  return [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];
}

/** Starts tracing if `config` says it is on (`AppConfig.tracing`); undefined, and nothing loaded, if not. */
export async function startTracing(
  config: TracingConfig | undefined,
  role: ProcessRole,
  log: Logger,
): Promise<Tracing | undefined> {
  if (!config) return undefined;
  const { startOtelTracing } = await import('./otel-tracing');
  return startOtelTracing(config, role, log);
}
