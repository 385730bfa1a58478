import type { AppConfig } from '../config';
import { ConfigError } from '../config-error';
import type { Logger } from '../logger';
import { Stack, untilSignal } from '../runtime/lifecycle';
import { connectClient, resolveTemporal } from '../runtime/temporal';
import { requireLlm, startWorker } from '../runtime/worker-runtime';

/** `worker`: runs call workflows and activities against TEMPORAL_ADDRESS (or a local dev server). */
export async function worker(config: AppConfig, log: Logger): Promise<void> {
  const apiKey = config.voipbin.apiKey;
  if (!apiKey)
    throw new ConfigError('VOIPBIN_API_KEY is required for `worker` (only `serve` runs the simulator)');
  requireLlm(config.openai);
  const stack = new Stack();
  try {
    const target = await resolveTemporal(config, log, false);
    const client = await connectClient(target);
    stack.add('temporal client', () => client.connection.close());
    const running = await startWorker({
      target,
      client,
      taskQueue: config.temporal.taskQueue,
      voipbin: { baseUrl: config.voipbin.baseUrl, apiKey },
      openai: config.openai,
      shutdownGraceMs: config.worker.shutdownGraceMs,
      versioning: config.worker.versioning,
      log,
    });
    stack.add('worker', running.shutdown);
    await Promise.race([untilSignal(log), running.done]);
    // Drains (README "Deploying new code"); a drain cut short by the force time exits non-zero.
    await running.shutdown();
  } finally {
    await stack.closeAll(log);
  }
}
