import express from 'express';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger';
import type { AgentMetrics } from '../metrics';

export interface MetricsServer {
  port: number;
  close: () => Promise<void>;
}

/** Serves `GET /metrics` in the Prometheus text format; a failed scrape answers 500 and is logged. */
export function metricsRoute(metrics: AgentMetrics, log: Logger): express.RequestHandler {
  return async (_req, res) => {
    try {
      res.type(metrics.contentType).send(await metrics.scrape());
    } catch (err) {
      log.error('metrics scrape failed', { error: err as Error });
      res.status(500).type('text/plain').send('metrics scrape failed\n');
    }
  };
}

/** `worker`'s only HTTP: `GET /metrics` and `GET /healthz` on METRICS_PORT. */
export async function startMetricsServer(
  metrics: AgentMetrics,
  host: string,
  port: number,
  log: Logger,
): Promise<MetricsServer> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsRoute(metrics, log));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const server = app.listen(port, host);
  await once(server, 'listening');
  const bound = (server.address() as AddressInfo).port;
  log.info('worker metrics listening', { host, port: bound, path: '/metrics' });
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
