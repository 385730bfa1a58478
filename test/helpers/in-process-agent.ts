// The agent as `serve` runs it, in the test's (or benchmark's) own process: the worker with the
// real activities and the ingress, against the simulator and the fake model.
import type { Client } from '@temporalio/client';
import type { NativeConnection, WorkerOptions } from '@temporalio/worker';
import OpenAI from 'openai';
import { createActivities, temporalTurnChannel } from '../../activities';
import { DEFAULT_AGENT_CONFIG, type AgentConfig } from '../../src/agent-config';
import type { FakeLlm } from '../../src/sandbox/fake-llm/server';
import { silentLogger } from '../../src/logger';
import { startIngress } from '../../src/runtime/ingress-runtime';
import type { SearchAttributeRegistry } from '../../src/temporal/search-attributes';
import type { Simulator } from '../../src/sandbox/simulator';
import { VoipbinClient } from '../../src/voipbin/client';
import { createCallWorker } from '../../src/worker';

export interface InProcessAgent {
  close(): Promise<void>;
}

export async function startInProcessAgent(opts: {
  client: Client;
  connection: NativeConnection;
  taskQueue: string;
  simulator: Simulator;
  llm: FakeLlm;
  workflowBundle?: WorkerOptions['workflowBundle'];
  stickyQueueTimeout?: WorkerOptions['stickyQueueScheduleToStartTimeout'];
  agent?: AgentConfig;
  /** How events reach the ingress (default both: webhooks and the simulator's WebSocket). */
  events?: 'websocket' | 'webhook' | 'both';
  /** The calls' search attributes (default: none). */
  searchAttributes?: SearchAttributeRegistry;
}): Promise<InProcessAgent> {
  const { client, simulator, taskQueue } = opts;
  const worker = await createCallWorker({
    connection: opts.connection,
    namespace: 'default',
    taskQueue,
    workflowBundle: opts.workflowBundle,
    stickyQueueTimeout: opts.stickyQueueTimeout,
    activities: createActivities({
      voipbin: new VoipbinClient({ baseUrl: simulator.baseUrl, apiKey: simulator.accessKey }),
      openai: new OpenAI({ baseURL: opts.llm.baseUrl, apiKey: 'test', maxRetries: 0 }),
      channel: temporalTurnChannel(client),
    }),
  });
  const running = worker.run();
  const ingress = await startIngress({
    client,
    taskQueue,
    agent: opts.agent ?? DEFAULT_AGENT_CONFIG,
    voipbin: { baseUrl: simulator.baseUrl, apiKey: simulator.accessKey, events: opts.events },
    host: '127.0.0.1',
    port: 0,
    searchAttributes: opts.searchAttributes,
    log: silentLogger,
  });
  simulator.setWebhookUri(`http://127.0.0.1:${ingress.port}/webhooks/voipbin`);
  return {
    close: async () => {
      await ingress.close();
      worker.shutdown();
      await running;
    },
  };
}
