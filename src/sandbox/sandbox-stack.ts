// The whole agent on the built-in VoIPBIN simulator, in one process: a Temporal dev server of its
// own (or the cluster of TEMPORAL_ADDRESS), the worker, the ingress, the simulator, and the model
// (the fake one or OPENAI_BASE_URL's). What `simulate` runs its scenarios on and `console` talks to.
import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config';
import type { Logger } from '../logger';
import { freePort } from '../runtime/free-port';
import { startIngress } from '../runtime/ingress-runtime';
import type { Stack } from '../runtime/lifecycle';
import { connectClient, resolveTemporal, type TemporalTarget } from '../runtime/temporal';
import { startWorker } from '../runtime/worker-runtime';
import { startDevServer } from '../temporal/dev-server';
import { modelOf } from './offline';
import { startSimulator, type Simulator } from './simulator';

export interface SandboxStackOptions {
  /** Names the simulator's access key, the temporary folder and the task queue. */
  name: string;
  /**
   * `own` (the default): a dev server of the stack's own, its database in a temporary folder, gone
   * when the stack closes. `configured`: the cluster of TEMPORAL_ADDRESS when it is set (the calls
   * stay there), else an own server.
   */
  temporal?: 'own' | 'configured';
}

export interface SandboxStack {
  simulator: Simulator;
  client: Client;
  taskQueue: string;
  /** The ingress, on 127.0.0.1: the simulator's webhooks and the call pages (loopback clients only). */
  ingressPort: number;
  temporal: {
    address: string;
    namespace: string;
    /** The Temporal UI, when its address is known. */
    uiUrl?: string;
    /** The stack's own server: the calls go with it when the stack closes. */
    own: boolean;
  };
  /** The model: undefined for the built-in fake one, else OPENAI_BASE_URL (or OpenAI's default). */
  modelBaseUrl?: string;
  fakeModel: boolean;
}

/** Starts everything, each piece added to `stack` to be stopped in reverse order. */
export async function startSandboxStack(
  config: AppConfig,
  log: Logger,
  stack: Stack,
  opts: SandboxStackOptions,
): Promise<SandboxStack> {
  const openai = await modelOf(config, log, stack);
  const fakeModel = !(config.openai.apiKey || config.openai.baseUrl);
  const simulator = await startSimulator({ accessKey: `${opts.name}-key`, webhookRetryDelayMs: 200 });
  stack.add('VoIPBIN simulator', () => simulator.close());
  const external = opts.temporal === 'configured' && config.temporal.external !== undefined;
  const target = external
    ? await resolveTemporal(config, log, false)
    : await ownServer(config, log, stack, opts);
  const client = await connectClient(target);
  stack.add('temporal client', () => client.connection.close());
  const voipbin = {
    ...config.voipbin,
    baseUrl: simulator.baseUrl,
    apiKey: simulator.accessKey,
    webhookSecret: simulator.customer.webhookSecret || undefined,
    events: 'webhook' as const,
  };
  // On a shared cluster, a queue of this stack's own: no other worker takes its calls (they would
  // call a VoIPBIN that knows nothing of them).
  const taskQueue = external ? `${opts.name}-${randomUUID().slice(0, 8)}` : opts.name;
  const uiUrl = external ? config.temporal.uiUrl : target.devServer?.uiUrl;
  const worker = await startWorker({
    target,
    client,
    taskQueue,
    voipbin,
    openai,
    shutdownGraceMs: 0,
    temporalUiUrl: uiUrl,
    log,
  });
  stack.add('worker', worker.shutdown);
  const ingress = await startIngress({
    client,
    taskQueue,
    agent: config.agent,
    voipbin,
    host: '127.0.0.1',
    port: 0,
    temporalUiUrl: uiUrl,
    log,
  });
  stack.add('ingress', ingress.close);
  simulator.setWebhookUri(`http://127.0.0.1:${ingress.port}/webhooks/voipbin`);
  return {
    simulator,
    client,
    taskQueue,
    ingressPort: ingress.port,
    temporal: { address: target.address, namespace: target.namespace, uiUrl, own: !external },
    modelBaseUrl: fakeModel ? undefined : (config.openai.baseUrl ?? 'https://api.openai.com/v1'),
    fakeModel,
  };
}

/** A dev server on free ports, its database in a temporary folder removed after it stops. */
async function ownServer(
  config: AppConfig,
  log: Logger,
  stack: Stack,
  opts: SandboxStackOptions,
): Promise<TemporalTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), `voipbin-agent-${opts.name}-`));
  const removeData = () => rmSync(dataDir, { recursive: true, force: true });
  // A second Ctrl-C exits without the stack's orderly stop: the folder goes then too.
  process.on('exit', removeData);
  stack.add('data', () => {
    process.removeListener('exit', removeData);
    return Promise.resolve(removeData());
  });
  const namespace = 'default';
  const server = await startDevServer({
    cliPath: config.temporal.cliPath,
    port: await freePort(),
    uiPort: await freePort(),
    namespace,
    dataDir,
    log,
  });
  stack.add('temporal dev server', server.stop);
  return { address: server.address, namespace, options: {}, devServer: server };
}
