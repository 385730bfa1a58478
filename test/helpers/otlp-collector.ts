// A stand-in OpenTelemetry collector on a local port: it accepts what the OTLP exporters send
// (HTTP with JSON or protobuf bodies, or gRPC) and keeps it for the test to read.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttp2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface ExportRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A span as OTLP/JSON carries it, its attributes and its resource's made plain values. */
export interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  scope: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
  doubleValue?: number;
}
interface KeyValue {
  key: string;
  value: AnyValue;
}
interface TracesRequest {
  resourceSpans: {
    resource: { attributes: KeyValue[] };
    scopeSpans: {
      scope: { name: string };
      spans: {
        name: string;
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        attributes: KeyValue[];
      }[];
    }[];
  }[];
}

function plain(attributes: KeyValue[]): Record<string, unknown> {
  return Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue,
    ]),
  );
}

export interface OtlpCollector {
  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  endpoint: string;
  requests: ExportRequest[];
  /** The spans of every OTLP/JSON request so far. */
  spans(): ReceivedSpan[];
  close(): Promise<void>;
}

/** OTLP over HTTP: every POST is kept and answered 200 with an empty export response. */
export async function startHttpCollector(): Promise<OtlpCollector> {
  const requests: ExportRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const json = req.headers['content-type'] === 'application/json';
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    spans: () =>
      requests
        .filter((r) => r.headers['content-type'] === 'application/json')
        .flatMap((r) => (JSON.parse(r.body.toString()) as TracesRequest).resourceSpans)
        .flatMap((rs) =>
          rs.scopeSpans.flatMap((ss) =>
            ss.spans.map((s) => ({
              name: s.name,
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId && { parentSpanId: s.parentSpanId }),
              scope: ss.scope.name,
              attributes: plain(s.attributes),
              resource: plain(rs.resource.attributes),
            })),
          ),
        ),
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * OTLP over gRPC (HTTP/2): each call's message is kept, length prefix removed, and answered with an
 * empty ExportTraceServiceResponse and grpc-status 0.
 */
export async function startGrpcCollector(): Promise<Omit<OtlpCollector, 'spans'>> {
  const requests: ExportRequest[] = [];
  const server: Http2Server = createHttp2Server();
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const framed = Buffer.concat(chunks);
      requests.push({
        path: String(headers[':path']),
        headers,
        body: framed.subarray(5),
      });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.alloc(5)); // not compressed, zero bytes long
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sessions = new Set<{ destroy(): void }>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => {
      for (const s of sessions) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
