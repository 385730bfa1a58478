// The product as a user runs it: `voipbin-agent serve` (embedded Temporal dev server, worker,
// ingress) against a VoIPBIN and an OpenAI endpoint on other local ports, driven by signed webhooks.
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm, type FakeLlm } from '../../src/sandbox/fake-llm/server';
import { startSimulator, type Simulator } from '../../src/sandbox/simulator';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId } from '../../workflows/messages';
import { AgentProcess, alive, freePort, portOpen, serveEnv } from '../helpers/cli';
import { readsOf, requestSequence } from '../helpers/voipbin-requests';
import { waitFor } from '../helpers/wait-for';

let simulator: Simulator;
let llm: FakeLlm;
let agent: AgentProcess;
let dataDir: string;
let port: number;
let temporalPort: number;
let uiPort: number;

/** `voipbin-agent serve`, on the same ports and database folder each time. */
async function startServe(): Promise<AgentProcess> {
  const serve = new AgentProcess(
    ['serve'],
    serveEnv(
      simulator,
      llm.baseUrl,
      { port, temporalPort, uiPort, dataDir: join(dataDir, 'data') },
      { LOG_LEVEL: 'info' },
    ),
    dataDir,
  );
  await serve.waitReady(port);
  return serve;
}

beforeAll(async () => {
  simulator = await startSimulator({ accessKey: 'e2e-access-key', webhookRetryDelayMs: 200 });
  llm = await startFakeLlm({ firstTokenDelayMs: 50, chunkDelayMs: 5 });
  dataDir = mkdtempSync(join(tmpdir(), 'voipbin-agent-e2e-'));
  [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  agent = await startServe();
  simulator.setWebhookUri(`http://127.0.0.1:${port}/webhooks/voipbin`);
  await waitFor(() => simulator.socketSubscribes.length === 1, 'the event socket subscribed', 10_000);
}, 90_000);

afterAll(async () => {
  agent?.kill();
  await simulator?.close();
  await llm?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const GREETING = 'Hello, thanks for calling. How can I help?';

it('handles a call whose events come both as signed webhooks and by the WebSocket, acting on each once', async () => {
  const mark = simulator.requests.length;
  const call = simulator.startInboundCall({
    from: '+15550001111',
    to: '+15550002222',
    script: {
      steps: [
        { say: 'I need help with my bill.', quietMs: 600 },
        { say: 'My account number is 12345.', quietMs: 600 },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await call.ended;
  const stopped = (kind: string) =>
    simulator.requests.some(
      (r) => r.method === 'POST' && r.path.startsWith(`/${kind}/`) && r.path.endsWith('/stop'),
    );
  await waitFor(() => stopped('speakings') && stopped('transcribes'), 'both sessions stopped', 15_000);

  // What VoIPBIN was asked to do (the reads aside: the socket's GET /customer, lookups).
  const sequence = simulator.requests
    .slice(mark)
    .filter((r) => r.method !== 'GET')
    .map((r) => {
      const path = r.path.replace(/[0-9a-f-]{36}/g, '{id}');
      const text = (r.body as { text?: string } | undefined)?.text;
      return `${r.method} ${path}${text ? ` ${text}` : ''} -> ${r.status}`;
    });
  // The two sessions are created in parallel: either may arrive first.
  expect(sequence.slice(0, 2).sort()).toEqual(['POST /speakings -> 201', 'POST /transcribes -> 200']);
  expect(sequence.slice(2)).toEqual([
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    'POST /speakings/{id}/say You said: I need help with my bill. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/say You said: My account number is 12345. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  const creates = simulator.requests.filter(
    (r) => r.method === 'POST' && ['/speakings', '/transcribes'].includes(r.path),
  );
  for (const create of creates) {
    expect(create.body).toMatchObject({ reference_type: 'call', reference_id: call.id, direction: 'both' });
  }
  expect(simulator.requests.every((r) => r.query.accesskey === undefined)).toBe(true);
  expect(call.heard()).toEqual([
    GREETING,
    'You said: I need help with my bill.',
    'How else can I help you today?',
    'You said: My account number is 12345.',
    'How else can I help you today?',
  ]);
  // The ingress was subscribed to the customer's events all along.
  expect(simulator.socketSubscribes).toHaveLength(1);
  // Every webhook was signed, delivered and acknowledged at the first attempt.
  await simulator.webhooksIdle();
  expect(simulator.webhooks.length).toBeGreaterThan(5);
  for (const webhook of simulator.webhooks)
    expect([webhook.type, webhook.finalStatus, webhook.attempts]).toEqual([webhook.type, 200, 1]);
  // The LLM got the whole conversation with each turn.
  expect(llm.requests.map((r) => r.messages.at(-1)?.content)).toEqual([
    'I need help with my bill.',
    'My account number is 12345.',
  ]);
}, 60_000);

it('serve SIGKILLed mid-call: started again, the call that ended meanwhile ends at once', async () => {
  const call = simulator.startInboundCall({ from: '+15550003131', to: '+15550002222' });
  await waitFor(() => call.heard().includes(GREETING), 'the greeting', 30_000);
  // As a crash: the embedded Temporal server, a child process, is left running. The next serve
  // stops it and starts its own on the same database.
  const leftover = Number(readFileSync(join(dataDir, 'data', 'temporal.pid'), 'utf8'));
  agent.kill('SIGKILL');
  await agent.exited();
  const mark = simulator.requests.length;
  // The caller hangs up while nobody listens: VoIPBIN's three attempts find no one.
  call.hangup();
  await waitFor(
    () => simulator.webhooks.find((w) => w.type === 'call_hangup' && w.body.includes(call.id)),
    'VoIPBIN giving up on the hangup',
    15_000,
  );
  const restartedAt = Date.now();
  agent = await startServe();
  expect(alive(leftover)).toBe(false);
  // Starting, the ingress asks every running call to reconcile: this one finds its call gone, long
  // before its silence timer (30 s after the greeting) would have asked.
  const client = new Client({
    connection: await Connection.connect({ address: `127.0.0.1:${temporalPort}` }),
  });
  try {
    const summary = await client.workflow.getHandle<typeof callWorkflow>(callWorkflowId(call.id)).result();
    expect(summary).toMatchObject({ endReason: 'caller-hangup', turns: 0 });
    expect(summary.endedAt - restartedAt).toBeLessThan(15_000);
  } finally {
    await client.connection.close();
  }
  const since = { requests: simulator.requests.slice(mark) };
  expect(requestSequence(since).sort()).toEqual([
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  expect(readsOf(since)).toContain('GET /calls/{id} -> 200');
}, 90_000);

it('shuts down cleanly on SIGTERM, the Temporal dev server included', async () => {
  agent.kill('SIGTERM');
  expect(await agent.exited()).toBe(0);
  expect(await portOpen(port)).toBe(false);
  // The embedded server's gRPC port is closed once its process has gone.
  await waitFor(async () => !(await portOpen(temporalPort)), 'the dev server to stop', 10_000);
  // No transcript text or phone number in log lines above debug.
  expect(agent.output).not.toContain('I need help with my bill');
  expect(agent.output).not.toContain('+15550001111');
  expect(agent.output).not.toContain(simulator.accessKey);
}, 30_000);
