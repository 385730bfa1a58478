// voipbin-agent as `serve` runs it, for a benchmark: the Temporal dev server on a database file in
// its own process, the worker and the ingress in this one, against the simulator and a fake model.
import { Client, Connection } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { NativeConnection } from '@temporalio/worker';
import type { AgentConfig } from '../src/agent-config';
import { startFakeLlm, type FakeLlm } from '../src/sandbox/fake-llm/server';
import type { FakeLlmOptions } from '../src/sandbox/fake-llm/types';
import { CLIENT_CHANNEL_ARGS } from '../src/runtime/temporal';
import { startSimulator, type Simulator, type SimulatorOptions } from '../src/sandbox/simulator';
import { startInProcessAgent } from '../test/helpers/in-process-agent';
import { TemporalServer } from '../test/helpers/temporal-server';

export interface AgentStack {
  temporal: TemporalServer;
  client: Client;
  simulator: Simulator;
  llm: FakeLlm;
  close: () => Promise<void>;
}

export async function startAgentStack(opts: {
  taskQueue: string;
  llm: FakeLlmOptions;
  simulator?: Partial<SimulatorOptions>;
  agent?: AgentConfig;
  stickyQueueTimeout?: Duration;
  /** Default webhook, as the plain loop gets them: like for like. */
  events?: 'websocket' | 'webhook' | 'both';
}): Promise<AgentStack> {
  const temporal = await TemporalServer.start();
  const [simulator, llm] = await Promise.all([
    startSimulator({ accessKey: 'bench', ...opts.simulator }),
    startFakeLlm(opts.llm),
  ]);
  const connection = await Connection.connect({
    address: temporal.address,
    channelArgs: CLIENT_CHANNEL_ARGS,
  });
  const native = await NativeConnection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const agent = await startInProcessAgent({
    client,
    connection: native,
    taskQueue: opts.taskQueue,
    simulator,
    llm,
    agent: opts.agent,
    stickyQueueTimeout: opts.stickyQueueTimeout,
    events: opts.events ?? 'webhook',
  });
  return {
    temporal,
    client,
    simulator,
    llm,
    close: async () => {
      await agent.close();
      await native.close();
      await connection.close();
      await simulator.close();
      await llm.close();
      await temporal.close();
    },
  };
}
