// Barge-in through the whole real stack in one process: the simulator's signed webhooks, the
// ingress, a real Temporal dev server, the worker with the real activities, the streaming LLM.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { createActivities } from '../../activities';
import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import { startFakeLlm, type FakeLlm, type FakeLlmRequest } from '../../src/fake-llm/server';
import { createApp } from '../../src/ingress/app';
import { temporalCallWorkflows } from '../../src/ingress/call-workflows';
import { EventRouter } from '../../src/ingress/event-router';
import { Counters } from '../../src/ingress/metrics';
import { silentLogger } from '../../src/logger';
import { startSimulator, type Simulator } from '../../src/simulator';
import { VoipbinClient } from '../../src/voipbin/client';
import { createCallWorker } from '../../src/worker';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId, sentenceSignal } from '../../workflows/messages';
import { bundleWorkflows, localEnv } from '../helpers/temporal-env';

const TASK_QUEUE = 'barge-in-e2e';
const LONG_REPLY = [
  'Sure, here is everything about your account.',
  'It was opened in March two thousand nineteen.',
  'It has two cards and one savings pocket.',
  'Your last payment was on the first of the month.',
  'Your next statement is due in ten days.',
];

let env: TestWorkflowEnvironment;
let simulator: Simulator;
let llm: FakeLlm;
let worker: Worker;
let running: Promise<void>;
let server: Server;

beforeAll(async () => {
  const [testEnv, bundle] = await Promise.all([localEnv(), bundleWorkflows()]);
  env = testEnv;
  simulator = await startSimulator({ accessKey: 'barge-in-key', webhookRetryDelayMs: 100 });
  llm = await startFakeLlm({
    reply: (req: FakeLlmRequest) =>
      String(req.messages.at(-1)?.content).includes('everything')
        ? { text: LONG_REPLY.join(' '), chunkSize: 8, chunkDelayMs: 60, firstTokenDelayMs: 50 }
        : { text: 'Your balance is forty two dollars.' },
  });
  const voipbin = new VoipbinClient({ baseUrl: simulator.baseUrl, apiKey: simulator.accessKey });
  worker = await createCallWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: TASK_QUEUE,
    workflowBundle: bundle,
    activities: createActivities({
      voipbin,
      openai: new OpenAI({ baseURL: llm.baseUrl, apiKey: 'test', maxRetries: 0 }),
      sendSentence: (workflowId, sentence) =>
        env.client.workflow.getHandle(workflowId).signal(sentenceSignal, sentence),
    }),
  });
  running = worker.run();
  const counters = new Counters();
  const router = new EventRouter({
    workflows: temporalCallWorkflows(env.client, TASK_QUEUE),
    agent: DEFAULT_AGENT_CONFIG,
    counters,
    log: silentLogger,
    lookupTranscribe: async (id) => {
      const t = await voipbin.getTranscribe(id);
      return t.reference_type === 'call' ? t.reference_id : null;
    },
  });
  const app = createApp(
    { webhookSecret: simulator.customer.webhookSecret, maxBodyBytes: 1024 * 1024 },
    { router, ready: async () => true, counters, log: silentLogger },
  );
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  simulator.setWebhookUri(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/voipbin`);
}, 60_000);

afterAll(async () => {
  server?.closeAllConnections();
  server?.close();
  worker?.shutdown();
  await running;
  await simulator?.close();
  await llm?.close();
  await env?.teardown();
});

it('the caller talks over a streaming reply: flush, then only the new reply is said', async () => {
  const call = simulator.startInboundCall({
    from: '+15550003333',
    to: '+15550004444',
    script: {
      steps: [
        { say: 'Tell me everything about my account.', quietMs: 600 },
        { say: 'Stop, just the balance please.', duringAgentSpeech: true, afterMs: 200 },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await call.ended;
  const summary = await env.client.workflow.getHandle<typeof callWorkflow>(callWorkflowId(call.id)).result();

  const speakingOps = simulator.requests
    .filter((r) => r.method === 'POST' && /^\/speakings\/[^/]+\/(say|flush)$/.test(r.path))
    .map((r) => (r.path.endsWith('/flush') ? 'flush' : (r.body as { text: string }).text));
  const flushAt = speakingOps.indexOf('flush');
  expect(flushAt).toBeGreaterThan(1);
  expect(speakingOps.slice(0, 2)).toEqual(['Hello, thanks for calling. How can I help?', LONG_REPLY[0]]);
  // Nothing of the interrupted reply after the flush: only the new one.
  expect(speakingOps.slice(flushAt + 1)).toEqual(['Your balance is forty two dollars.']);
  expect(LONG_REPLY.slice(0, flushAt - 1)).toEqual(speakingOps.slice(1, flushAt));
  expect(call.heard().at(-1)).toBe('Your balance is forty two dollars.');
  expect(call.heard()).not.toContain(LONG_REPLY[4]);

  expect(summary).toMatchObject({ endReason: 'caller-hangup', bargeIns: 1, turns: 2 });
  const interrupted = summary.messages.find((m) => m.interrupted);
  expect(interrupted?.text).toBe(speakingOps.slice(1, flushAt).join(' '));
  // The second turn's prompt holds what was actually said of the first reply, not all of it.
  const secondPrompt = llm.requests.at(-1)!.messages.map((m) => m.content);
  expect(secondPrompt).toContain(interrupted?.text);
  expect(secondPrompt.join(' ')).not.toContain(LONG_REPLY[4]);
}, 60_000);
