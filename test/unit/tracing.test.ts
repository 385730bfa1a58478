// Tracing's exporter, as each OTLP protocol and OpenTelemetry's standard variables configure it,
// against a stand-in collector on a local port; and its shutdown when the collector never answers.
import { trace } from '@opentelemetry/api';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TracingConfig } from '../../src/config';
import { createLogger, type LogFields } from '../../src/logger';
import { SHUTDOWN_TIMEOUT_MS } from '../../src/runtime/otel-tracing';
import { startTracing, type ProcessRole } from '../../src/runtime/tracing';
import { startGrpcCollector, startHttpCollector } from '../helpers/otlp-collector';

const OTEL_VARS = [
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
];

/** The exporters read OTEL_* from the process's environment when they are made. */
function setEnv(vars: Record<string, string>): void {
  for (const name of OTEL_VARS) delete process.env[name];
  Object.assign(process.env, vars);
}
afterEach(() => setEnv({}));

/** Tracing started, one span made and ended, then shut down; and what was logged. */
async function oneSpan(
  protocol: TracingConfig['protocol'],
  role: ProcessRole = 'worker',
): Promise<LogFields[]> {
  const lines: LogFields[] = [];
  const log = createLogger({
    level: 'debug',
    format: 'json',
    write: (l) => lines.push(JSON.parse(l) as LogFields),
  });
  const tracing = await startTracing({ protocol }, role, log);
  expect(tracing).toBeDefined();
  trace.getTracer('probe').startSpan('probe-span').end();
  await tracing!.shutdown();
  return lines;
}

it('starts nothing without an endpoint', async () => {
  expect(await startTracing(undefined, 'serve', createLogger({ write: () => undefined }))).toBeUndefined();
});

it('http/json: POST <endpoint>/v1/traces with the headers of OTEL_EXPORTER_OTLP_HEADERS, the resource from ours and the environment', async () => {
  const collector = await startHttpCollector();
  try {
    setEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=s3cret',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
    });
    await oneSpan('http/json', 'ingress');
    expect(collector.requests.map((r) => [r.path, r.headers['content-type']])).toEqual([
      ['/v1/traces', 'application/json'],
    ]);
    expect(collector.requests[0]!.headers['x-collector-token']).toBe('s3cret');
    const [span, ...more] = collector.spans();
    expect(more).toEqual([]);
    expect(span).toMatchObject({ name: 'probe-span', scope: 'probe' });
    expect(span!.resource).toMatchObject({
      'service.name': 'voipbin-agent',
      'service.version': '0.1.0',
      'voipbin_agent.role': 'ingress',
      'deployment.environment': 'test',
      'telemetry.sdk.language': 'nodejs',
    });
    expect(span!.resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
  } finally {
    await collector.close();
  }
});

it('OTEL_SERVICE_NAME names the service', async () => {
  const collector = await startHttpCollector();
  try {
    setEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, OTEL_SERVICE_NAME: 'agent-eu' });
    await oneSpan('http/json');
    expect(collector.spans()[0]!.resource).toMatchObject({
      'service.name': 'agent-eu',
      'voipbin_agent.role': 'worker',
    });
  } finally {
    await collector.close();
  }
});

it('http/protobuf: protobuf to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is', async () => {
  const collector = await startHttpCollector();
  try {
    setEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.endpoint}/custom/traces` });
    await oneSpan('http/protobuf');
    expect(collector.requests.map((r) => [r.path, r.headers['content-type']])).toEqual([
      ['/custom/traces', 'application/x-protobuf'],
    ]);
    // Strings are stored as they are in protobuf.
    const body = collector.requests[0]!.body.toString('latin1');
    expect(body).toContain('probe-span');
    expect(body).toContain('voipbin-agent');
  } finally {
    await collector.close();
  }
});

it('grpc: TraceService/Export with the headers as metadata', async () => {
  const collector = await startGrpcCollector();
  try {
    setEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=s3cret',
    });
    await oneSpan('grpc');
    expect(collector.requests.map((r) => r.path)).toEqual([
      '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    ]);
    expect(collector.requests[0]!.headers['x-collector-token']).toBe('s3cret');
    expect(collector.requests[0]!.body.toString('latin1')).toContain('probe-span');
  } finally {
    await collector.close();
  }
});

it('a collector that never answers holds shutdown up no longer than SHUTDOWN_TIMEOUT_MS', async () => {
  const silent = createServer(() => undefined); // reads the request, never answers
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    setEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` });
    const started = Date.now();
    const lines = await oneSpan('http/json');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS - 50);
    expect(took).toBeLessThan(SHUTDOWN_TIMEOUT_MS + 2000);
    expect(lines.map((l) => l['msg'])).toContain(
      'tracing: the last spans were not exported in time, dropped',
    );
  } finally {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  }
}, 15_000);
