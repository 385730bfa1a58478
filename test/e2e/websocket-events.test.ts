// `serve` with VOIPBIN_EVENTS=websocket, as on a laptop: VoIPBIN cannot reach a webhook there, so
// the simulator has none, and every event of the call comes by the WebSocket.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm, type FakeLlm } from '../../src/sandbox/fake-llm/server';
import { startSimulator, type Simulator } from '../../src/sandbox/simulator';
import { AgentProcess, freePort, serveEnv } from '../helpers/cli';
import { metricValue, scrape } from '../helpers/metrics';
import { SESSIONS_CREATED, requestSequence } from '../helpers/voipbin-requests';
import { waitFor } from '../helpers/wait-for';

let simulator: Simulator;
let llm: FakeLlm;
let agent: AgentProcess;
let dataDir: string;
let port: number;

beforeAll(async () => {
  simulator = await startSimulator({ accessKey: 'ws-access-key' });
  llm = await startFakeLlm({ firstTokenDelayMs: 50, chunkDelayMs: 5 });
  dataDir = mkdtempSync(join(tmpdir(), 'voipbin-agent-ws-'));
  port = await freePort();
  const at = {
    port,
    temporalPort: await freePort(),
    uiPort: await freePort(),
    dataDir: join(dataDir, 'data'),
  };
  // No webhook secret, and no webhook: the socket is the only way in.
  const env = serveEnv(simulator, llm.baseUrl, at, { VOIPBIN_EVENTS: 'websocket' });
  delete env['VOIPBIN_WEBHOOK_SECRET'];
  agent = new AgentProcess(['serve'], env, dataDir);
  await agent.waitReady(port);
  await waitFor(() => simulator.socketSubscribes.length === 1, 'the subscription', 10_000);
}, 90_000);

afterAll(async () => {
  // SIGTERM: serve stops its embedded Temporal server too (a SIGKILL would leave it running).
  agent?.kill('SIGTERM');
  await agent?.exited();
  await simulator?.close();
  await llm?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const GREETING = 'Hello, thanks for calling. How can I help?';

it('handles a whole call by the WebSocket alone: greeting, a turn, hangup', async () => {
  const mark = simulator.requests.length;
  const call = simulator.startInboundCall({
    from: '+15550005555',
    to: '+15550006666',
    script: {
      steps: [
        { say: 'Can I change my address?', quietMs: 600 },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await call.ended;
  const since = () => ({ requests: simulator.requests.slice(mark) });
  await waitFor(
    () => requestSequence(since()).includes('POST /transcribes/{id}/stop -> 200'),
    'the sessions stopped',
    15_000,
  );
  expect(requestSequence(since())).toEqual([
    ...SESSIONS_CREATED,
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    'POST /speakings/{id}/say You said: Can I change my address. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  // No webhook was ever attempted: there was nowhere to send one.
  expect(simulator.webhooks.every((w) => w.attempts === 0)).toBe(true);
}, 60_000);

it('GET /metrics during a call shows the ingress, the call and the Temporal worker', async () => {
  const metrics = () => scrape(`http://127.0.0.1:${port}/metrics`);
  const idle = async () => metricValue(await metrics(), 'voipbin_agent_active_calls') === 0;
  // The call before this one has ended (its workflow reports before it closes).
  await waitFor(idle, 'no call running', 15_000);
  const before = await metrics();
  const turns = (m: typeof before) =>
    metricValue(m, 'voipbin_agent_turns_total', { outcome: 'completed' }) ?? 0;
  const call = simulator.startInboundCall({
    from: '+15550007777',
    to: '+15550006666',
    script: {
      steps: [
        { say: 'What are your hours?', quietMs: 600 },
        // Long enough to look at the metrics while the call is still up.
        { waitForAgent: true, quietMs: 4000 },
        { hangup: true },
      ],
    },
  });
  await waitFor(
    () => call.heard().includes('How else can I help you today?'),
    'the reply to be heard',
    20_000,
  );
  const during = await metrics();
  expect(metricValue(during, 'voipbin_agent_active_calls')).toBe(1);
  // Ingress: the call's events came by the socket and reached its workflow.
  expect(metricValue(during, 'voipbin_agent_socket_connected')).toBe(1);
  expect(
    metricValue(during, 'voipbin_agent_events_total', {
      type: 'call_progressing',
      path: 'websocket',
      outcome: 'delivered',
    }),
  ).toBeGreaterThanOrEqual(1);
  expect(metricValue(during, 'voipbin_agent_event_ack_seconds_count', { path: 'websocket' })).toBeGreaterThan(
    metricValue(before, 'voipbin_agent_event_ack_seconds_count', { path: 'websocket' }) ?? 0,
  );
  // Worker: the turn was answered, and the time to its first sentence recorded.
  expect(turns(during) - turns(before)).toBe(1);
  expect(metricValue(during, 'voipbin_agent_turn_first_sentence_seconds_count')).toBeGreaterThanOrEqual(1);
  expect(metricValue(during, 'voipbin_agent_model_first_token_seconds_count')).toBeGreaterThanOrEqual(1);
  // The Temporal SDK's own worker metrics, in the same scrape.
  expect(metricValue(during, 'temporal_worker_task_slots_available')).toBeGreaterThan(0);
  expect(metricValue(during, 'temporal_workflow_task_execution_latency_seconds_count')).toBeGreaterThan(0);
  expect(metricValue(during, 'process_cpu_seconds_total')).toBeGreaterThan(0);

  await call.ended;
  await waitFor(idle, 'the call to end', 15_000);
  const after = await metrics();
  expect(
    (metricValue(after, 'voipbin_agent_calls_ended_total', { reason: 'caller-hangup' }) ?? 0) -
      (metricValue(before, 'voipbin_agent_calls_ended_total', { reason: 'caller-hangup' }) ?? 0),
  ).toBe(1);
}, 60_000);

it('answers a webhook 404: the route is off', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/webhooks/voipbin`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
  });
  expect(res.status).toBe(404);
});
