import { DEFAULT_AGENT_CONFIG, parseAgentConfig } from '../../src/agent-config';
import { TemporalUnavailableError } from '../../src/ingress/call-workflows';
import { EventRouter, type EventRouterDeps } from '../../src/ingress/event-router';
import { Counters } from '../../src/ingress/metrics';
import { RefusedEvents } from '../../src/ingress/refused-events';
import type { TranscribeLookup } from '../../src/ingress/transcribe-lookup';
import { createLogger, silentLogger } from '../../src/logger';
import { VoipbinNetworkError } from '../../src/voipbin/errors';
import { parseWebhookEvent } from '../../src/voipbin/events';
import type { CallStatus } from '../../workflows/messages';
import {
  AGENT_NUMBER,
  CALL_ID,
  address,
  callPayload,
  envelope,
  hungUpCallPayload,
  speechPayload,
  transcribePayload,
  transcriptPayload,
  uuidFor,
} from '../fixtures/voipbin-payloads';
import { ManualSchedule } from '../helpers/manual-schedule';
import { RecordingWorkflows, type Recorded } from '../helpers/recording-workflows';

let closeRefused: () => Promise<void> = async () => undefined;
afterEach(() => closeRefused());

function setup(
  lookup: TranscribeLookup = async () => uuidFor('call-9'),
  heardHere?: EventRouterDeps['heardHere'],
) {
  const workflows = new RecordingWorkflows();
  const timers = new ManualSchedule();
  const counters = new Counters();
  const refused = new RefusedEvents({ workflows, counters, log: silentLogger, schedule: timers.schedule });
  const router = new EventRouter({
    workflows,
    agent: DEFAULT_AGENT_CONFIG,
    lookupTranscribe: lookup,
    refused,
    counters,
    log: silentLogger,
    heardHere,
  });
  closeRefused = () => refused.close();
  /** Runs the retry round the refusals scheduled, to its end. */
  const retryRound = async () => {
    expect(timers.pending.map((t) => t.delayMs)).toEqual([1000]);
    timers.fire();
    await refused.runRound();
  };
  return { workflows, timers, counters, refused, router, retryRound };
}

const event = (type: string, data: unknown) => parseWebhookEvent(envelope(type, data));
const profile = DEFAULT_AGENT_CONFIG.profiles['default']!;
const callEvent = (callId: string, status: CallStatus) =>
  ({ kind: 'call', eventType: `call_${status}`, callId, status }) as const;
const reconcile = (callId: string): Recorded => ({
  method: 'reconcile',
  callId,
  request: { reason: 'events-refused' },
});

describe('EventRouter transcribe lookups', () => {
  it('shares one lookup between transcripts of an unknown session arriving together', async () => {
    // Every lookup answers when the gate opens: after both transcripts have arrived.
    let open!: (callId: string) => void;
    const gate = new Promise<string | null>((resolve) => (open = resolve));
    const lookup = jest.fn(() => gate);
    const { router, workflows } = setup(lookup);
    const transcript = (id: string) =>
      event('transcript_created', transcriptPayload({ id, transcribe_id: uuidFor('tr-1') }));
    const both = Promise.all([
      router.route(transcript(uuidFor('a'))),
      router.route(transcript(uuidFor('b'))),
    ]);
    open(uuidFor('call-9'));
    expect(await both).toEqual(['delivered', 'delivered']);
    expect(lookup).toHaveBeenCalledTimes(1);
    expect(workflows.calls.map((c) => (c.method === 'signal' ? [c.callId, c.event] : c))).toEqual([
      [uuidFor('call-9'), expect.objectContaining({ kind: 'transcript', id: uuidFor('a') })],
      [uuidFor('call-9'), expect.objectContaining({ kind: 'transcript', id: uuidFor('b') })],
    ]);
  });
});

describe("EventRouter tells this process's speaking turns what the caller said (heardHere)", () => {
  function told() {
    const heard: { callId: string; heard: unknown; signalsBefore: number }[] = [];
    const fixture = setup(undefined, (callId, h) =>
      heard.push({ callId, heard: h, signalsBefore: fixture.workflows.calls.length }),
    );
    return { ...fixture, heard };
  }
  const transcript = (id: string, overrides: Record<string, unknown> = {}) =>
    event(
      'transcript_created',
      transcriptPayload({ id: uuidFor(id), transcribe_id: uuidFor('tr-1'), ...overrides }),
    );

  it("tells a caller's final before it is signalled, once, and never the agent's own words", async () => {
    const { router, heard, workflows } = told();
    expect(await router.route(transcript('t-1', { message: 'Stop, please.' }))).toBe('delivered');
    expect(await router.route(transcript('t-1', { message: 'Stop, please.' }))).toBe('duplicate');
    expect(await router.route(transcript('t-2', { direction: 'out', message: 'We open at nine.' }))).toBe(
      'unused',
    );
    expect(heard).toEqual([
      { callId: uuidFor('call-9'), heard: { final: true, text: 'Stop, please.' }, signalsBefore: 0 },
    ]);
    expect(workflows.calls).toHaveLength(1);
  });

  it('tells it even when Temporal cannot take it: the caller did speak, and VoIPBIN will send it again', async () => {
    const { router, heard, workflows } = told();
    workflows.respond = () => Promise.reject(new TemporalUnavailableError('Temporal is unreachable'));
    await expect(router.route(transcript('t-1', { message: 'Stop, please.' }))).rejects.toThrow(
      TemporalUnavailableError,
    );
    expect(heard.map((h) => h.heard)).toEqual([{ final: true, text: 'Stop, please.' }]);
  });

  it("tells the caller's speech at once, with VoIPBIN's time, not after the wait that may spare its signal", async () => {
    const { router, heard, workflows } = told();
    const interim = speechPayload('transcribe_speech_interim', {
      transcribe_id: uuidFor('tr-1'),
      message: 'hold on',
    });
    expect(await router.route(event('transcribe_speech_interim', interim))).toBe('speech-queued');
    await new Promise((r) => setImmediate(r));
    expect(heard).toEqual([
      {
        callId: uuidFor('call-9'),
        heard: { final: false, text: 'hold on', at: Date.parse(String(interim['tm_event'])) },
        signalsBefore: 0,
      },
    ]);
    await router.settled();
    expect(workflows.calls.map((c) => c.method)).toEqual(['speech']);
  });

  it('a failure in telling never keeps the event from its workflow', async () => {
    const { router, workflows } = setup(undefined, () => {
      throw new Error('boom');
    });
    expect(await router.route(transcript('t-1'))).toBe('delivered');
    expect(workflows.calls).toHaveLength(1);
  });
});

describe('EventRouter with Temporal unreachable', () => {
  it('remembers the calls of refused call events and transcripts, and makes up for them once Temporal is back', async () => {
    const { router, workflows, counters, retryRound } = setup();
    workflows.error = new TemporalUnavailableError('Temporal is unreachable');

    const refusedEvents = [
      event('call_progressing', callPayload({ id: uuidFor('c-start') })),
      event('transcript_created', transcriptPayload({ transcribe_id: uuidFor('tr-2') })),
      event('call_hangup', hungUpCallPayload({ id: uuidFor('c-signal') })),
    ];
    // The mapping needs no Temporal: it is taken, and tells the router whose transcripts tr-2 has.
    expect(
      await router.route(
        event(
          'transcribe_progressing',
          transcribePayload({ id: uuidFor('tr-2'), reference_id: uuidFor('c-heard') }),
        ),
      ),
    ).toBe('mapped');
    for (const e of refusedEvents)
      await expect(router.route(e)).rejects.toBeInstanceOf(TemporalUnavailableError);
    expect(counters.get('events_refused_pending')).toBe(3);

    workflows.error = undefined;
    await retryRound();
    const transcript = expect.objectContaining({
      kind: 'transcript',
      transcribeId: uuidFor('tr-2'),
    }) as unknown;
    expect(workflows.calls).toEqual([
      // What was refused (the webhooks got 503)...
      {
        method: 'signalWithStart',
        input: { callId: uuidFor('c-start'), profileName: 'default', profile },
        event: callEvent(uuidFor('c-start'), 'progressing'),
      },
      { method: 'signal', callId: uuidFor('c-heard'), event: transcript },
      { method: 'signal', callId: uuidFor('c-signal'), event: callEvent(uuidFor('c-signal'), 'hangup') },
      // ...and what the retry sent once Temporal was back: the late start first, then each reconcile.
      {
        method: 'signalWithStart',
        input: { callId: uuidFor('c-start'), profileName: 'default', profile },
        event: callEvent(uuidFor('c-start'), 'progressing'),
      },
      reconcile(uuidFor('c-start')),
      reconcile(uuidFor('c-heard')),
      reconcile(uuidFor('c-signal')),
    ]);
    expect(counters.get('events_refused_pending')).toBe(0);
  });

  it('starts late with the newest snapshot when the hangup was refused too', async () => {
    const { router, workflows, retryRound } = setup();
    workflows.error = new TemporalUnavailableError('Temporal is unreachable');
    await expect(
      router.route(event('call_progressing', callPayload({ id: uuidFor('c1') }))),
    ).rejects.toThrow();
    await expect(
      router.route(event('call_hangup', hungUpCallPayload({ id: uuidFor('c1') }))),
    ).rejects.toThrow();

    workflows.error = undefined;
    await retryRound();
    expect(workflows.calls.slice(2)).toEqual([
      {
        method: 'signalWithStart',
        input: { callId: uuidFor('c1'), profileName: 'default', profile },
        event: callEvent(uuidFor('c1'), 'hangup'),
      },
      reconcile(uuidFor('c1')),
    ]);
  });

  it('signals a `ringing` after a start it delivered, which keeps the call’s first task held back; starts on a first one', async () => {
    const { router, workflows } = setup();
    const c1 = uuidFor('c1');
    const c2 = uuidFor('c2');
    await router.route(event('call_created', callPayload({ id: c1, status: 'dialing' })));
    await router.route(event('call_ringing', callPayload({ id: c1, status: 'ringing' })));
    await router.route(event('call_progressing', callPayload({ id: c1 })));
    // This ingress never saw c2 start (another replica did, or VoIPBIN's retry comes later).
    await router.route(event('call_ringing', callPayload({ id: c2, status: 'ringing' })));
    expect(
      workflows.calls.map((c) => `${c.method} ${(c as { event?: { status?: string } }).event?.status}`),
    ).toEqual([
      'signalWithStart dialing',
      'signal ringing',
      'signalWithStart progressing',
      'signalWithStart ringing',
    ]);
  });

  it('does not start again a call that VoIPBIN’s own retry started, but still reconciles it', async () => {
    const { router, workflows, retryRound } = setup();
    workflows.error = new TemporalUnavailableError('Temporal is unreachable');
    await expect(
      router.route(event('call_ringing', callPayload({ id: uuidFor('c1'), status: 'ringing' }))),
    ).rejects.toThrow();
    workflows.error = undefined;
    expect(await router.route(event('call_progressing', callPayload({ id: uuidFor('c1') })))).toBe(
      'delivered',
    );

    await retryRound();
    expect(workflows.calls.map((c) => c.method)).toEqual(['signalWithStart', 'signalWithStart', 'reconcile']);
    expect(workflows.calls[2]).toEqual(reconcile(uuidFor('c1')));
  });

  it('remembers nothing when the transcribe lookup cannot reach VoIPBIN: the call is unknown', async () => {
    const { router, workflows, timers, counters } = setup(async (id) => {
      throw new VoipbinNetworkError({ method: 'GET', path: `/transcribes/${id}`, code: 'ECONNREFUSED' });
    });
    workflows.error = new TemporalUnavailableError('Temporal is unreachable');
    await expect(router.route(event('transcript_created', transcriptPayload()))).rejects.toBeInstanceOf(
      VoipbinNetworkError,
    );
    expect(workflows.calls).toEqual([]);
    expect(timers.pending).toEqual([]);
    expect(counters.get('events_refused_pending')).toBe(0);
  });

  it('remembers nothing on an error that is not Temporal being unreachable (a 500, not a 503)', async () => {
    const { router, workflows, timers } = setup();
    workflows.error = new Error('boom');
    await expect(router.route(event('call_progressing', callPayload()))).rejects.toThrow('boom');
    await expect(router.route(event('transcript_created', transcriptPayload()))).rejects.toThrow('boom');
    expect(workflows.calls.map((c) => c.method)).toEqual(['signalWithStart', 'signal']);
    expect(timers.pending).toEqual([]);
  });
});

describe('EventRouter with the same event arriving twice at once (webhook and socket)', () => {
  /** Temporal answers each request only when told: the first delivery is still under way. */
  function slowWorkflows(workflows: RecordingWorkflows) {
    const answers: (() => void)[] = [];
    const failures: ((err: Error) => void)[] = [];
    workflows.respond = () =>
      new Promise((resolve, reject) => {
        answers.push(() => resolve('delivered'));
        failures.push(reject);
      });
    const settled = () => new Promise((r) => setImmediate(r));
    return { answers, failures, settled };
  }

  it('signals a hangup once: the copy waits for the delivery under way and is a duplicate', async () => {
    const { router, workflows, counters } = setup();
    const slow = slowWorkflows(workflows);
    const first = router.route(event('call_hangup', hungUpCallPayload({ id: uuidFor('c1') })));
    const second = router.route(event('call_hangup', hungUpCallPayload({ id: uuidFor('c1') })));
    await slow.settled();
    expect(workflows.calls).toHaveLength(1);
    slow.answers[0]!();
    expect(await Promise.all([first, second])).toEqual(['delivered', 'duplicate']);
    expect(workflows.calls).toHaveLength(1);
    expect(counters.get('events_duplicate')).toBe(1);
  });

  it('signals a transcript once, and a copy tries again itself when the first delivery failed', async () => {
    const { router, workflows } = setup();
    const slow = slowWorkflows(workflows);
    const words = () =>
      event('transcript_created', transcriptPayload({ id: uuidFor('t-1'), transcribe_id: uuidFor('tr-1') }));
    const first = router.route(words());
    const second = router.route(words());
    await slow.settled();
    expect(workflows.calls).toHaveLength(1);
    slow.failures[0]!(new TemporalUnavailableError('Temporal is unreachable'));
    await expect(first).rejects.toThrow(TemporalUnavailableError);
    await slow.settled();
    expect(workflows.calls).toHaveLength(2);
    slow.answers[1]!();
    expect(await second).toBe('delivered');
  });
});

describe('EventRouter debug logs for events it does not hand on', () => {
  const UNROUTED_NUMBER = '+15553334444';

  /** A router whose debug log lines are kept, parsed, without their timestamp. */
  function setup() {
    const lines: Record<string, unknown>[] = [];
    const workflows = new RecordingWorkflows();
    const counters = new Counters();
    const router = new EventRouter({
      workflows,
      agent: parseAgentConfig(
        JSON.stringify({ profiles: { default: {} }, routes: [{ to: AGENT_NUMBER, profile: 'default' }] }),
        'test-agents.json',
      ),
      lookupTranscribe: jest.fn(async () => CALL_ID),
      refused: new RefusedEvents({
        workflows,
        counters,
        log: silentLogger,
        schedule: new ManualSchedule().schedule,
      }),
      counters,
      log: createLogger({
        level: 'debug',
        format: 'json',
        write: (line) => {
          const { time: _time, ...rest } = JSON.parse(line) as Record<string, unknown>;
          lines.push(rest);
        },
      }),
    });
    return { router, workflows, counters, lines };
  }

  it('says why an incoming call was not taken, with the call id and the number called', async () => {
    const { router, workflows, counters, lines } = setup();
    const event = parseWebhookEvent(
      envelope('call_ringing', callPayload({ status: 'ringing', destination: address(UNROUTED_NUMBER) })),
    );
    expect(await router.route(event)).toBe('unrouted');
    expect(lines).toEqual([
      { level: 'debug', msg: 'no route for the number called', callId: CALL_ID, to: UNROUTED_NUMBER },
    ]);
    expect(workflows.calls).toEqual([]);
    expect(counters.snapshot()).toEqual({ events_unrouted: 1 });
  });

  it('names the type of an event it does not know', async () => {
    const { router, workflows, counters, lines } = setup();
    const event = parseWebhookEvent(envelope('recording_started', { id: 'rec-1' }));
    expect(await router.route(event)).toBe('unknown-type');
    expect(lines).toEqual([
      { level: 'debug', msg: 'ignored an event of unknown type', type: 'recording_started' },
    ]);
    expect(workflows.calls).toEqual([]);
    expect(counters.snapshot()).toEqual({ 'events_unknown-type': 1 });
  });
});
