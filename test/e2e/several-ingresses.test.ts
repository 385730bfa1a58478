// Scaled out as in production: two `voipbin-agent ingress` replicas, each with its own WebSocket
// subscription (so each gets every event), webhooks shared between them by a round-robin balancer,
// and one `voipbin-agent worker`, on a real Temporal dev server. Every event reaches the call's
// workflow from both processes, so the workflow itself must act on it once (issue #8).
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import {
  defaultReply,
  startFakeLlm,
  type FakeLlm,
  type FakeLlmRequest,
} from '../../src/sandbox/fake-llm/server';
import {
  startSimulator,
  type RecordedRequest,
  type SimCall,
  type Simulator,
} from '../../src/sandbox/simulator';
import { VoipbinClient } from '../../src/voipbin/client';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId } from '../../workflows/messages';
import { AgentProcesses, freePort } from '../helpers/cli';
import { localEnv } from '../helpers/temporal-env';
import { SESSIONS_CREATED, requestSequence } from '../helpers/voipbin-requests';
import { waitFor } from '../helpers/wait-for';

const TASK_QUEUE = 'several-ingresses';
const PROFILE = DEFAULT_AGENT_CONFIG.profiles.default!;
const GREETING = PROFILE.greeting;
const REPROMPT = PROFILE.repromptText;
/** Calls to this number go to a profile that reprompts after a second and a half of silence. */
const QUICK_NUMBER = '+15550009999';
const LONG_REPLY = [
  'Sure, here is everything about your account.',
  'It was opened in March two thousand nineteen.',
  'It has two cards and one savings pocket.',
];

let env: TestWorkflowEnvironment;
let simulator: Simulator;
let llm: FakeLlm;
let voipbin: VoipbinClient;
let balancer: Balancer;
let cwd: string;
const agents = new AgentProcesses(() => cwd);

/** A load balancer in front of the replicas' webhook routes: each POST to the next one in turn. */
interface Balancer {
  url: string;
  /** Webhooks forwarded, per replica. */
  forwarded: number[];
  server: Server;
}

async function startBalancer(targets: string[]): Promise<Balancer> {
  const forwarded = targets.map(() => 0);
  let next = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const i = next++ % targets.length;
      forwarded[i]! += 1;
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'x-voipbin-signature']) {
        const value = req.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      fetch(targets[i]!, { method: 'POST', headers, body: Buffer.concat(chunks) })
        .then(async (answer) => {
          res.writeHead(answer.status, {
            'Content-Type': answer.headers.get('content-type') ?? 'text/plain',
          });
          res.end(Buffer.from(await answer.arrayBuffer()));
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/webhooks/voipbin`, forwarded, server };
}

beforeAll(async () => {
  [env, simulator, llm] = await Promise.all([
    localEnv(),
    startSimulator({ accessKey: 'several-key', webhookRetryDelayMs: 200 }),
    // The long reply pauses a long time after its first sentence: the caller always talks over it there.
    startFakeLlm({
      reply: (req: FakeLlmRequest) =>
        String(req.messages.at(-1)?.content).includes('everything')
          ? { text: LONG_REPLY.join(' '), sentencePauseMs: 30_000 }
          : defaultReply(req),
    }),
  ]);
  voipbin = new VoipbinClient({ baseUrl: simulator.baseUrl, apiKey: simulator.accessKey });
  cwd = mkdtempSync(join(tmpdir(), 'voipbin-agent-several-'));
  const agentConfig = join(cwd, 'agents.json');
  writeFileSync(
    agentConfig,
    JSON.stringify({
      profiles: { default: {}, quick: { silenceTimeoutSeconds: 1.5 } },
      routes: [
        { to: QUICK_NUMBER, profile: 'quick' },
        { to: '*', profile: 'default' },
      ],
    }),
  );
  const shared = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    VOIPBIN_BASE_URL: simulator.baseUrl,
    VOIPBIN_API_KEY: simulator.accessKey,
    AGENT_CONFIG: agentConfig,
  };
  const ports = [await freePort(), await freePort()];
  // Both replicas as deployed: webhooks and the socket (VOIPBIN_EVENTS defaults to both); the
  // webhook secret comes from GET /customer.
  const ingresses = ports.map((port) =>
    agents.start(['ingress'], { ...shared, PORT: String(port), HOST: '127.0.0.1' }),
  );
  const worker = agents.start(['worker'], { ...shared, OPENAI_BASE_URL: llm.baseUrl });
  await Promise.all([
    ...ingresses.map((p, i) => p.waitReady(ports[i]!)),
    worker.waitOutput('worker running'),
  ]);
  await waitFor(() => simulator.socketSubscribes.length === 2, 'both sockets subscribed', 20_000);
  balancer = await startBalancer(ports.map((port) => `http://127.0.0.1:${port}/webhooks/voipbin`));
  simulator.setWebhookUri(balancer.url);
}, 90_000);

afterAll(async () => {
  // No embedded Temporal server in these processes (TEMPORAL_ADDRESS is set): SIGKILL is safe.
  await agents.killAll();
  await simulator?.close();
  await llm?.close();
  if (balancer) await new Promise((resolve) => balancer.server.close(resolve));
  await env?.teardown();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

const handleOf = (callId: string) =>
  env.client.workflow.getHandle<typeof callWorkflow>(callWorkflowId(callId));

/** The call's session ids, as VoIPBIN lists them. */
async function sessionsOf(callId: string): Promise<string[]> {
  const [speakings, transcribes] = await Promise.all([
    voipbin.listSpeakings({ pageSize: 100 }),
    voipbin.listTranscribes({ referenceType: 'call', referenceId: callId, pageSize: 100 }),
  ]);
  return [...speakings.result, ...transcribes.result]
    .filter((s) => s.reference_id === callId)
    .map((s) => s.id);
}

/** What VoIPBIN was asked to do for this call alone (calls running at once interleave). */
async function sequenceOf(callId: string): Promise<string[]> {
  const ids = await sessionsOf(callId);
  const requests = simulator.requests.filter(
    (r: RecordedRequest) =>
      (r.body as { reference_id?: string } | undefined)?.reference_id === callId ||
      ids.some((id) => r.path.includes(id)),
  );
  return requestSequence({ requests });
}

/**
 * How the call's workflow was reached: its runs (one, ever), the processes that signalled it (both
 * replicas, so the workflow's own de-duplication was exercised), and the workflow tasks that failed.
 */
async function workflowOf(callId: string) {
  const runs: string[] = [];
  for await (const w of env.client.workflow.list({ query: `WorkflowId = '${callWorkflowId(callId)}'` }))
    runs.push(w.runId);
  const history = await handleOf(callId).fetchHistory();
  const events = history.events ?? [];
  const signallers = new Set(
    events.flatMap((e) =>
      e.workflowExecutionSignaledEventAttributes?.signalName === 'voipbinEvent'
        ? [e.workflowExecutionSignaledEventAttributes.identity]
        : [],
    ),
  );
  const failedTasks = events.filter((e) => e.workflowTaskFailedEventAttributes).length;
  return { runs: runs.length, signallers: signallers.size, failedTasks };
}

/** Both the call and its sessions are over: the stops were the last requests of the call. */
async function callDone(call: SimCall): Promise<void> {
  await call.ended;
  await handleOf(call.id).result();
  await simulator.webhooksIdle();
}

it('a whole call through two replicas: greeting, two turns, a barge-in, hangup, each done once', async () => {
  const call = simulator.startInboundCall({
    from: '+15550001111',
    to: '+15550002222',
    script: {
      steps: [
        { say: 'Tell me everything about my account.', quietMs: 300 },
        { say: 'Stop, just the balance please.', duringAgentSpeech: true, afterMs: 200 },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await callDone(call);
  const summary = await handleOf(call.id).result();

  expect(await sequenceOf(call.id)).toEqual([
    ...SESSIONS_CREATED,
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    `POST /speakings/{id}/say ${LONG_REPLY[0]} -> 200`,
    'POST /speakings/{id}/flush -> 200',
    'POST /speakings/{id}/say You said: Stop, just the balance please. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  expect(call.heard()).toEqual([
    GREETING,
    'You said: Stop, just the balance please.',
    'How else can I help you today?',
  ]);
  expect(summary).toMatchObject({ endReason: 'caller-hangup', turns: 2, bargeIns: 1, reprompts: 0 });
  expect(summary.messages.map((m) => [m.role, m.text])).toEqual([
    ['agent', GREETING],
    ['caller', 'Tell me everything about my account.'],
    ['agent', LONG_REPLY[0]],
    ['caller', 'Stop, just the balance please.'],
    ['agent', 'You said: Stop, just the balance please. How else can I help you today?'],
  ]);
  expect(await workflowOf(call.id)).toMatchObject({ runs: 1, signallers: 2 });
  // Both replicas took webhooks too.
  expect(balancer.forwarded.every((n) => n > 0)).toBe(true);
}, 90_000);

it('a silent caller is reprompted once, then answered once, through two replicas', async () => {
  const call = simulator.startInboundCall({ from: '+15550003333', to: QUICK_NUMBER });
  await waitFor(() => call.heard().includes(REPROMPT), 'the reprompt', 30_000);
  call.speak('Yes, I am still here.');
  await waitFor(() => call.heard().includes('How else can I help you today?'), 'the answer', 30_000);
  call.hangup();
  await callDone(call);
  const summary = await handleOf(call.id).result();

  expect(await sequenceOf(call.id)).toEqual([
    ...SESSIONS_CREATED,
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    `POST /speakings/{id}/say ${REPROMPT} -> 200`,
    'POST /speakings/{id}/say You said: Yes, I am still here. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  expect(call.heard()).toEqual([
    GREETING,
    REPROMPT,
    'You said: Yes, I am still here.',
    'How else can I help you today?',
  ]);
  expect(summary).toMatchObject({ endReason: 'caller-hangup', turns: 1, reprompts: 1 });
  expect(await workflowOf(call.id)).toMatchObject({ runs: 1, signallers: 2 });
}, 90_000);

it('calls arriving together each get one workflow and one greeting', async () => {
  const calls: SimCall[] = [];
  for (let i = 0; i < 4; i++) {
    calls.push(
      simulator.startInboundCall({
        from: `+1555000400${i}`,
        to: '+15550005000',
        script: {
          steps: [
            { say: `This is caller number ${i}.`, quietMs: 300 },
            { waitForAgent: true, quietMs: 300 },
            { hangup: true },
          ],
        },
      }),
    );
    await new Promise((r) => setTimeout(r, 80));
  }
  await Promise.all(calls.map(callDone));

  for (const [i, call] of calls.entries()) {
    expect(await sequenceOf(call.id)).toEqual([
      ...SESSIONS_CREATED,
      `POST /speakings/{id}/say ${GREETING} -> 200`,
      `POST /speakings/{id}/say You said: This is caller number ${i}. -> 200`,
      'POST /speakings/{id}/say How else can I help you today? -> 200',
      'POST /speakings/{id}/stop -> 200',
      'POST /transcribes/{id}/stop -> 200',
    ]);
    expect(call.heard()).toEqual([
      GREETING,
      `You said: This is caller number ${i}.`,
      'How else can I help you today?',
    ]);
    expect(await handleOf(call.id).result()).toMatchObject({ endReason: 'caller-hangup', turns: 1 });
    expect(await workflowOf(call.id)).toMatchObject({ runs: 1, signallers: 2 });
  }
}, 120_000);
