import type { AppConfig } from '../config';
import { ConfigError } from '../config-error';
import type { Logger } from '../logger';
import type { AgentMetrics } from '../metrics';
import { startIngress } from '../runtime/ingress-runtime';
import { Stack, untilSignal } from '../runtime/lifecycle';
import { connectClient, resolveTemporal } from '../runtime/temporal';
import { startTracing } from '../runtime/tracing';
import { namespaceSearchAttributes } from '../temporal/search-attributes';

/** `ingress`: the webhook receiver alone, signalling workflows on TEMPORAL_ADDRESS (or a local dev server). */
export async function ingress(config: AppConfig, log: Logger, metrics?: AgentMetrics): Promise<void> {
  const apiKey = config.voipbin.apiKey;
  if (!apiKey)
    throw new ConfigError('VOIPBIN_API_KEY is required for `ingress` (only `serve` runs the simulator)');
  const stack = new Stack();
  try {
    const tracing = await startTracing(config.tracing, 'ingress', log);
    if (tracing) stack.add('tracing', tracing.shutdown);
    const target = await resolveTemporal(config, log, false);
    const client = await connectClient(target, tracing?.client);
    stack.add('temporal client', () => client.connection.close());
    const running = await startIngress({
      client,
      taskQueue: config.temporal.taskQueue,
      agent: config.agent,
      voipbin: { ...config.voipbin, apiKey },
      host: config.ingress.host,
      port: config.ingress.port,
      searchAttributes: namespaceSearchAttributes(client, {
        phoneNumbers: config.temporal.searchPhoneNumbers,
        log,
      }),
      adminToken: config.ingress.adminToken,
      temporalUiUrl: config.temporal.uiUrl,
      metrics,
      log,
    });
    stack.add('ingress', running.close);
    await untilSignal(log);
  } finally {
    await stack.closeAll(log);
  }
}
