import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { DEFAULT_AGENT_CONFIG, type AgentProfile } from '../../src/agent-config';
import { AgentMetrics } from '../../src/metrics';
import { createCallWorker } from '../../src/worker';
import { estimatePlaybackMs } from '../../workflows/playback';
import { callWorkflow } from '../../workflows/call';
import {
  callWorkflowId,
  conversationQuery,
  reconcileSignal,
  sentenceSignal,
  voipbinEventSignal,
  type CallEvent,
  type CallStatus,
} from '../../workflows/messages';
import { FakeCallActivities, type ScriptedReply } from '../helpers/fake-activities';
import { metricValue, parseScrape } from '../helpers/metrics';
import { bundleWorkflows, timeSkippingEnv } from '../helpers/temporal-env';
import { turnEnded, waitFor } from '../helpers/wait-for';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  [env, bundle] = await Promise.all([timeSkippingEnv(), bundleWorkflows()]);
});

afterAll(async () => {
  await env?.teardown();
});

const DEFAULT_PROFILE = DEFAULT_AGENT_CONFIG.profiles.default!;
const callEvent = (callId: string, status: CallStatus): CallEvent => ({
  kind: 'call',
  eventType: `call_${status}`,
  callId,
  status,
});
let transcriptSeq = 0;
const transcript = (
  text: string,
  direction: 'in' | 'out' = 'in',
  id = `t-${++transcriptSeq}`,
): CallEvent => ({
  kind: 'transcript',
  eventType: 'transcript_created',
  id,
  transcribeId: 'transcribe-1',
  direction,
  text,
});

/** Runs one call against a fresh worker with fake activities; `body` drives it. */
async function withCall<T>(
  opts: {
    profile?: Partial<AgentProfile>;
    /** What the ingress knew of the call that the profile's prompts use. */
    variables?: Record<string, string>;
    replies?: ScriptedReply[];
    startWith?: CallStatus;
    /** Scripts VoIPBIN's answers before the call starts. */
    setup?: (fake: FakeCallActivities) => void;
  },
  body: (call: {
    fake: FakeCallActivities;
    callId: string;
    handle: WorkflowHandle<typeof callWorkflow>;
    send: (event: CallEvent) => Promise<void>;
    /** What the workflow reported to the worker's metrics. */
    metric: (name: string, labels?: Record<string, string>) => Promise<number | undefined>;
    /**
     * The caller hangs up once no reply turn runs (`turnEnded`: the time-skipping server's cancel
     * race). A test of a hangup mid-turn sends the event itself.
     */
    hangUp: () => Promise<void>;
  }) => Promise<T>,
): Promise<T> {
  const taskQueue = `test-${randomUUID()}`;
  const callId = randomUUID();
  const fake = new FakeCallActivities(() => env.client);
  const metrics = new AgentMetrics();
  fake.replies.push(...(opts.replies ?? []));
  opts.setup?.(fake);
  const worker = await createCallWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities: fake.activities(),
    workflowBundle: bundle,
    metrics,
  });
  const metric = async (name: string, labels?: Record<string, string>) =>
    metricValue(parseScrape(await metrics.scrape()), name, labels);
  return worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart(callWorkflow, {
      workflowId: callWorkflowId(callId),
      taskQueue,
      args: [
        {
          callId,
          profileName: 'default',
          profile: { ...DEFAULT_PROFILE, ...opts.profile },
          ...(opts.variables && { variables: opts.variables }),
        },
      ],
      signal: voipbinEventSignal,
      signalArgs: [callEvent(callId, opts.startWith ?? 'progressing')],
    });
    const send = (event: CallEvent) => handle.signal(voipbinEventSignal, event);
    const hangUp = async () => {
      await turnEnded(handle);
      await send(callEvent(callId, 'hangup'));
    };
    return body({ fake, callId, handle, send, metric, hangUp });
  });
}

/** Longer than any test sentence takes to play (estimated at 15 characters a second). */
const PLAYED = 6000;
const saysOf = (log: string[]) => log.filter((l) => l.startsWith('say:'));

describe('call workflow', () => {
  it('greets, answers each caller transcript sentence by sentence, and stops both sessions at hangup', async () => {
    await withCall(
      {
        replies: [
          { sentences: ['Sure, I can help with your bill.', 'What is your account number?'] },
          { sentences: ['Thanks, one moment.'] },
        ],
      },
      async ({ fake, callId, handle, send }) => {
        await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
        expect(fake.log.slice(0, 2).sort()).toEqual(['createSpeaking', 'createTranscribe']);
        await env.sleep(PLAYED); // the caller lets the greeting finish

        await send(transcript('I need help with my bill.'));
        await waitFor(() => fake.log.includes('say:What is your account number?'), 'the first reply');
        await env.sleep(PLAYED);
        // Our own speech comes back as `out` transcripts; a repeated event arrives twice.
        await send(transcript('Sure, I can help with your bill.', 'out'));
        await send(transcript('It is 12345.', 'in', 'dup-1'));
        await send(transcript('It is 12345.', 'in', 'dup-1'));
        await waitFor(() => fake.log.includes('say:Thanks, one moment.'), 'the second reply');

        // (A speaking turn's words are in the conversation once the turn has ended.)
        const view = await waitFor(async () => {
          const v = await handle.query(conversationQuery);
          return v.phase === 'listening' ? v : undefined;
        }, 'the second turn ended');
        expect(view.messages.map((m) => [m.role, m.text])).toEqual([
          ['agent', DEFAULT_PROFILE.greeting],
          ['caller', 'I need help with my bill.'],
          ['agent', 'Sure, I can help with your bill. What is your account number?'],
          ['caller', 'It is 12345.'],
          ['agent', 'Thanks, one moment.'],
        ]);

        // A repeated or late call snapshot changes nothing: no second session, no second greeting.
        await send(callEvent(callId, 'progressing'));
        await send(callEvent(callId, 'ringing'));
        await send(callEvent(callId, 'hangup'));
        const summary = await handle.result();
        expect(fake.log.slice(2)).toEqual([
          `say:${DEFAULT_PROFILE.greeting}`,
          'say:Sure, I can help with your bill.',
          'say:What is your account number?',
          'say:Thanks, one moment.',
          'stopSpeaking:speaking-1',
          'stopTranscribe',
        ]);
        expect(summary).toMatchObject({ endReason: 'caller-hangup', turns: 2, bargeIns: 0, phase: 'ended' });
        expect(summary.firstSentenceLatenciesMs).toHaveLength(2);
        // The LLM saw the system prompt's conversation so far, ending with the caller's words.
        expect(fake.llmInputs[1]!.messages.at(-1)).toEqual({ role: 'user', content: 'It is 12345.' });
        expect(fake.llmInputs[1]!.systemPrompt).toBe(DEFAULT_PROFILE.systemPrompt);
      },
    );
  });

  it('on barge-in cancels the reply, flushes, and never says a late sentence of the old reply', async () => {
    await withCall(
      {
        // Sentences signalled to the workflow, which says them (a speaking turn: below).
        profile: { replySpeech: 'workflow' },
        replies: [
          { sentences: ['Let me look that up for you.', 'Your balance is ten dollars.'], holdAfter: 1 },
          { sentences: ['Of course, cancelling that.'] },
        ],
      },
      async ({ fake, callId, handle, send, metric }) => {
        await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
        await env.sleep(PLAYED);
        await send(transcript('What is my balance?'));
        await waitFor(() => fake.log.includes('say:Let me look that up for you.'), 'the first sentence');
        // ... and VoIPBIN took it: only then is it in the conversation (a say still in flight may fail).
        await waitFor(
          async () =>
            (await handle.query(conversationQuery)).messages.some(
              (m) => m.text === 'Let me look that up for you.',
            ),
          'the first sentence recorded as said',
        );

        await send(transcript('Wait, cancel that.'));
        await waitFor(() => fake.log.includes('say:Of course, cancelling that.'), 'the new reply');
        // A sentence of the cancelled turn that arrives late is dropped.
        await handle.signal(sentenceSignal, {
          turnId: 1,
          seq: 1,
          text: 'Your balance is ten dollars.',
          attempt: 1,
        });
        await waitFor(() => fake.log.includes('llm-cancelled:1'), 'the cancelled LLM activity');

        await send(callEvent(callId, 'hangup'));
        const summary = await handle.result();
        const flushAt = fake.log.indexOf('flush');
        expect(flushAt).toBeGreaterThan(fake.log.indexOf('say:Let me look that up for you.'));
        expect(flushAt).toBeLessThan(fake.log.indexOf('say:Of course, cancelling that.'));
        expect(fake.log).not.toContain('say:Your balance is ten dollars.');
        expect(summary.bargeIns).toBe(1);
        expect(summary.messages.map((m) => [m.role, m.text, m.interrupted ?? false])).toEqual([
          ['agent', DEFAULT_PROFILE.greeting, false],
          ['caller', 'What is my balance?', false],
          ['agent', 'Let me look that up for you.', true],
          ['caller', 'Wait, cancel that.', false],
          ['agent', 'Of course, cancelling that.', false],
        ]);
        // The second turn's LLM saw what was actually said, and both caller messages.
        expect(fake.llmInputs[1]!.messages.slice(-3)).toEqual([
          { role: 'user', content: 'What is my balance?' },
          { role: 'assistant', content: 'Let me look that up for you.' },
          { role: 'user', content: 'Wait, cancel that.' },
        ]);
        // The worker's metrics: one barge-in, the turn it cut short, the one that answered.
        expect(await metric('voipbin_agent_barge_ins_total')).toBe(1);
        expect(await metric('voipbin_agent_turns_total', { outcome: 'cancelled' })).toBe(1);
        expect(await metric('voipbin_agent_turns_total', { outcome: 'completed' })).toBe(1);
        expect(await metric('voipbin_agent_turn_first_sentence_seconds_count')).toBe(2);
        expect(await metric('voipbin_agent_calls_started_total')).toBe(1);
        expect(await metric('voipbin_agent_calls_ended_total', { reason: 'caller-hangup' })).toBe(1);
        expect(await metric('voipbin_agent_reprompts_total')).toBe(0);
      },
    );
  });

  it.each([
    ['in the worker that decided it (cutTurn)', true],
    ['from another worker (flushTurn)', false],
  ])(
    'on barge-in over a turn that speaks for itself, cut off %s: its /say waited for, flushed, the next reply after',
    async (_how, here) => {
      await withCall(
        {
          setup: (fake) => (fake.turnsHere = here),
          profile: { replySpeech: 'direct' },
          replies: [
            { sentences: ['Let me look that up for you.', 'Your balance is ten dollars.'], holdAfter: 1 },
            { sentences: ['Of course, cancelling that.'] },
          ],
        },
        async ({ fake, handle, send, metric, hangUp }) => {
          await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
          await env.sleep(PLAYED);
          await send(transcript('What is my balance?'));
          await waitFor(() => fake.log.includes('say:Let me look that up for you.'), 'the first sentence');
          await send(transcript('Wait, cancel that.'));
          await waitFor(() => fake.log.includes('say:Of course, cancelling that.'), 'the new reply');
          await waitFor(() => fake.log.includes('llm-cancelled:1'), 'the cancelled LLM activity');

          await hangUp();
          const summary = await handle.result();
          // The sentence it said is flushed before the new reply; the one it had not said, never.
          const flushAt = fake.log.indexOf('flush');
          expect(flushAt).toBeGreaterThan(fake.log.indexOf('say:Let me look that up for you.'));
          expect(flushAt).toBeLessThan(fake.log.indexOf('say:Of course, cancelling that.'));
          expect(fake.log).not.toContain('say:Your balance is ten dollars.');
          expect(summary.bargeIns).toBe(1);
          expect(summary.messages.map((m) => [m.role, m.text, m.interrupted ?? false])).toEqual([
            ['agent', DEFAULT_PROFILE.greeting, false],
            ['caller', 'What is my balance?', false],
            ['agent', 'Let me look that up for you.', true],
            ['caller', 'Wait, cancel that.', false],
            ['agent', 'Of course, cancelling that.', false],
          ]);
          // The second turn's model read what the first one said before it was cut off.
          expect(fake.llmInputs[1]!.messages.slice(-3)).toEqual([
            { role: 'user', content: 'What is my balance?' },
            { role: 'assistant', content: 'Let me look that up for you.' },
            { role: 'user', content: 'Wait, cancel that.' },
          ]);
          expect(fake.llmInputs.map((i) => i.speak?.speakingId)).toEqual(['speaking-1', 'speaking-1']);
          // Which activity cut it off, as the history tells.
          const cutters = (await handle.fetchHistory()).events!.map((e) => {
            const marker = e.markerRecordedEventAttributes;
            const data =
              marker?.markerName === 'core_local_activity' && marker.details?.['data']?.payloads?.[0]?.data;
            const local = data
              ? (JSON.parse(Buffer.from(data).toString()) as { activity_type: string })
              : undefined;
            return local?.activity_type ?? e.activityTaskScheduledEventAttributes?.activityType?.name;
          });
          expect(cutters.filter((t) => t === 'cutTurn' || t === 'flushTurn')).toEqual(
            here ? ['cutTurn'] : ['cutTurn', 'flushTurn'],
          );
          expect(await metric('voipbin_agent_barge_ins_total')).toBe(1);
          expect(await metric('voipbin_agent_turns_total', { outcome: 'cancelled' })).toBe(1);
          expect(await metric('voipbin_agent_turns_total', { outcome: 'completed' })).toBe(1);
          expect(await metric('voipbin_agent_turn_first_sentence_seconds_count')).toBe(2);
        },
      );
    },
  );

  it("fills the greeting and the system prompt with the call's details", async () => {
    await withCall(
      {
        profile: {
          greeting: 'Hello, you are calling {{called}}.',
          systemPrompt: 'The caller is {{caller}}.',
        },
        variables: { caller: '+15550001234', called: 'Acme' },
        replies: [{ sentences: ['Sure.'] }],
      },
      async ({ fake, handle, send, hangUp }) => {
        await waitFor(() => fake.log.includes('say:Hello, you are calling Acme.'), 'the greeting');
        await env.sleep(PLAYED);
        await send(transcript('Hi.'));
        await waitFor(() => fake.log.includes('say:Sure.'), 'the reply');
        await hangUp();
        await handle.result();
        expect(fake.llmInputs[0]!.systemPrompt).toBe('The caller is +15550001234.');
      },
    );
  });

  it('flushes when the caller talks over the greeting still playing', async () => {
    await withCall({ replies: [{ sentences: ['Hi Sam.'] }] }, async ({ fake, handle, send, hangUp }) => {
      await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
      await send(transcript('Hi, it is Sam.'));
      await waitFor(() => fake.log.includes('say:Hi Sam.'), 'the reply');
      await hangUp();
      const summary = await handle.result();
      expect(fake.log.slice(2, 5)).toEqual([`say:${DEFAULT_PROFILE.greeting}`, 'flush', 'say:Hi Sam.']);
      expect(summary.messages[0]).toMatchObject({ kind: 'greeting', interrupted: true });
    });
  });

  it('reprompts after each silence and, after maxReprompts, says goodbye and hangs up', async () => {
    await withCall({ profile: { maxReprompts: 2 } }, async ({ fake, handle, metric }) => {
      const summary = await handle.result(); // time skips through the silences
      expect(await metric('voipbin_agent_reprompts_total')).toBe(2);
      expect(await metric('voipbin_agent_calls_ended_total', { reason: 'silence' })).toBe(1);
      expect(await metric('voipbin_agent_barge_ins_total')).toBe(0);
      // Before each reprompt, and before giving up, VoIPBIN is asked what was missed.
      expect(fake.log.slice(2)).toEqual([
        `say:${DEFAULT_PROFILE.greeting}`,
        'reconcile',
        `say:${DEFAULT_PROFILE.repromptText}`,
        'reconcile',
        `say:${DEFAULT_PROFILE.repromptText}`,
        'reconcile',
        `say:${DEFAULT_PROFILE.goodbyeText}`,
        'hangupCall',
        'stopSpeaking:speaking-1',
        'stopTranscribe',
      ]);
      expect(summary).toMatchObject({ endReason: 'silence', reprompts: 2, turns: 0 });
      // Each reprompt came a full silence timeout after the previous speech should have finished playing.
      const silenceMs = DEFAULT_PROFILE.silenceTimeoutSeconds * 1000;
      const agentTimes = summary.messages.map((m) => m.at);
      expect(agentTimes[1]! - agentTimes[0]!).toBeGreaterThanOrEqual(
        silenceMs + estimatePlaybackMs(DEFAULT_PROFILE.greeting),
      );
      expect(agentTimes[2]! - agentTimes[1]!).toBeGreaterThanOrEqual(
        silenceMs + estimatePlaybackMs(DEFAULT_PROFILE.repromptText),
      );
    });
  });

  it('caller speech resets the reprompt count', async () => {
    await withCall(
      { profile: { maxReprompts: 1 }, replies: [{ sentences: ['Go ahead.'] }] },
      async ({ fake, handle, send }) => {
        await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
        await env.sleep(DEFAULT_PROFILE.silenceTimeoutSeconds * 1000 + 5000);
        await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.repromptText}`), 'the first reprompt');
        await send(transcript('Sorry, I am here.'));
        await waitFor(() => fake.log.includes('say:Go ahead.'), 'the reply');
        const summary = await handle.result();
        expect(saysOf(fake.log)).toEqual([
          `say:${DEFAULT_PROFILE.greeting}`,
          `say:${DEFAULT_PROFILE.repromptText}`,
          'say:Go ahead.',
          `say:${DEFAULT_PROFILE.repromptText}`,
          `say:${DEFAULT_PROFILE.goodbyeText}`,
        ]);
        expect(summary).toMatchObject({ endReason: 'silence', reprompts: 2, turns: 1 });
      },
    );
  });

  it('says a short apology when the LLM fails, instead of silence', async () => {
    await withCall({ replies: [{ sentences: [], fail: true }] }, async ({ fake, handle, send, hangUp }) => {
      await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
      await send(transcript('Hello?'));
      await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.apologyText}`), 'the apology');
      await hangUp();
      const summary = await handle.result();
      expect(summary.messages.at(-1)).toMatchObject({ kind: 'apology', text: DEFAULT_PROFILE.apologyText });
    });
  });

  it('ends the call when the model calls end_call, after its reply has played', async () => {
    await withCall(
      { replies: [{ sentences: ['You are welcome, goodbye!'], endCall: true }] },
      async ({ fake, handle, send }) => {
        await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
        await send(transcript('That is all, thanks.'));
        const summary = await handle.result();
        expect(fake.log.slice(-4)).toEqual([
          'say:You are welcome, goodbye!',
          'hangupCall',
          'stopSpeaking:speaking-1',
          'stopTranscribe',
        ]);
        expect(fake.log).not.toContain(`say:${DEFAULT_PROFILE.goodbyeText}`);
        expect(summary.endReason).toBe('agent-ended');
      },
    );
  });

  it('says the goodbye itself when the model ends the call without a word', async () => {
    await withCall({ replies: [{ sentences: [], endCall: true }] }, async ({ fake, handle, send }) => {
      await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
      await env.sleep(PLAYED);
      await send(transcript('Bye.'));
      const summary = await handle.result();
      expect(fake.log.slice(-4)).toEqual([
        `say:${DEFAULT_PROFILE.goodbyeText}`,
        'hangupCall',
        'stopSpeaking:speaking-1',
        'stopTranscribe',
      ]);
      expect(summary.endReason).toBe('agent-ended');
    });
  });

  it('ends the call at maxCallSeconds with the goodbye', async () => {
    await withCall(
      { profile: { maxCallSeconds: 20, silenceTimeoutSeconds: 600 } },
      async ({ fake, handle }) => {
        const summary = await handle.result();
        expect(summary.endReason).toBe('max-duration');
        expect(fake.log.slice(-4)).toEqual([
          `say:${DEFAULT_PROFILE.goodbyeText}`,
          'hangupCall',
          'stopSpeaking:speaking-1',
          'stopTranscribe',
        ]);
        expect(summary.endedAt - summary.startedAt).toBeGreaterThanOrEqual(20_000);
      },
    );
  });

  it('creates no session for a call that hangs up before it is answered', async () => {
    await withCall({ startWith: 'ringing' }, async ({ fake, callId, handle, send }) => {
      await send(callEvent(callId, 'hangup'));
      const summary = await handle.result();
      expect(summary.endReason).toBe('caller-hangup');
      expect(fake.log).toEqual([]);
    });
  });

  it('the caller talking while the agent thinks cancels the turn (no flush), and one reply answers both', async () => {
    await withCall(
      {
        replies: [
          { sentences: ['An answer to the first half.'], holdAfter: 0 },
          { sentences: ['We open at nine.'] },
        ],
      },
      async ({ fake, handle, send, hangUp }) => {
        await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
        await env.sleep(PLAYED);
        // A question the caller goes on with while the agent thinks.
        await send(transcript('What time do you open?'));
        await waitFor(() => fake.llmInputs.length === 1, 'the first turn');
        await send(transcript('On Sundays.'));
        await waitFor(() => fake.log.includes('say:We open at nine.'), 'the reply');
        await waitFor(() => fake.log.includes('llm-cancelled:1'), 'the first turn cancelled');
        await hangUp();
        const summary = await handle.result();
        expect(saysOf(fake.log)).toEqual([`say:${DEFAULT_PROFILE.greeting}`, 'say:We open at nine.']);
        expect(fake.log).not.toContain('flush');
        // One message of both: the model answers them once, as one.
        expect(fake.llmInputs[1]!.messages.slice(-1)).toEqual([
          { role: 'user', content: 'What time do you open? On Sundays.' },
        ]);
        expect(summary).toMatchObject({ bargeIns: 1, turns: 2 });
      },
    );
  });

  it.each([
    ["a record's answer", true],
    ["the SDK's heartbeat alone", false],
  ])(
    'cancels the turn in flight when the caller hangs up (told by %s), and says nothing more',
    async (_how, recordsTellCancel) => {
      await withCall(
        {
          replies: [{ sentences: ['Let me check.', 'Still checking.'], holdAfter: 1 }],
          setup: (fake) => (fake.recordsTellCancel = recordsTellCancel),
        },
        async ({ fake, callId, handle, send }) => {
          await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
          await send(transcript('What is my balance?'));
          await waitFor(() => fake.log.includes('say:Let me check.'), 'the first sentence');
          await send(callEvent(callId, 'hangup'));
          const summary = await handle.result();
          // What the caller heard of the reply stays in the conversation, however the turn learnt of the hangup.
          expect(summary.messages.map((m) => [m.role, m.text])).toEqual([
            ['agent', DEFAULT_PROFILE.greeting],
            ['caller', 'What is my balance?'],
            ['agent', 'Let me check.'],
          ]);
          await waitFor(() => fake.log.includes('llm-cancelled:1'), 'the turn cancelled');
          expect(fake.log.slice(2)).toEqual([
            `say:${DEFAULT_PROFILE.greeting}`,
            'flush', // the caller talked over the greeting
            'say:Let me check.',
            'stopSpeaking:speaking-1',
            'stopTranscribe',
            'llm-cancelled:1',
          ]);
        },
      );
    },
  );

  it('stops both sessions when the workflow itself is cancelled', async () => {
    await withCall({}, async ({ fake, handle }) => {
      await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
      // Its `say` completed first: the time-skipping server refuses a task that cancels an activity
      // whose completion arrives while it runs (ACTIVITY_UNKNOWN), and the call would never end.
      await waitFor(
        async () => (await handle.fetchHistory()).events?.some((e) => e.activityTaskCompletedEventAttributes),
        'the greeting said',
      );
      await handle.cancel();
      await expect(handle.result()).rejects.toThrow();
      expect(fake.log.slice(-2).sort()).toEqual(['stopSpeaking:speaking-1', 'stopTranscribe']);
    });
  });

  it('a session that fails to start: hangs up, stops the other one, ends with error', async () => {
    await withCall({ setup: (fake) => (fake.failCreate.speaking = true) }, async ({ fake, handle }) => {
      const summary = await handle.result();
      expect(fake.log.slice(2)).toEqual(['hangupCall', 'stopTranscribe']);
      expect(summary).toMatchObject({ endReason: 'error', messages: [] });
    });
  });

  it('leaves a call alone that is never answered', async () => {
    await withCall({ startWith: 'ringing' }, async ({ fake, handle }) => {
      fake.reconcileAnswer = () => ({ call: 'ringing', transcripts: [] });
      const summary = await handle.result();
      expect(summary.endReason).toBe('not-answered');
      expect(summary.endedAt - summary.startedAt).toBeGreaterThanOrEqual(5 * 60_000);
      expect(fake.log.filter((l) => l !== 'reconcile')).toEqual([]);
    });
  });

  it('a final missed during an outage is answered once, instead of a reprompt', async () => {
    await withCall(
      { replies: [{ sentences: ['We are open until six.'] }] },
      async ({ fake, handle, send, hangUp }) => {
        await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
        fake.reconcileAnswer = () => ({
          call: 'progressing',
          transcripts: [
            { id: 'lost-1', transcribeId: 'transcribe-1', text: 'Are you open today?', createdAt: null },
          ],
        });
        await env.sleep(DEFAULT_PROFILE.silenceTimeoutSeconds * 1000 + PLAYED);
        await waitFor(() => fake.log.includes('say:We are open until six.'), 'the answer');
        // The same transcript delivered late after all: heard once.
        await send({ ...transcript('Are you open today?', 'in', 'lost-1') });
        await hangUp();
        const summary = await handle.result();
        expect(fake.log.slice(2)).toEqual([
          `say:${DEFAULT_PROFILE.greeting}`,
          'reconcile',
          'say:We are open until six.',
          'stopSpeaking:speaking-1',
          'stopTranscribe',
        ]);
        expect(summary.messages.filter((m) => m.role === 'caller')).toHaveLength(1);
      },
    );
  });

  it('a hangup missed during an outage ends the call: both sessions stopped, nothing said into it', async () => {
    await withCall({}, async ({ fake, handle }) => {
      await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
      fake.reconcileAnswer = () => ({ call: 'hangup', transcripts: [] });
      const summary = await handle.result();
      expect(fake.log.slice(2)).toEqual([
        `say:${DEFAULT_PROFILE.greeting}`,
        'reconcile',
        'stopSpeaking:speaking-1',
        'stopTranscribe',
      ]);
      expect(summary).toMatchObject({ endReason: 'caller-hangup', reprompts: 0 });
    });
  });

  it('reconciles when asked (the ingress refused events while Temporal was down)', async () => {
    await withCall({}, async ({ fake, handle }) => {
      await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
      fake.reconcileAnswer = () => ({ call: 'gone', transcripts: [] });
      await handle.signal(reconcileSignal, { reason: 'events-refused' });
      const summary = await handle.result();
      expect(fake.reconcileInputs).toEqual([{ callId: summary.callId, transcribeId: 'transcribe-1' }]);
      expect(summary.endReason).toBe('caller-hangup');
    });
  });

  it('the speaking session stopped by VoIPBIN: the next reply is said once, on a new session', async () => {
    await withCall(
      { replies: [{ sentences: ['Here you go.', 'Anything else?'] }] },
      async ({ fake, handle, send, hangUp }) => {
        await waitFor(() => fake.log.includes(`say:${DEFAULT_PROFILE.greeting}`), 'the greeting');
        await env.sleep(PLAYED);
        fake.sayAnswer = (_text, speakingId) => (speakingId === 'speaking-1' ? 'gone' : 'ok');
        await send(transcript('Can I have my balance?'));
        await waitFor(() => fake.log.includes('say:Anything else?'), 'the reply');
        await hangUp();
        const summary = await handle.result();
        expect(fake.log.slice(2).filter((l) => l !== 'reconcile')).toEqual([
          `say:${DEFAULT_PROFILE.greeting}`,
          'say:Here you go. -> gone',
          'createSpeaking',
          'say:Here you go.',
          'say:Anything else?',
          'stopSpeaking:speaking-2',
          'stopTranscribe',
        ]);
        expect(summary.messages.at(-1)).toMatchObject({ text: 'Here you go. Anything else?' });
      },
    );
  });
});
