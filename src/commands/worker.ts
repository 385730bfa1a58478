import { requireToolEnvironment } from '../agent-tools';
import type { AppConfig } from '../config';
import { ConfigError } from '../config-error';
import type { Logger } from '../logger';
import { AgentMetrics } from '../metrics';
import { startMetricsServer } from '../runtime/metrics-server';
import { Stack, untilSignal } from '../runtime/lifecycle';
import { connectClient, resolveTemporal } from '../runtime/temporal';
import { startTracing } from '../runtime/tracing';
import { requireLlm, startWorker } from '../runtime/worker-runtime';

/** `worker`: runs call workflows and activities against TEMPORAL_ADDRESS (or a local dev server). */
export async function worker(config: AppConfig, log: Logger, metrics = new AgentMetrics()): Promise<void> {
  const apiKey = config.voipbin.apiKey;
  if (!apiKey)
    throw new ConfigError('VOIPBIN_API_KEY is required for `worker` (only `serve` runs the simulator)');
  requireLlm(config.openai);
  // The tools run here: each `${VAR}` they use must be set before the first call needs it.
  requireToolEnvironment(config.agent.profiles, process.env);
  const stack = new Stack();
  try {
    const tracing = await startTracing(config.tracing, 'worker', log);
    if (tracing) stack.add('tracing', tracing.shutdown);
    const target = await resolveTemporal(config, log, false);
    const client = await connectClient(target, tracing?.client);
    stack.add('temporal client', () => client.connection.close());
    const running = await startWorker({
      target,
      client,
      taskQueue: config.temporal.taskQueue,
      voipbin: { baseUrl: config.voipbin.baseUrl, apiKey },
      openai: config.openai,
      shutdownGraceMs: config.worker.shutdownGraceMs,
      temporalUiUrl: config.temporal.uiUrl,
      versioning: config.worker.versioning,
      metrics,
      tracing: tracing?.worker,
      workflowBundlePath: config.worker.workflowBundlePath,
      log,
    });
    stack.add('worker', running.shutdown);
    const { metricsPort } = config.worker;
    if (metricsPort !== undefined) {
      const server = await startMetricsServer(metrics, config.ingress.host, metricsPort, log);
      stack.add('metrics server', server.close);
    }
    await Promise.race([untilSignal(log), running.done]);
    // Drains (README "Deploying new code"); a drain cut short by the force time exits non-zero.
    await running.shutdown();
  } finally {
    await stack.closeAll(log);
  }
}
