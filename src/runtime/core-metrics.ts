import { createServer } from 'node:net';
import type { PrometheusMetricsExporter } from '@temporalio/worker';

/** The Temporal runtime's own metrics, exported on a loopback port and read back at each scrape. */
export interface CoreMetrics {
  /** For `Runtime.install({ telemetryOptions: { metrics } })`. */
  exporter: PrometheusMetricsExporter;
  /** The exporter's text, to append to the agent's scrape. */
  scrape: () => Promise<string>;
}

/** A loopback port free right now (the runtime binds it a moment later). */
async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Temporal's Core exports the SDK's worker metrics (task slots, poll and schedule-to-start
 * latencies, sticky cache, activity and workflow task outcomes) only through its own Prometheus
 * endpoint. It listens on loopback, never exposed: `GET /metrics` fetches it and serves both in one
 * scrape. Names follow Prometheus' conventions: `temporal_*`, counters in `_total`, durations in
 * seconds with the unit in the name.
 */
export async function coreMetrics(): Promise<CoreMetrics> {
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}/metrics`;
  return {
    exporter: {
      prometheus: {
        bindAddress: `127.0.0.1:${port}`,
        countersTotalSuffix: true,
        unitSuffix: true,
        useSecondsForDurations: true,
      },
    },
    scrape: async () => {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) throw new Error(`Temporal runtime metrics answered ${res.status}`);
      return res.text();
    },
  };
}
