import { Client, Connection, type ClientInterceptors } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { AppConfig } from '../config';
import type { Logger } from '../logger';
import { startDevServer, type DevServer } from '../temporal/dev-server';

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** Connection options from TEMPORAL_* (TLS, API key) when connecting to a cluster. */
  options: Record<string, unknown>;
  devServer?: DevServer;
}

/** The cluster from TEMPORAL_*, or, when `embedded` and no TEMPORAL_ADDRESS, a dev server of our own. */
export async function resolveTemporal(
  config: Pick<AppConfig, 'temporal'>,
  log: Logger,
  embedded: boolean,
): Promise<TemporalTarget> {
  const t = config.temporal;
  if (t.external) {
    const options = t.external.connectionOptions as Record<string, unknown>;
    return { address: String(options.address), namespace: t.namespace, options };
  }
  if (!embedded) return { address: `127.0.0.1:${t.devPort}`, namespace: t.namespace, options: {} };
  log.info('starting the embedded Temporal dev server', { dataDir: t.dataDir, port: t.devPort });
  const devServer = await startDevServer({
    cliPath: t.cliPath,
    port: t.devPort,
    uiPort: t.devUiPort,
    namespace: t.namespace,
    dataDir: t.dataDir,
    log,
  });
  log.info('Temporal dev server ready', { address: devServer.address, ui: devServer.uiUrl });
  return { address: devServer.address, namespace: t.namespace, options: {}, devServer };
}

/**
 * gRPC's reconnect backoff grows to two minutes by default: after a Temporal outage of half a
 * minute, the ingress would go on answering 503 for seconds after the server is back. Retry the
 * connection every second at most instead (it is one TCP connect to a server of our own).
 */
export const CLIENT_CHANNEL_ARGS = {
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 1000,
};

/** `interceptors`: tracing's (src/runtime/tracing.ts), when it is on. */
export async function connectClient(
  target: TemporalTarget,
  interceptors?: ClientInterceptors,
): Promise<Client> {
  const connection = await Connection.connect({
    ...target.options,
    address: target.address,
    channelArgs: { ...CLIENT_CHANNEL_ARGS, ...(target.options.channelArgs as object | undefined) },
  });
  return new Client({ connection, namespace: target.namespace, ...(interceptors && { interceptors }) });
}

export function connectWorker(target: TemporalTarget): Promise<NativeConnection> {
  return NativeConnection.connect({ ...target.options, address: target.address });
}
