import express from 'express';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logger';
import type { AgentMetrics } from '../metrics';

export interface ListeningServer {
  port: number;
  /** Stops listening and drops open connections (keep-alive ones would hold the close up). */
  close: () => Promise<void>;
}

/** `app` listening on `host:port` (0: any free port), once it is. */
export async function listen(app: express.Express, port: number, host: string): Promise<ListeningServer> {
  const server = app.listen(port, host);
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
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
): Promise<ListeningServer> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', metricsRoute(metrics, log));
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const server = await listen(app, port, host);
  log.info('worker metrics listening', { host, port: server.port, path: '/metrics' });
  return server;
}
