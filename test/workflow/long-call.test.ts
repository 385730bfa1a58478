// A call of two hours on the time-skipping server: its history stays bounded, run after run.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import { callSinks, createCallWorker } from '../../src/worker';
import { callWorkflow } from '../../workflows/call';
import {
  CALL_WORKFLOW_TASK_TIMEOUT,
  callWorkflowId,
  conversationQuery,
  voipbinEventSignal,
  type CallEvent,
} from '../../workflows/messages';
import { FakeCallActivities } from '../helpers/fake-activities';
import { bundleWorkflows, timeSkippingEnv } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait-for';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  [env, bundle] = await Promise.all([timeSkippingEnv(), bundleWorkflows()]);
});

afterAll(async () => {
  await env?.teardown();
});

const TURNS = 1500;
/** 1,500 turns of 4.8 s: two hours. */
const TURN_MS = 4800;
const PROFILE = { ...DEFAULT_AGENT_CONFIG.profiles.default!, maxCallSeconds: 3 * 3600 };
const question = (i: number) => `Question number ${i}?`;
const answer = (i: number) => `Answer number ${i}.`;
/** The caller's i-th question, as the ingress signals it. */
const asked = (i: number): CallEvent => ({
  kind: 'transcript',
  eventType: 'transcript_created',
  id: `t-${i}`,
  transcribeId: 'transcribe-1',
  direction: 'in',
  text: question(i),
});

interface Run {
  runId: string;
  events: temporal.api.history.v1.IHistoryEvent[];
  bytes: number;
}

/** Every run of the call, first to last, following each run's continued-as-new event. */
async function runsOf(client: Client, workflowId: string, firstRunId: string): Promise<Run[]> {
  const runs: Run[] = [];
  for (let runId: string | undefined = firstRunId; runId;) {
    const history: temporal.api.history.v1.IHistory = await client.workflow
      .getHandle(workflowId, runId)
      .fetchHistory();
    const events: temporal.api.history.v1.IHistoryEvent[] = history.events ?? [];
    const bytes = temporal.api.history.v1.History.encode(history).finish().length;
    runs.push({ runId, events, bytes });
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

describe('a long call', () => {
  it('two hours, 1,500 turns: continues as new, each run small, the conversation whole, the model given recent context', async () => {
    const taskQueue = `test-${randomUUID()}`;
    const callId = randomUUID();
    const fake = new FakeCallActivities(() => env.client);
    for (let i = 1; i <= TURNS; i++) fake.replies.push({ sentences: [answer(i)] });
    // Each sentence said resolves whoever waits for it: no polling, 1,500 times.
    const waiting = new Map<string, () => void>();
    const activities = fake.activities();
    fake.onSaid = (text) => waiting.get(text)?.();
    const said = (text: string) =>
      new Promise<void>((resolve) => {
        if (fake.log.includes(`say:${text}`)) resolve();
        else waiting.set(text, resolve);
      });
    const worker = await createCallWorker({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue,
      activities,
      workflowBundle: bundle,
    });
    const event = (e: CallEvent) => e;
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.signalWithStart(callWorkflow, {
        workflowId: callWorkflowId(callId),
        taskQueue,
        args: [{ callId, profileName: 'default', profile: PROFILE }],
        signal: voipbinEventSignal,
        signalArgs: [event({ kind: 'call', eventType: 'call_progressing', callId, status: 'progressing' })],
        workflowTaskTimeout: CALL_WORKFLOW_TASK_TIMEOUT,
      });
      await said(PROFILE.greeting);
      await env.sleep(TURN_MS);
      for (let i = 1; i <= TURNS; i++) {
        const heard = said(answer(i));
        await handle.signal(voipbinEventSignal, asked(i));
        await heard;
        // The answer plays; the caller asks again. Any continue-as-new happens in between.
        await env.sleep(TURN_MS);
      }
      const view = await handle.query(conversationQuery);
      await handle.signal(
        voipbinEventSignal,
        event({ kind: 'call', eventType: 'call_hangup', callId, status: 'hangup' }),
      );
      const summary = await handle.result();

      // The conversation, whole, across every run: the query and the summary alike.
      const expected = [
        ['agent', PROFILE.greeting],
        ...Array.from({ length: TURNS }, (_, k) => [
          ['caller', question(k + 1)],
          ['agent', answer(k + 1)],
        ]).flat(),
      ];
      expect(view.messages.map((m) => [m.role, m.text])).toEqual(expected);
      expect(summary.messages.map((m) => [m.role, m.text])).toEqual(expected);
      expect(summary).toMatchObject({ endReason: 'caller-hangup', turns: TURNS, bargeIns: 0, reprompts: 0 });
      expect(summary.endedAt - summary.startedAt).toBeGreaterThanOrEqual(2 * 3600 * 1000);
      expect(summary.firstSentenceLatenciesMs).toHaveLength(TURNS);
      // VoIPBIN heard each answer once, in order: nothing lost, nothing repeated across a switch.
      expect(fake.log.filter((l) => l.startsWith('say:'))).toEqual(
        expected.filter(([role]) => role === 'agent').map(([, text]) => `say:${text}`),
      );

      // Every run bounded; the call went through continue-as-new many times.
      const runs = await runsOf(env.client, handle.workflowId, handle.signaledRunId);
      expect(runs.length).toBeGreaterThan(10);
      expect(summary.run).toBe(runs.length);
      for (const run of runs) {
        expect(run.events.length).toBeLessThan(2000);
        expect(run.bytes).toBeLessThan(2 * 1024 * 1024);
        // Each run keeps the call's 2 s workflow task timeout (a dead worker's task is retried soon).
        expect(
          Number(run.events[0]!.workflowExecutionStartedEventAttributes!.workflowTaskTimeout!.seconds),
        ).toBe(2);
      }
      for (const run of runs.slice(0, -1)) {
        expect(run.events.at(-1)?.eventType).toBe(
          temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
        );
      }

      // The model is given the recent conversation, and told how much came before it.
      const last = fake.llmInputs.at(-1)!;
      expect(last.messages).toHaveLength(PROFILE.contextMessages);
      expect(last.messages.at(-1)).toEqual({ role: 'user', content: question(TURNS) });
      expect(last.messages.at(-2)).toEqual({ role: 'assistant', content: answer(TURNS - 1) });
      expect(last.earlierMessages).toBe(1 + 2 * TURNS - 1 - PROFILE.contextMessages);
      // Each turn's input is bounded: the last one no bigger than one early on.
      const size = (i: number) => JSON.stringify(fake.llmInputs[i]).length;
      expect(size(TURNS - 1)).toBeLessThan(size(PROFILE.contextMessages) + 200);
    });
  }, 600_000);
});

describe('continuing as new', () => {
  it('a transcript that arrives with the moment to continue as new is answered, not lost in the switch', async () => {
    const taskQueue = `test-${randomUUID()}`;
    const callId = randomUUID();
    const fake = new FakeCallActivities(() => env.client);
    fake.replies.push({ sentences: ['Answer one.'] }, { sentences: ['Answer two.'] });
    // No cache, so no sticky queue: the second worker gets the task the first one leaves.
    const worker = () =>
      Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace ?? 'default',
        taskQueue,
        activities: fake.activities(),
        workflowBundle: bundle,
        sinks: callSinks(),
        maxCachedWorkflows: 0,
      });
    // A budget the first turn passes: the call wants a fresh run as soon as the answer has played.
    const input = {
      callId,
      profileName: 'default',
      profile: PROFILE,
      historyBudget: { events: 20, bytes: 1e6 },
    };
    const handle = await (
      await worker()
    ).runUntil(async () => {
      const started = await env.client.workflow.signalWithStart(callWorkflow, {
        workflowId: callWorkflowId(callId),
        taskQueue,
        args: [input],
        signal: voipbinEventSignal,
        signalArgs: [{ kind: 'call', eventType: 'call_progressing', callId, status: 'progressing' }],
        workflowTaskTimeout: CALL_WORKFLOW_TASK_TIMEOUT,
      });
      await waitFor(() => fake.log.includes(`say:${PROFILE.greeting}`), 'the greeting');
      await env.sleep(TURN_MS);
      await started.signal(voipbinEventSignal, asked(1));
      await waitFor(() => fake.log.includes('say:Answer one.'), 'the first answer');
      await waitFor(
        async () => (await started.query(conversationQuery)).phase === 'listening',
        'the turn done',
      );
      return started;
    });
    // No worker: the end of the answer's playback (the moment to switch) and the caller's next
    // words reach the server together, and the next worker gets them in one workflow task.
    await env.sleep(TURN_MS);
    await handle.signal(voipbinEventSignal, asked(2));
    await (
      await worker()
    ).runUntil(async () => {
      await waitFor(() => fake.log.includes('say:Answer two.'), 'the second answer');
      await env.sleep(TURN_MS);
      await handle.signal(voipbinEventSignal, {
        kind: 'call',
        eventType: 'call_hangup',
        callId,
        status: 'hangup',
      });
      const summary = await handle.result();
      expect(summary.messages.map((m) => m.text)).toEqual([
        PROFILE.greeting,
        question(1),
        'Answer one.',
        question(2),
        'Answer two.',
      ]);
      expect(summary.run).toBeGreaterThan(1);
      expect(fake.log.filter((l) => l.startsWith('say:'))).toEqual([
        `say:${PROFILE.greeting}`,
        'say:Answer one.',
        'say:Answer two.',
      ]);
    });
  });
});
