/**
 * The OpenTelemetry half of ./tracing, imported only when tracing is on: the tracer provider with
 * the OTLP exporter of OTEL_EXPORTER_OTLP_PROTOCOL, and Temporal's interceptors on it.
 */
import {
  context,
  diag,
  DiagLogLevel,
  propagation,
  trace,
  type DiagLogFunction,
  type Tracer,
} from '@opentelemetry/api';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TracingConfig } from '../config';
import type { Logger } from '../logger';
import { PROJECT_ROOT } from '../paths';
import type { CallWorkerTracing } from '../worker';
import { tracingWorkflowModules, type ProcessRole, type Tracing } from './tracing';

export const ROLE_ATTRIBUTE = 'voipbin_agent.role';
/** Tells the replicas of one role apart (semantic conventions: still incubating, so spelled out). */
const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';

/**
 * How long shutdown waits for the last spans to be exported: a collector that does not answer
 * must not hold up a worker's exit (its drain has already used the grace period).
 */
export const SHUTDOWN_TIMEOUT_MS = 5000;

/** The exporter reads its URL, headers, timeout and compression from OTEL_EXPORTER_OTLP_(TRACES_)*. */
async function otlpExporter(protocol: TracingConfig['protocol']): Promise<SpanExporter> {
  switch (protocol) {
    case 'http/protobuf':
      return new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter();
    case 'http/json':
      return new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter();
    case 'grpc':
      return new (await import('@opentelemetry/exporter-trace-otlp-grpc')).OTLPTraceExporter();
  }
}

/**
 * `service.name` voipbin-agent, this build's version, the process's role and a fresh instance id;
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override them.
 */
export function tracingResource(role: ProcessRole): Resource {
  const { version } = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    version: string;
  };
  return Resource.default()
    .merge(
      new Resource({
        [ATTR_SERVICE_NAME]: 'voipbin-agent',
        [ATTR_SERVICE_VERSION]: version,
        [ATTR_SERVICE_INSTANCE_ID]: randomUUID(),
        [ROLE_ATTRIBUTE]: role,
      }),
    )
    .merge(envDetectorSync.detect());
}

/**
 * What of the workflow's info its spans carry. The package copies the whole of `WorkflowInfo` onto
 * every workflow span: its search attributes and memo (where a caller's number may be), the last
 * failure's message, nested objects no backend shows. The ids, the place and the history's size are
 * what a trace is searched and read by.
 */
export const WORKFLOW_SPAN_INFO = [
  'workflowId',
  'runId',
  'workflowType',
  'namespace',
  'taskQueue',
  'attempt',
  'historyLength',
  'historySize',
  'firstExecutionRunId',
  'continuedFromExecutionRunId',
  'currentBuildId',
] as const satisfies readonly (keyof WorkflowInfo)[];

/** The package's sink, given only WORKFLOW_SPAN_INFO of the workflow's info. */
function workflowSpanSink(processor: SpanProcessor, resource: Resource): InjectedSinks<OpenTelemetrySinks> {
  const sink = makeWorkflowExporter(processor, resource).export;
  return {
    exporter: {
      export: {
        // It does nothing with the info but Object.assign it onto each span's attributes.
        fn: (info, spans) => sink.fn(pickDefined(info, WORKFLOW_SPAN_INFO) as WorkflowInfo, spans),
      },
    },
  };
}

function pickDefined<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]])) as Partial<
    Pick<T, K>
  >;
}

/**
 * The worker's half: the activities' spans, the workflow interceptors (they run in the isolate,
 * where spans cannot be exported) and the sink that hands the workflows' spans to `processor`.
 * Replaying a history exports nothing: the sink is not called during replay.
 */
export function otelWorkerTracing(
  processor: SpanProcessor,
  resource: Resource,
  tracer: Tracer,
): CallWorkerTracing {
  return {
    activity: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
        // The trace and span ids in the activities' log lines.
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    workflowModules: tracingWorkflowModules(),
    sinks: workflowSpanSink(processor, resource),
  };
}

/** OpenTelemetry's own complaints (an export that failed) as warnings in our log. */
function diagToLog(log: Logger): void {
  const warn: DiagLogFunction = (message, ...args) => log.warn('OpenTelemetry', { detail: message, args });
  const none: DiagLogFunction = () => undefined;
  diag.setLogger(
    { error: warn, warn, info: none, debug: none, verbose: none },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

export async function startOtelTracing(
  config: TracingConfig,
  role: ProcessRole,
  log: Logger,
): Promise<Tracing> {
  diagToLog(log);
  const resource = tracingResource(role);
  // Batched (OTEL_BSP_* tune it): a span costs the call nothing but a push onto a queue.
  const processor = new BatchSpanProcessor(await otlpExporter(config.protocol));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  // The async-local context (a span's children are found across awaits) and the propagators of
  // OTEL_PROPAGATORS (W3C trace context and baggage by default), for the interceptors' headers.
  provider.register();
  log.info('tracing: spans are exported by OTLP', { protocol: config.protocol, role });

  const stop = async (): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), SHUTDOWN_TIMEOUT_MS);
    });
    try {
      const outcome = await Promise.race([provider.shutdown(), timeout]);
      if (outcome === 'timeout') {
        log.warn('tracing: the last spans were not exported in time, dropped', {
          timeoutMs: SHUTDOWN_TIMEOUT_MS,
        });
      }
    } finally {
      clearTimeout(timer);
      trace.disable();
      context.disable();
      propagation.disable();
      diag.disable();
    }
  };
  let stopping: Promise<void> | undefined;
  return {
    client: {
      workflow: [
        new OpenTelemetryWorkflowClientInterceptor({
          tracer: provider.getTracer('@temporalio/interceptor-client'),
        }),
      ],
    },
    worker: otelWorkerTracing(processor, resource, provider.getTracer('@temporalio/interceptor-activity')),
    shutdown: () => (stopping ??= stop()),
  };
}
