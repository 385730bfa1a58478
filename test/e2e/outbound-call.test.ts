// `voipbin-agent call`: an outbound call placed from the command line, answered, greeted, one turn,
// hung up by the callee; run by an `ingress` and a `worker` on a real Temporal dev server.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm, type FakeLlm } from '../../src/sandbox/fake-llm/server';
import { startSimulator, type Simulator } from '../../src/sandbox/simulator';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId } from '../../workflows/messages';
import { AgentProcesses, freePort } from '../helpers/cli';
import { localEnv } from '../helpers/temporal-env';
import { SESSIONS_CREATED, requestSequence } from '../helpers/voipbin-requests';

const OUR_NUMBER = '+15550007000';
const CALLEE = '+15550008000';
const GREETING = 'Hi, this is Acme calling you back.';

let env: TestWorkflowEnvironment;
let simulator: Simulator;
let llm: FakeLlm;
let cwd: string;
const agents = new AgentProcesses(() => cwd);

beforeAll(async () => {
  [env, simulator, llm] = await Promise.all([
    localEnv(),
    startSimulator({
      accessKey: 'outbound-key',
      webhookRetryDelayMs: 200,
      // The callee answers, listens to the greeting, asks one thing, listens, and hangs up.
      outboundScript: {
        steps: [
          { waitForAgent: true, quietMs: 300 },
          { say: 'Who is calling?', quietMs: 300 },
          { waitForAgent: true, quietMs: 300 },
          { hangup: true },
        ],
      },
    }),
    startFakeLlm(),
  ]);
  cwd = mkdtempSync(join(tmpdir(), 'voipbin-agent-outbound-'));
  writeFileSync(
    join(cwd, 'agent.config.json'),
    JSON.stringify({
      profiles: {
        default: {},
        callback: { greeting: GREETING, systemPrompt: 'You call {{called}} back for Acme.' },
      },
      routes: [
        { to: '*', profile: 'default' },
        { to: '*', profile: 'callback', direction: 'outbound', from: OUR_NUMBER },
      ],
    }),
  );
}, 60_000);

afterAll(async () => {
  await agents.killAll();
  await simulator?.close();
  await llm?.close();
  await env?.teardown();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

it('places a call with `call`: answered, greeted, one turn, hung up by the callee', async () => {
  const port = await freePort();
  const shared = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: 'outbound',
    VOIPBIN_BASE_URL: simulator.baseUrl,
    VOIPBIN_API_KEY: simulator.accessKey,
  };
  const ingress = agents.start(['ingress'], { ...shared, PORT: String(port), HOST: '127.0.0.1' });
  const worker = agents.start(['worker'], { ...shared, OPENAI_BASE_URL: llm.baseUrl });
  await Promise.all([ingress.waitReady(port), worker.waitOutput('worker running')]);
  simulator.setWebhookUri(`http://127.0.0.1:${port}/webhooks/voipbin`);

  const placing = agents.start(['call', '--to', CALLEE], shared);
  expect(await placing.exited()).toBe(0);
  const [callId, workflowId, status] = placing.output.trim().split(/\s+/);
  expect(workflowId).toBe(callWorkflowId(callId!));
  expect(status).toBe('dialing');
  const call = simulator.calls.get(callId!)!;
  await call.ended;
  const summary = await env.client.workflow.getHandle<typeof callWorkflow>(workflowId!).result();

  expect(summary).toMatchObject({ endReason: 'caller-hangup', turns: 1, profileName: 'callback' });
  const create = simulator.requests.find((r) => r.method === 'POST' && r.path === '/calls')!;
  expect(create.body).toEqual({
    source: { type: 'tel', target: OUR_NUMBER },
    destinations: [{ type: 'tel', target: CALLEE }],
    actions: [{ type: 'sleep', option: { duration: 1_800_000 } }],
  });
  const after = simulator.requests.slice(simulator.requests.indexOf(create) + 1);
  expect(simulator.requests.filter((r) => r.method !== 'GET').indexOf(create)).toBe(0);
  expect(requestSequence({ requests: after })).toEqual([
    ...SESSIONS_CREATED,
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    'POST /speakings/{id}/say You said: Who is calling. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  expect(call.heard()).toEqual([GREETING, 'You said: Who is calling.', 'How else can I help you today?']);
  // The prompt knew whom it called.
  expect(llm.requests.at(-1)!.messages[0]).toEqual({
    role: 'system',
    content: `You call ${CALLEE} back for Acme.`,
  });
}, 90_000);

describe('`call` refuses what it cannot place, naming why', () => {
  it.each([
    [[], 'needs --to'],
    [['--to', CALLEE, '--profile', 'default'], 'no outbound route takes calls to'],
    [['--to', CALLEE, '--var', 'novalue'], '--var takes name=value'],
  ])('%j', async (args, why) => {
    const p = agents.start(['call', ...args], {
      TEMPORAL_ADDRESS: env.address,
      VOIPBIN_BASE_URL: simulator.baseUrl,
      VOIPBIN_API_KEY: simulator.accessKey,
    });
    expect(await p.exited()).not.toBe(0);
    expect(p.output).toContain(why);
  });
});
