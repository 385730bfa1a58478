// The whole stack in one process: the simulator's signed webhooks, the real ingress, a real
// Temporal dev server, the worker with the real activities, a streaming model. Each test asserts
// the exact sequence of requests VoIPBIN received.
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FlushTurnResult, LlmTurnResult, TurnCutOnHearing } from '../../activities/types';
import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import {
  defaultReply,
  startFakeLlm,
  type FakeLlm,
  type FakeLlmRequest,
} from '../../src/sandbox/fake-llm/server';
import { startSimulator, type Simulator } from '../../src/sandbox/simulator';
import { VoipbinClient } from '../../src/voipbin/client';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId } from '../../workflows/messages';
import { startInProcessAgent, type InProcessAgent } from '../helpers/in-process-agent';
import { bundleWorkflows, localEnv } from '../helpers/temporal-env';
import { SESSIONS_CREATED, requestSequence } from '../helpers/voipbin-requests';
import { waitFor } from '../helpers/wait-for';

const TASK_QUEUE = 'in-process-e2e';
const GREETING = DEFAULT_AGENT_CONFIG.profiles.default!.greeting;
const PLANS = [
  'We have three plans, each with unlimited calls.',
  'The basic plan is ten dollars a month.',
  'The premium plan adds international minutes.',
];
const LONG_REPLY = [
  'Sure, here is everything about your account.',
  'It was opened in March two thousand nineteen.',
  'It has two cards and one savings pocket.',
];

let env: TestWorkflowEnvironment;
let simulator: Simulator;
let llm: FakeLlm;
let agent: InProcessAgent;
let voipbin: VoipbinClient;

beforeAll(async () => {
  const [testEnv, bundle] = await Promise.all([localEnv(), bundleWorkflows()]);
  env = testEnv;
  simulator = await startSimulator({ accessKey: 'in-process-key', webhookRetryDelayMs: 100 });
  llm = await startFakeLlm({
    // The long reply pauses a long time after its first sentence: the caller always talks over it there.
    reply: (req: FakeLlmRequest) => {
      const said = String(req.messages.at(-1)?.content);
      if (said.includes('everything')) return { text: LONG_REPLY.join(' '), sentencePauseMs: 30_000 };
      if (said.endsWith('about your plans.')) return { text: PLANS.join(' ') };
      return defaultReply(req);
    },
  });
  voipbin = new VoipbinClient({ baseUrl: simulator.baseUrl, apiKey: simulator.accessKey });
  agent = await startInProcessAgent({
    client: env.client,
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    simulator,
    llm,
    workflowBundle: bundle,
  });
}, 60_000);

afterAll(async () => {
  await agent?.close();
  await simulator?.close();
  await llm?.close();
  await env?.teardown();
});

beforeEach(() => {
  simulator.requests.length = 0;
});

const summaryOf = (callId: string) =>
  env.client.workflow.getHandle<typeof callWorkflow>(callWorkflowId(callId)).result();

it('the caller talks over a streaming reply: flush, then only the new reply is said', async () => {
  const call = simulator.startInboundCall({
    from: '+15550003333',
    to: '+15550004444',
    script: {
      steps: [
        { say: 'Tell me everything about my account.', quietMs: 300 },
        { say: 'Stop, just the balance please.', duringAgentSpeech: true, afterMs: 200 },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await call.ended;
  const summary = await summaryOf(call.id);

  expect(requestSequence(simulator)).toEqual([
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
  expect(summary).toMatchObject({ endReason: 'caller-hangup', bargeIns: 1, turns: 2 });
  expect(summary.messages.map((m) => [m.role, m.text, m.interrupted ?? false])).toEqual([
    ['agent', GREETING, false],
    ['caller', 'Tell me everything about my account.', false],
    ['agent', LONG_REPLY[0], true],
    ['caller', 'Stop, just the balance please.', false],
    ['agent', 'You said: Stop, just the balance please. How else can I help you today?', false],
  ]);
  // The second turn's prompt holds what was actually said of the first reply, not all of it.
  const secondPrompt = llm.requests.at(-1)!.messages.map((m) => m.content);
  expect(secondPrompt).toContain(LONG_REPLY[0]);
  expect(secondPrompt.join(' ')).not.toContain(LONG_REPLY[1]);
  // The reply cut itself off, and flushed, when the ingress heard the caller (a barge-in's /flush
  // does not wait for the workflow's task), and ended. Its result says so; the workflow's own cut,
  // if its task for the words ran before that result came, found the flush done.
  const { cuts, results } = await cutOnHearingOf(call.id);
  expect(results).toEqual([{ at: expect.any(Number) as number, flushed: true }]);
  expect(cuts.length).toBeLessThanOrEqual(1);
  for (const cut of cuts)
    expect(cut).toEqual(
      expect.objectContaining({ flushed: true, onHearing: { at: results[0]!.at }, activityId: 'turn-1-0' }),
    );
}, 60_000);

/**
 * What each `cutTurn` (the local activity by which the workflow cuts a turn off) answered, and the
 * cuts on hearing the LLM turns' results report.
 */
async function cutOnHearingOf(
  callId: string,
): Promise<{ cuts: (FlushTurnResult | undefined)[]; results: TurnCutOnHearing[] }> {
  const history = await env.client.workflow.getHandle(callWorkflowId(callId)).fetchHistory();
  const first = (p: { payloads?: Payload[] | null } | undefined) => {
    const payload = p?.payloads?.[0];
    return payload ? defaultPayloadConverter.fromPayload<unknown>(payload) : undefined;
  };
  const events = history.events ?? [];
  const cuts = events.flatMap((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_local_activity') return [];
    const data = first(marker.details?.['data']) as { activity_type?: string } | undefined;
    if (data?.activity_type !== 'cutTurn') return [];
    return [first(marker.details?.['result']) as FlushTurnResult | undefined];
  });
  const results = events.flatMap((e) => {
    const result = first(e.activityTaskCompletedEventAttributes?.result ?? undefined) as
      LlmTurnResult | undefined;
    return result?.onHearing ? [result.onHearing] : [];
  });
  return { cuts, results };
}

it('"Mm-hmm." and "okay" during a reply: nothing cut off, the reply said once, no model request for them', async () => {
  const call = simulator.startInboundCall({
    from: '+15550003333',
    to: '+15550004444',
    script: {
      steps: [
        { say: 'Tell me about your plans.', quietMs: 300 },
        // Each plays for about three seconds: the caller acknowledges the first two as they play.
        { say: 'Mm-hmm.', duringAgentSpeech: true, afterMs: 600 },
        { say: 'okay', duringAgentSpeech: true, afterMs: 600 },
        { waitForAgent: true, quietMs: 300 },
        // Then a real interruption.
        { say: 'Tell me everything about my account.', quietMs: 300 },
        { say: 'Stop, just the balance please.', duringAgentSpeech: true, afterMs: 200 },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await call.ended;
  const summary = await summaryOf(call.id);

  expect(requestSequence(simulator)).toEqual([
    ...SESSIONS_CREATED,
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    ...PLANS.map((sentence) => `POST /speakings/{id}/say ${sentence} -> 200`),
    `POST /speakings/{id}/say ${LONG_REPLY[0]} -> 200`,
    'POST /speakings/{id}/flush -> 200',
    'POST /speakings/{id}/say You said: Stop, just the balance please. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  // The whole of the first reply was heard.
  expect(call.heard()).toEqual([
    GREETING,
    ...PLANS,
    'You said: Stop, just the balance please.',
    'How else can I help you today?',
  ]);
  // Three model requests: none for the backchannels.
  const asked = llm.requests.slice(-3).map((r) => r.messages.at(-1)!.content);
  expect(asked).toEqual([
    'Tell me about your plans.',
    // They are in what the model reads next, with what the caller said after them.
    'Mm-hmm. okay Tell me everything about my account.',
    'Stop, just the balance please.',
  ]);
  expect(summary).toMatchObject({ endReason: 'caller-hangup', bargeIns: 1, turns: 3 });
  expect(summary.messages.filter((m) => m.backchannel).map((m) => m.text)).toEqual(['Mm-hmm.', 'okay']);
}, 60_000);

it('barge-in on the words heard so far: /flush before the final transcript arrives', async () => {
  const call = simulator.startInboundCall({
    from: '+15550003333',
    to: '+15550004444',
    script: {
      steps: [
        { say: 'Tell me everything about my account.', quietMs: 300 },
        // Seven words over two seconds: the final transcript comes at the end.
        {
          say: 'Stop, just the balance please, thank you.',
          duringAgentSpeech: true,
          afterMs: 200,
          speakingMs: 2000,
        },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await call.ended;
  const summary = await summaryOf(call.id);

  expect(requestSequence(simulator)).toEqual([
    ...SESSIONS_CREATED,
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    `POST /speakings/{id}/say ${LONG_REPLY[0]} -> 200`,
    'POST /speakings/{id}/flush -> 200',
    'POST /speakings/{id}/say You said: Stop, just the balance please, thank you. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  const flushAt = simulator.requests.find((r) => r.path.endsWith('/flush'))!.at;
  const final = simulator.webhooks
    .filter(
      (w) =>
        w.type === 'transcript_created' &&
        w.body.includes('"message":"Stop, just the balance please, thank you."'),
    )
    .at(-1)!;
  const started = simulator.webhooks
    .filter((w) => w.type === 'transcribe_speech_started' && w.at < final.at)
    .at(-1)!;
  // Cut off on the second word, well before the caller finished.
  expect(flushAt).toBeLessThan(final.at - 1000);
  expect(flushAt).toBeGreaterThan(started.at);
  expect(summary.bargeIns).toBe(1);
}, 60_000);

it('two finals 400 ms apart, the first unfinished: one answer to the whole question', async () => {
  const before = llm.requests.length;
  const call = simulator.startInboundCall({
    from: '+15550003333',
    to: '+15550004444',
    script: {
      steps: [
        { say: 'I would like to know', quietMs: 300 },
        // The speech-to-text cut the utterance at a pause.
        { say: 'your opening hours please?', waitForAgent: false, afterMs: 400 },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await call.ended;
  const summary = await summaryOf(call.id);

  expect(requestSequence(simulator)).toEqual([
    ...SESSIONS_CREATED,
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    'POST /speakings/{id}/say You said: I would like to know your opening hours please. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  // No model request for the first half alone.
  expect(llm.requests.slice(before).map((r) => r.messages.at(-1)!.content)).toEqual([
    'I would like to know your opening hours please?',
  ]);
  expect(summary).toMatchObject({ endReason: 'caller-hangup', bargeIns: 0, turns: 1 });
}, 60_000);

it('the speaking session stopped by VoIPBIN mid-call: the next reply is said once, on a new session', async () => {
  // The caller asks a second and a half after the greeting has played; meanwhile, VoIPBIN stops
  // the speaking session on its own (its TTS streamer went away).
  const call = simulator.startInboundCall({
    from: '+15550005555',
    to: '+15550006666',
    script: {
      steps: [
        { say: 'What is my balance?', quietMs: 1500 },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await waitFor(() => call.heard().includes(GREETING), 'the greeting', 20_000);
  const first = (await voipbin.listSpeakings()).result.find((s) => s.reference_id === call.id)!;
  await voipbin.stopSpeaking(first.id);
  await call.ended;
  const summary = await summaryOf(call.id);

  const sequence = requestSequence(simulator);
  expect(sequence).toEqual([
    ...SESSIONS_CREATED,
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    'POST /speakings/{id}/stop -> 200', // VoIPBIN's own doing (here: the test's)
    'POST /speakings/{id}/say You said: What is my balance. -> 404',
    'POST /speakings -> 201',
    'POST /speakings/{id}/say You said: What is my balance. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
  // The new session took over: the last say and the final stop went to it.
  const sessions = simulator.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/speakings/'));
  const newId = sessions.at(-1)!.path.split('/')[2];
  expect(newId).not.toBe(first.id);
  expect(sessions.at(-2)!.path).toBe(`/speakings/${newId}/say`);
  expect(call.heard()).toEqual([GREETING, 'You said: What is my balance.', 'How else can I help you today?']);
  expect(summary).toMatchObject({ endReason: 'caller-hangup', turns: 1 });
}, 60_000);
