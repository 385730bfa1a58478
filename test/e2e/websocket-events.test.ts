// `serve` with VOIPBIN_EVENTS=websocket, as on a laptop: VoIPBIN cannot reach a webhook there, so
// the simulator has none, and every event of the call comes by the WebSocket.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm, type FakeLlm } from '../../src/fake-llm/server';
import { startSimulator, type Simulator } from '../../src/simulator';
import { AgentProcess, freePort, serveEnv } from '../helpers/cli';
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

it('answers a webhook 404: the route is off', async () => {
  const res = await fetch(`http://127.0.0.1:${port}/webhooks/voipbin`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{}',
  });
  expect(res.status).toBe(404);
});
