// The call workflow on the time-skipping server with the real activities, against the VoIPBIN
// simulator and the fake model: where what matters is how the real pieces answer.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { createActivities, temporalTurnChannel } from '../../activities';
import type { Activities } from '../../activities/types';
import { DEFAULT_AGENT_CONFIG, type AgentProfile } from '../../src/agent-config';
import { startFakeLlm, type FakeLlm, type FakeLlmReply } from '../../src/sandbox/fake-llm/server';
import { startSimulator, type SimCall, type Simulator } from '../../src/sandbox/simulator';
import { VoipbinClient } from '../../src/voipbin/client';
import { VoipbinNetworkError } from '../../src/voipbin/errors';
import { createCallWorker } from '../../src/worker';
import { callWorkflow } from '../../workflows/call';
import { callWorkflowId, voipbinEventSignal, type CallEvent } from '../../workflows/messages';
import { bundleWorkflows, timeSkippingEnv } from '../helpers/temporal-env';
import { requestSequence } from '../helpers/voipbin-requests';
import { turnEnded, waitFor } from '../helpers/wait-for';

const PROFILE = DEFAULT_AGENT_CONFIG.profiles.default!;

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;
let simulator: Simulator;
let llm: FakeLlm;
let voipbin: VoipbinClient;
let nextReply: FakeLlmReply = {};

beforeAll(async () => {
  [env, bundle, simulator, llm] = await Promise.all([
    timeSkippingEnv(),
    bundleWorkflows(),
    startSimulator({ accessKey: 'workflow-key' }),
    startFakeLlm({ reply: () => nextReply }),
  ]);
  voipbin = new VoipbinClient({ baseUrl: simulator.baseUrl, apiKey: simulator.accessKey });
}, 60_000);

afterAll(async () => {
  await simulator?.close();
  await llm?.close();
  await env?.teardown();
});

beforeEach(() => {
  simulator.requests.length = 0;
});

const callEvent = (callId: string, status: 'progressing' | 'hangup'): CallEvent => ({
  kind: 'call',
  eventType: `call_${status}`,
  callId,
  status,
});

/**
 * A live call at the simulator (its webhooks go nowhere: the test signals the workflow itself),
 * and the call's workflow on a worker with the real activities, changed by `wrap`.
 */
async function withRealCall<T>(
  opts: { profile?: Partial<AgentProfile>; wrap?: (a: Activities) => Activities },
  body: (call: SimCall, result: () => ReturnType<typeof handleResult>) => Promise<T>,
): Promise<T> {
  const call = simulator.startInboundCall({ from: '+15550101010', to: '+15550202020' });
  await waitFor(() => call.status() === 'progressing', 'the call answered');
  const taskQueue = `real-${randomUUID()}`;
  const activities = createActivities({
    voipbin,
    openai: new OpenAI({ baseURL: llm.baseUrl, apiKey: 'test', maxRetries: 0 }),
    channel: temporalTurnChannel(env.client),
  });
  const worker = await createCallWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: opts.wrap ? opts.wrap(activities) : activities,
    workflowBundle: bundle,
  });
  return worker.runUntil(async () => {
    await env.client.workflow.signalWithStart(callWorkflow, {
      workflowId: callWorkflowId(call.id),
      taskQueue,
      args: [{ callId: call.id, profileName: 'default', profile: { ...PROFILE, ...opts.profile } }],
      signal: voipbinEventSignal,
      signalArgs: [callEvent(call.id, 'progressing')],
    });
    return body(call, () => handleResult(call.id));
  });
}

function handleResult(callId: string) {
  return env.client.workflow.getHandle<typeof callWorkflow>(callWorkflowId(callId)).result();
}

/** VoIPBIN carries out the request, then its answer is lost (a timeout, or the worker died). */
function answerLostOnce<F extends (input: never) => Promise<unknown>>(fn: F, route: string): F {
  let lost = false;
  return (async (input: never) => {
    const result = await fn(input);
    if (lost) return result;
    lost = true;
    throw new VoipbinNetworkError({ method: 'POST', path: route, code: 'TIMEOUT' });
  }) as F;
}

it('a session create VoIPBIN already carried out (its answer lost, or a crash) is adopted: no hangup', async () => {
  await withRealCall(
    {
      wrap: (a) => ({
        ...a,
        createTranscribe: answerLostOnce(a.createTranscribe, '/transcribes'),
        createSpeaking: answerLostOnce(a.createSpeaking, '/speakings'),
      }),
    },
    async (call, result) => {
      await waitFor(() => call.heard().includes(PROFILE.greeting), 'the greeting', 20_000);
      await env.client.workflow
        .getHandle(callWorkflowId(call.id))
        .signal(voipbinEventSignal, callEvent(call.id, 'hangup'));
      call.hangup();
      const summary = await result();
      expect(summary).toMatchObject({ endReason: 'caller-hangup' });
      // The retried creates found their sessions (409 and a bare 500) and adopted them.
      const sequence = requestSequence(simulator);
      expect(sequence.filter((l) => l.startsWith('POST /transcribes ')).sort()).toEqual([
        'POST /transcribes -> 200',
        'POST /transcribes -> 409',
      ]);
      expect(sequence.filter((l) => l.startsWith('POST /speakings ')).sort()).toEqual([
        'POST /speakings -> 201',
        'POST /speakings -> 500',
      ]);
      expect(sequence.slice(4)).toEqual([
        `POST /speakings/{id}/say ${PROFILE.greeting} -> 200`,
        'POST /speakings/{id}/stop -> 200',
        'POST /transcribes/{id}/stop -> 200',
      ]);
      expect(sequence).not.toContain('POST /calls/{id}/hangup -> 200');
      // One session of each kind for the whole call.
      const speakings = (await voipbin.listSpeakings()).result.filter((s) => s.reference_id === call.id);
      expect(speakings).toHaveLength(1);
    },
  );
});

it('a model that sends nothing gets the apology within seconds, and the call goes on', async () => {
  nextReply = { hang: true };
  await withRealCall({ profile: { firstTokenTimeoutSeconds: 0.5 } }, async (call, result) => {
    await waitFor(() => call.heard().includes(PROFILE.greeting), 'the greeting', 20_000);
    const asked = llm.requests.length;
    await env.client.workflow.getHandle(callWorkflowId(call.id)).signal(voipbinEventSignal, {
      kind: 'transcript',
      eventType: 'transcript_created',
      id: randomUUID(),
      transcribeId: 'tr',
      direction: 'in',
      text: 'Hello?',
    });
    await waitFor(() => call.agentSaid().includes(PROFILE.apologyText), 'the apology', 20_000);
    // A stall is not retried: one request, then the apology.
    expect(llm.requests.length - asked).toBe(1);
    nextReply = { text: 'Now I can help.' };
    await env.client.workflow.getHandle(callWorkflowId(call.id)).signal(voipbinEventSignal, {
      kind: 'transcript',
      eventType: 'transcript_created',
      id: randomUUID(),
      transcribeId: 'tr',
      direction: 'in',
      text: 'Are you there?',
    });
    await waitFor(() => call.agentSaid().includes('Now I can help.'), 'the next answer', 20_000);
    await turnEnded(env.client.workflow.getHandle(callWorkflowId(call.id)));
    await env.client.workflow
      .getHandle(callWorkflowId(call.id))
      .signal(voipbinEventSignal, callEvent(call.id, 'hangup'));
    call.hangup();
    const summary = await result();
    expect(summary.messages.filter((m) => m.role === 'agent').map((m) => [m.kind, m.text])).toEqual([
      ['greeting', PROFILE.greeting],
      ['apology', PROFILE.apologyText],
      ['reply', 'Now I can help.'],
    ]);
  });
});
