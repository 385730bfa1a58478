// `voipbin-agent inspect` as an operator runs it beside `serve`: the call just handled, as a
// timeline read from its Temporal history, in text and as JSON; a running call with its live
// phase; and the call found by its search attributes on the embedded server.
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultReply, startFakeLlm, type FakeLlm } from '../../src/sandbox/fake-llm/server';
import type { CallTimeline } from '../../src/inspect/timeline';
import { startSimulator, type Simulator } from '../../src/sandbox/simulator';
import { callWorkflowId } from '../../workflows/messages';
import { AgentProcess, AgentProcesses, freePort, serveEnv } from '../helpers/cli';
import { waitFor } from '../helpers/wait-for';

const LONG_QUESTION = 'Tell me everything about my account.';
const LONG_ANSWER = [
  'Sure, here is everything about your account.',
  'It was opened in March.',
  'It has two cards.',
];
const GREETING = 'Hello, thanks for calling. How can I help?';

let simulator: Simulator;
let llm: FakeLlm;
let dir: string;
let client: Client;
let at: { port: number; temporalPort: number; uiPort: number; dataDir: string };
const processes = new AgentProcesses(() => dir);
let serve: AgentProcess;

beforeAll(async () => {
  simulator = await startSimulator({ accessKey: 'inspect-key', webhookRetryDelayMs: 200 });
  // A model that streams; the long answer pauses 4 s after its first sentence, so a barge-in
  // cuts it with two sentences still to come.
  llm = await startFakeLlm({
    firstTokenDelayMs: 80,
    chunkDelayMs: 5,
    reply: (req) => {
      const said = String(req.messages.at(-1)?.content ?? '');
      if (said === LONG_QUESTION) return { text: LONG_ANSWER.join(' '), sentencePauseMs: 4000 };
      return defaultReply(req);
    },
  });
  dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-inspect-'));
  at = {
    port: await freePort(),
    temporalPort: await freePort(),
    uiPort: await freePort(),
    dataDir: join(dir, 'data'),
  };
  serve = processes.start(['serve'], serveEnv(simulator, llm.baseUrl, at, { LOG_LEVEL: 'info' }));
  await serve.waitReady(at.port);
  simulator.setWebhookUri(`http://127.0.0.1:${at.port}/webhooks/voipbin`);
  client = new Client({
    connection: await Connection.connect({ address: `127.0.0.1:${at.temporalPort}` }),
  });
}, 90_000);

afterAll(async () => {
  await client?.connection.close();
  serve?.kill('SIGTERM');
  await serve?.exited();
  await simulator?.close();
  await llm?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `voipbin-agent inspect ...` beside the running serve: its exit code and output. */
async function inspect(...args: string[]): Promise<{ code: number | null; output: string }> {
  const p = new AgentProcess(
    ['inspect', ...args],
    {
      TEMPORAL_DEV_PORT: String(at.temporalPort),
      TEMPORAL_DEV_UI_PORT: String(at.uiPort),
    },
    dir,
  );
  const code = await p.exited();
  return { code, output: p.output };
}

/** A call with a question, a long answer cut off by the caller, and a hangup; returns its id. */
async function callWithBargeIn(): Promise<string> {
  const call = simulator.startInboundCall({
    from: '+15550007777',
    to: '+15550008888',
    script: {
      steps: [
        { say: 'What are your opening hours?', quietMs: 500 },
        { say: LONG_QUESTION, quietMs: 300 },
        { say: 'Stop, just the balance please.', duringAgentSpeech: true, afterMs: 300 },
        { waitForAgent: true, quietMs: 500 },
        { hangup: true },
      ],
    },
  });
  await call.ended;
  await client.workflow.getHandle(callWorkflowId(call.id)).result();
  return call.id;
}

it('inspect <call id>: the call just finished through serve, exactly its turns and events, as text and JSON', async () => {
  const callId = await callWithBargeIn();
  const workflowId = callWorkflowId(callId);
  const text = await inspect(callId);
  expect(text.code).toBe(0);
  const lines = text.output.trimEnd().split('\n');
  const ui = `http://localhost:${at.uiPort}/namespaces/default/workflows/${workflowId}`;
  expect(lines.slice(0, 5)).toEqual([
    `call ${callId}  (workflow ${workflowId}, profile default)`,
    expect.stringMatching(/^status: completed \(caller-hangup\); 1 run; started \S+Z; lasted \d+\.\d s$/),
    '3 turn(s), 1 barge-in(s), 0 reprompt(s)',
    `Temporal UI: ${ui}`,
    '',
  ]);
  // The moments, without their times (which vary), in order.
  const moments = lines
    .slice(5, lines.indexOf('', 5))
    .map((l) => l.replace(/^ {2}\+\d+\.\d{3}s +/, '').replace(/ [0-9a-f-]{36}$/, ''))
    .map((l) => l.replace(/\s{2,}/g, '  '));
  expect(moments.filter((m) => !m.startsWith('call  ') && !m.startsWith('session'))).toEqual([
    `agent  "${GREETING}"  [greeting]`,
    'caller  "What are your opening hours?"',
    'agent  "You said: What are your opening hours."  [turn 1]',
    'agent  "How else can I help you today?"  [turn 1]',
    `caller  "${LONG_QUESTION}"`,
    `agent  "${LONG_ANSWER[0]}"  [turn 2, cut off]`,
    // The caller's words came at once (interim and final together): the final cut the agent off.
    'caller  "Stop, just the balance please."',
    `barge-in  turn 2 cancelled; flushed, cutting off "${LONG_ANSWER[0]}"`,
    'agent  "You said: Stop, just the balance please."  [turn 3]',
    'agent  "How else can I help you today?"  [turn 3]',
    'ended  caller-hangup',
  ]);
  expect(moments.filter((m) => m.startsWith('session')).sort()).toEqual([
    'session  speaking',
    'session  transcribe',
  ]);
  expect(lines.at(-4)).toBe('  turn  first token  first sentence  first /say  outcome    said  question');
  const rows = lines.slice(-3).map((l) => l.trim().split(/\s{2,}/));
  expect(rows.map(([turn, , , , outcome, said, question]) => [turn, outcome, said, question])).toEqual([
    ['1', 'completed', '2/2', '"What are your opening hours?"'],
    ['2', 'cancelled', '1/1', `"${LONG_QUESTION}"`],
    ['3', 'completed', '2/2', '"Stop, just the balance please."'],
  ]);
  // Each latency measured: first token, first sentence, first /say (ms).
  for (const row of rows)
    expect(row.slice(1, 4)).toEqual([
      expect.stringMatching(/^\d+$/),
      expect.stringMatching(/^\d+$/),
      expect.stringMatching(/^\d+$/),
    ]);

  // The same as JSON, by the workflow id this time.
  const json = await inspect('--json', workflowId);
  expect(json.code).toBe(0);
  const t = JSON.parse(json.output) as CallTimeline & { temporalUi: string };
  expect(t).toMatchObject({
    callId,
    workflowId,
    profile: 'default',
    status: 'completed',
    endReason: 'caller-hangup',
    temporalUi: ui,
    counts: { turns: 3, bargeIns: 1, reprompts: 0, callerLines: 3, agentLines: 6 },
  });
  const shown = t.entries.filter((e) => e.kind !== 'call-status' && e.kind !== 'session');
  expect(shown.map((e) => e.kind)).toEqual([
    'agent',
    'caller',
    'agent',
    'agent',
    'caller',
    'agent',
    'caller',
    'barge-in',
    'agent',
    'agent',
    'ended',
  ]);
  expect(t.entries.find((e) => e.kind === 'barge-in')).toMatchObject({
    turn: 2,
    flushed: true,
    interrupted: LONG_ANSWER[0],
    // The model had not sent them yet: the rest of the answer, never heard.
    cut: [],
  });
  // Each answered turn's latencies, from the caller's final transcript, in order of the pipeline.
  for (const turn of t.turns.filter((x) => x.outcome === 'completed')) {
    expect(turn.firstTokenMs).toBeGreaterThanOrEqual(80); // the model's own delay
    expect(turn.firstSentenceMs).toBeGreaterThanOrEqual(turn.firstTokenMs!);
    expect(turn.firstSayMs).toBeGreaterThanOrEqual(turn.firstSentenceMs!);
    expect(turn.firstSayMs).toBeLessThan(3000);
  }
  // The worker logged the call's start with its page in the Temporal UI.
  expect(serve.output).toContain(`temporalUi=${ui}`);
}, 90_000);

it('finds the call by its search attributes on the embedded server', async () => {
  const callId = await callWithBargeIn();
  const workflowId = callWorkflowId(callId);
  const found = async (query: string) => {
    const ids: string[] = [];
    for await (const w of client.workflow.list({ query })) ids.push(w.workflowId);
    return ids;
  };
  await waitFor(
    async () =>
      (await found(`VoipbinCallId = '${callId}' AND VoipbinEndReason = 'caller-hangup'`)).length === 1,
    'the call found by its VoIPBIN id and end reason',
    10_000,
  );
  expect(
    await found(
      `VoipbinProfile = 'default' AND VoipbinDirection = 'inbound' AND VoipbinCallStatus = 'hangup'`,
    ),
  ).toContain(workflowId);
  expect(await found(`VoipbinProfile = 'sales'`)).not.toContain(workflowId);
  // Phone numbers are personal data: not attributes unless the operator opts in.
  const described = await client.workflow.getHandle(workflowId).describe();
  expect(
    described.typedSearchAttributes
      .getAll()
      .map((p) => p.key.name)
      .filter((n) => n.startsWith('Voipbin'))
      .sort(),
  ).toEqual(['VoipbinCallId', 'VoipbinCallStatus', 'VoipbinDirection', 'VoipbinEndReason', 'VoipbinProfile']);
}, 90_000);

it('inspect on a running call: the live phase; an unknown call: exit 1 with why', async () => {
  const call = simulator.startInboundCall({
    from: '+15550007777',
    to: '+15550008888',
    script: { steps: [{ say: 'Hello?', quietMs: 300 }] },
  });
  try {
    await waitFor(() => call.heard().length >= 3, 'the question answered', 20_000);
    const running = await inspect(call.id);
    expect(running.code).toBe(0);
    expect(running.output).toMatch(/^status: running \(listening, call progressing\); 1 run;/m);
    expect(running.output).toMatch(/^ {2}\+\d+\.\d{3}s +caller +"Hello\?"$/m);
    expect(running.output).toMatch(
      /^ {2}\+\d+\.\d{3}s +agent +"How else can I help you today\?" +\[turn 1\]$/m,
    );
  } finally {
    call.hangup();
    await call.ended;
  }
  const unknown = await inspect('no-such-call');
  expect(unknown).toEqual({
    code: 1,
    output: 'voipbin-agent: no call no-such-call: Temporal has no workflow call-no-such-call\n',
  });
}, 60_000);
