// The product as a user runs it: `voipbin-agent serve` (embedded Temporal dev server, worker,
// ingress) against a VoIPBIN and an OpenAI endpoint on other local ports, driven by signed webhooks.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm, type FakeLlm } from '../../src/fake-llm/server';
import { startSimulator, type Simulator } from '../../src/simulator';
import { AgentProcess, freePort, portOpen } from '../helpers/cli';
import { waitFor } from '../helpers/wait-for';

let simulator: Simulator;
let llm: FakeLlm;
let agent: AgentProcess;
let dataDir: string;
let port: number;
let temporalPort: number;

beforeAll(async () => {
  simulator = await startSimulator({ accessKey: 'e2e-access-key', webhookRetryDelayMs: 200 });
  llm = await startFakeLlm({ firstTokenDelayMs: 50, chunkDelayMs: 5 });
  dataDir = mkdtempSync(join(tmpdir(), 'voipbin-agent-e2e-'));
  [port, temporalPort] = [await freePort(), await freePort()];
  agent = new AgentProcess(
    ['serve'],
    {
      VOIPBIN_BASE_URL: simulator.baseUrl,
      VOIPBIN_API_KEY: simulator.accessKey,
      VOIPBIN_WEBHOOK_SECRET: simulator.customer.webhookSecret,
      OPENAI_BASE_URL: llm.baseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      TEMPORAL_DEV_PORT: String(temporalPort),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
      DATA_DIR: join(dataDir, 'data'),
      LOG_LEVEL: 'info',
    },
    dataDir,
  );
  await agent.waitReady(port);
  simulator.setWebhookUri(`http://127.0.0.1:${port}/webhooks/voipbin`);
}, 90_000);

afterAll(async () => {
  agent?.kill();
  await simulator?.close();
  await llm?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const GREETING = 'Hello, thanks for calling. How can I help?';

it('handles a call from call_progressing to call_hangup delivered as signed webhooks', async () => {
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

  const sequence = simulator.requests.map((r) => {
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
