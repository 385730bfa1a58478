// The Temporal server SIGKILLed mid-call (on its database file) and kept down longer than
// VoIPBIN's webhook retries (3 attempts, 1 s apart, each waiting out the ingress's deadline),
// first while the caller speaks, then while the caller hangs up. Nothing the ingress acknowledged
// may be lost, and what VoIPBIN gave up on must be reconciled once Temporal is back.
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm, type FakeLlm } from '../../src/fake-llm/server';
import { startSimulator, type Simulator } from '../../src/simulator';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId } from '../../workflows/messages';
import { AgentProcess, freePort } from '../helpers/cli';
import { TemporalServer } from '../helpers/temporal-server';
import { SESSIONS_CREATED, readsOf, requestSequence, saysOf } from '../helpers/voipbin-requests';
import { waitFor } from '../helpers/wait-for';

const GREETING = 'Hello, thanks for calling. How can I help?';

let temporal: TemporalServer;
let simulator: Simulator;
let llm: FakeLlm;
let cwd: string;
const processes: AgentProcess[] = [];

beforeAll(async () => {
  // VoIPBIN's own retry timing: 3 attempts, 1 s apart.
  [temporal, simulator, llm] = await Promise.all([
    TemporalServer.start(),
    startSimulator({ accessKey: 'outage-key', webhookRetryDelayMs: 1000 }),
    startFakeLlm(),
  ]);
  cwd = mkdtempSync(join(tmpdir(), 'voipbin-agent-outage-'));
  // A long silence timeout: what brings the lost events back here is the ingress, not a reprompt.
  writeFileSync(
    join(cwd, 'agent.config.json'),
    JSON.stringify({ profiles: { default: { silenceTimeoutSeconds: 600 } } }),
  );
}, 60_000);

afterAll(async () => {
  for (const p of processes) p.kill();
  await simulator?.close();
  await llm?.close();
  await temporal?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

function agent(args: string[], vars: Record<string, string>): AgentProcess {
  const p = new AgentProcess(args, vars, cwd);
  processes.push(p);
  return p;
}

/** Resolves once VoIPBIN gave up delivering an event of `type` whose body holds `text` (every attempt refused). */
function givenUp(type: string, text: string) {
  return waitFor(
    () =>
      simulator.webhooks.find(
        (w) => w.type === type && w.body.includes(text) && w.attempts === 3 && w.finalStatus === 503,
      ),
    `VoIPBIN giving up on ${type}`,
    60_000,
  );
}

it('events sent while Temporal is down are refused, then reconciled: the transcript answered once, the hangup ends the call', async () => {
  const port = await freePort();
  const shared = {
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'outage',
    VOIPBIN_BASE_URL: simulator.baseUrl,
    VOIPBIN_API_KEY: simulator.accessKey,
  };
  const ingress = agent(['ingress'], { ...shared, PORT: String(port), HOST: '127.0.0.1' });
  const worker = agent(['worker'], { ...shared, OPENAI_BASE_URL: llm.baseUrl });
  await Promise.all([ingress.waitReady(port), worker.waitOutput('worker running')]);
  simulator.setWebhookUri(`http://127.0.0.1:${port}/webhooks/voipbin`);
  const readyz = async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;

  // The caller speaks once the greeting has played (and a breath after); the rest is driven below.
  const call = simulator.startInboundCall({
    from: '+15550009999',
    to: '+15550001010',
    script: { steps: [{ say: 'I need help with my bill.', quietMs: 500 }] },
  });
  await waitFor(() => call.heard().includes('How else can I help you today?'), 'the first answer', 30_000);
  await simulator.webhooksIdle();

  // Down while the caller speaks.
  await temporal.kill();
  await waitFor(async () => (await readyz()) === 503, '/readyz to answer 503', 10_000);
  call.speak('What are your opening hours?');
  await givenUp('transcript_created', 'What are your opening hours?');
  await temporal.up();
  await waitFor(
    () => saysOf(simulator).includes('You said: What are your opening hours.'),
    'the answer',
    60_000,
  );
  await waitFor(
    () => call.heard().filter((t) => t === 'How else can I help you today?').length === 2,
    'the answer played',
    30_000,
  );
  await simulator.webhooksIdle();

  // Down while the caller hangs up.
  await temporal.kill();
  await waitFor(async () => (await readyz()) === 503, '/readyz to answer 503', 10_000);
  call.hangup();
  await givenUp('call_hangup', call.id);
  await temporal.up();
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
  try {
    const summary = await client.workflow.getHandle<typeof callWorkflow>(callWorkflowId(call.id)).result();
    expect(summary).toMatchObject({ endReason: 'caller-hangup', turns: 2 });
  } finally {
    await client.connection.close();
  }
  expect(await readyz()).toBe(200);

  // Each caller final answered once; nothing said into the dead call; both sessions stopped.
  expect(requestSequence(simulator)).toEqual([
    ...SESSIONS_CREATED,
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    'POST /speakings/{id}/say You said: I need help with my bill. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/say You said: What are your opening hours. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  // What brought them back: the workflow asked VoIPBIN, twice (once per outage).
  // (How many reads depends on timers: the slow reconciliation timer may add some.)
  const reads = readsOf(simulator);
  expect(reads).toContain('GET /calls/{id} -> 200');
  expect(reads).toContain('GET /transcripts -> 200 ?page_size&transcribe_id');

  ingress.kill('SIGTERM');
  worker.kill('SIGTERM');
  expect(await Promise.all([ingress.exited(), worker.exited()])).toEqual([0, 0]);
}, 180_000);
