import { requireToolEnvironment } from '../agent-tools';
import type { AppConfig } from '../config';
import type { Logger } from '../logger';
import type { AgentMetrics } from '../metrics';
import { startIngress } from '../runtime/ingress-runtime';
import { serveEndpoints } from '../runtime/endpoints';
import { Stack, untilSignal } from '../runtime/lifecycle';
import { connectClient, resolveTemporal } from '../runtime/temporal';
import { startTracing } from '../runtime/tracing';
import { namespaceSearchAttributes } from '../temporal/search-attributes';
import { startWorker } from '../runtime/worker-runtime';

/** `serve`: the embedded Temporal server (unless TEMPORAL_ADDRESS), the worker and the ingress in one process. */
export async function serve(config: AppConfig, log: Logger, metrics?: AgentMetrics): Promise<void> {
  requireToolEnvironment(config.agent.profiles, process.env);
  const stack = new Stack();
  try {
    // First started, last stopped: the spans of the worker's drain and the client's last signals.
    const tracing = await startTracing(config.tracing, 'serve', log);
    if (tracing) stack.add('tracing', tracing.shutdown);
    const offline = await serveEndpoints(config, log, stack);
    const target = await resolveTemporal(config, log, true);
    if (target.devServer) stack.add('temporal dev server', target.devServer.stop);
    const client = await connectClient(target, tracing?.client);
    stack.add('temporal client', () => client.connection.close());
    const worker = await startWorker({
      target,
      client,
      taskQueue: config.temporal.taskQueue,
      voipbin: offline.voipbin,
      openai: offline.openai,
      shutdownGraceMs: config.worker.shutdownGraceMs,
      temporalUiUrl: config.temporal.uiUrl,
      versioning: config.worker.versioning,
      metrics,
      tracing: tracing?.worker,
      workflowBundlePath: config.worker.workflowBundlePath,
      log,
    });
    stack.add('worker', worker.shutdown);
    const ingress = await startIngress({
      client,
      taskQueue: config.temporal.taskQueue,
      agent: config.agent,
      voipbin: offline.voipbin,
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
    stack.add('ingress', ingress.close);
    offline.ready(ingress.port);
    await Promise.race([untilSignal(log), worker.done]);
    // The worker drains first, while the ingress still takes VoIPBIN's events into the calls and
    // the Temporal server is still up; then the rest stops, last started first.
    await worker.shutdown();
  } finally {
    await stack.closeAll(log);
  }
}
