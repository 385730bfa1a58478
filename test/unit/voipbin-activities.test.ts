import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { SPEAKING_GONE, type VoipbinActivities } from '../../activities/types';
import { createVoipbinActivities } from '../../activities/voipbin';
import { type SimCall, type Simulator, startSimulator } from '../../src/sandbox/simulator';
import { VoipbinClient } from '../../src/voipbin/client';
import { waitFor } from '../helpers/wait-for';

/**
 * The VoIPBIN activities against the simulator over real HTTP: what VoIPBIN received, in order.
 * VoIPBIN misbehaving (a page token that does not move, an endless list) and states the simulator
 * cannot reach are played by a scripted `fetch` at the end.
 */

const KEY = 'activities-test-accesskey-5c1e';
const anyString: unknown = expect.any(String);

/** `METHOD /path?query -> status`, the query in the order it was sent, accesskey left out. */
function line(method: string, path: string, query: Record<string, string>, status: number): string {
  const q = Object.entries(query)
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  return `${method} ${path}${q ? `?${q}` : ''} -> ${status}`;
}

const activitiesOf = (client: VoipbinClient): VoipbinActivities => createVoipbinActivities(client);

/** Runs one activity in `env`, typed. */
function runner(env: MockActivityEnvironment) {
  return <I, O>(fn: (input: I) => Promise<O>, input: I): Promise<O> => env.run<[I], O, typeof fn>(fn, input);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    const everything = [failure.message, String(failure.stack), inspect(failure, { depth: 5 })].join('\n');
    expect(everything).not.toContain(KEY);
    return failure;
  }
  throw new Error('expected the activity to fail');
}

describe('VoIPBIN activities against the simulator', () => {
  let sim: Simulator;
  let client: VoipbinClient;
  let env: MockActivityEnvironment;
  let acts: VoipbinActivities;
  let run: ReturnType<typeof runner>;
  /** Requests before this index were setup. */
  let mark = 0;

  const received = (): string[] =>
    sim.requests.slice(mark).map((r) => line(r.method, r.path, r.query, r.status));
  const startRecording = (): void => {
    mark = sim.requests.length;
  };

  async function progressingCall(): Promise<SimCall> {
    const call = sim.startInboundCall({ from: '+15551230001', to: '+15559870001' });
    await waitFor(() => call.status() === 'progressing', 'the call to be answered');
    return call;
  }

  beforeEach(async () => {
    sim = await startSimulator({ accessKey: KEY, speechCharsPerSecond: 1000 });
    client = new VoipbinClient({ baseUrl: sim.baseUrl, apiKey: KEY });
    // Failed activities are logged at WARN: expected here.
    env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
    run = runner(env);
    acts = activitiesOf(client);
    mark = 0;
  });
  afterEach(async () => {
    await sim.close();
  });

  /** The speaking create as the workflow sends it for the default profile. */
  const createSpeaking = (callId: string) =>
    run(acts.createSpeaking, { callId, language: 'en-US', provider: 'elevenlabs' });

  describe('session creates', () => {
    it('creates both sessions fresh', async () => {
      const call = await progressingCall();
      startRecording();

      const t = await run(acts.createTranscribe, { callId: call.id, language: 'en-US' });
      const s = await run(acts.createSpeaking, {
        callId: call.id,
        language: 'en-US',
        provider: 'elevenlabs',
        voiceId: 'voice-1',
      });

      expect(t).toEqual({ transcribeId: anyString, adopted: false });
      expect(s).toEqual({ speakingId: anyString, adopted: false });
      expect(received()).toEqual(['POST /transcribes -> 200', 'POST /speakings -> 201']);
      expect(sim.requests.slice(mark).map((r) => r.body)).toEqual([
        { reference_type: 'call', reference_id: call.id, language: 'en-US', direction: 'both' },
        {
          reference_type: 'call',
          reference_id: call.id,
          language: 'en-US',
          provider: 'elevenlabs',
          voice_id: 'voice-1',
          direction: 'both',
        },
      ]);
    });

    it('adopts the progressing transcribe in the same language when the create is repeated (409)', async () => {
      const call = await progressingCall();
      const first = await run(acts.createTranscribe, { callId: call.id, language: 'en-US' });
      // A newer session in another language: not the one to adopt.
      const other = await run(acts.createTranscribe, { callId: call.id, language: 'de-DE' });
      startRecording();

      const again = await run(acts.createTranscribe, { callId: call.id, language: 'en-US' });

      expect(again).toEqual({ transcribeId: first.transcribeId, adopted: true });
      expect(again.transcribeId).not.toBe(other.transcribeId);
      expect(received()).toEqual([
        'POST /transcribes -> 409',
        `GET /transcribes?page_size=100&reference_type=call&reference_id=${call.id} -> 200`,
      ]);
    });

    it('adopts the live speaking of the call when the create is repeated (500)', async () => {
      const call = await progressingCall();
      const stopped = await createSpeaking(call.id);
      await run(acts.stopSpeaking, { speakingId: stopped.speakingId });
      const live = await createSpeaking(call.id);
      // A newer live session of another call: not the one to adopt.
      const otherCall = await progressingCall();
      await createSpeaking(otherCall.id);
      startRecording();

      // The workflow may hold the id in another case than VoIPBIN writes it.
      const again = await createSpeaking(call.id.toUpperCase());

      expect(again).toEqual({ speakingId: live.speakingId, adopted: true });
      expect(received()).toEqual(['POST /speakings -> 500', 'GET /speakings?page_size=100 -> 200']);
    });

    it('reads further pages of speakings to find the one to adopt', async () => {
      const call = await progressingCall();
      const live = await createSpeaking(call.id);
      // 100 newer sessions of another call push it onto the second page.
      const other = await progressingCall();
      for (let i = 0; i < 100; i++) {
        const s = await client.createSpeaking({ reference_type: 'call', reference_id: other.id });
        await client.stopSpeaking(s.id);
      }
      startRecording();

      const again = await createSpeaking(call.id);

      expect(again).toEqual({ speakingId: live.speakingId, adopted: true });
      const token = sim.requests[mark + 2]?.query['page_token'];
      expect(token).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      expect(received()).toEqual([
        'POST /speakings -> 500',
        'GET /speakings?page_size=100 -> 200',
        `GET /speakings?page_size=100&page_token=${token} -> 200`,
      ]);
    });

    it('rethrows the 500, retryable, when there is no session to adopt (the call is not live)', async () => {
      const call = await progressingCall();
      // The call's session, stopped: never adopted.
      const stopped = await createSpeaking(call.id);
      await run(acts.stopSpeaking, { speakingId: stopped.speakingId });
      call.hangup();
      await call.ended;
      startRecording();

      const failure = await failureOf(createSpeaking(call.id));

      expect(failure.type).toBe('VoipbinApiError');
      expect(failure.nonRetryable).toBe(false);
      expect(failure.details).toEqual([{ httpStatus: 500, status: 'INTERNAL', reason: anyString }]);
      expect(received()).toEqual(['POST /speakings -> 500', 'GET /speakings?page_size=100 -> 200']);
    });

    it('does not look for a session to adopt on other failures', async () => {
      const unknownCall = randomUUID();
      startRecording();

      const t = await failureOf(run(acts.createTranscribe, { callId: unknownCall, language: 'en-US' }));
      const s = await failureOf(createSpeaking(unknownCall));

      for (const failure of [t, s]) {
        expect(failure.type).toBe('VoipbinApiError');
        expect(failure.nonRetryable).toBe(true);
        expect(failure.details).toEqual([{ httpStatus: 404, status: 'NOT_FOUND', reason: 'CALL_NOT_FOUND' }]);
      }
      expect(received()).toEqual(['POST /transcribes -> 404', 'POST /speakings -> 404']);
    });
  });

  describe('say and flush', () => {
    async function liveSpeaking(): Promise<{ call: SimCall; speakingId: string }> {
      const call = await progressingCall();
      const { speakingId } = await createSpeaking(call.id);
      return { call, speakingId };
    }

    it('says and flushes on a live session', async () => {
      const { call, speakingId } = await liveSpeaking();
      startRecording();

      await run(acts.say, { speakingId, text: 'Hello there.' });
      await run(acts.flush, { speakingId });

      expect(call.agentSaid()).toEqual(['Hello there.']);
      expect(received()).toEqual([
        `POST /speakings/${speakingId}/say -> 200`,
        `POST /speakings/${speakingId}/flush -> 200`,
      ]);
      expect(sim.requests[mark]?.body).toEqual({ text: 'Hello there.' });
    });

    it('fails with SpeakingGone, not retryable, once the session is stopped or unknown (404)', async () => {
      const { speakingId } = await liveSpeaking();
      await client.stopSpeaking(speakingId);
      const unknown = randomUUID();
      startRecording();

      const failures = [
        await failureOf(run(acts.say, { speakingId, text: 'Are you there?' })),
        await failureOf(run(acts.flush, { speakingId })),
        await failureOf(run(acts.say, { speakingId: unknown, text: 'Are you there?' })),
      ];

      for (const failure of failures) {
        expect(failure.type).toBe(SPEAKING_GONE);
        expect(failure.nonRetryable).toBe(true);
        expect(failure.details).toEqual([
          { httpStatus: 404, status: 'NOT_FOUND', reason: 'RESOURCE_NOT_FOUND' },
        ]);
        expect(failure.message).not.toContain('Are you there');
      }
      // Once each: say never retries by itself.
      expect(received()).toEqual([
        `POST /speakings/${speakingId}/say -> 404`,
        `POST /speakings/${speakingId}/flush -> 404`,
        `POST /speakings/${unknown}/say -> 404`,
      ]);
    });

    it('keeps the mapping of every other failure', async () => {
      const { speakingId } = await liveSpeaking();
      startRecording();

      const empty = await failureOf(run(acts.say, { speakingId, text: '' }));

      expect(empty.type).toBe('VoipbinApiError');
      expect(empty.nonRetryable).toBe(true);
      expect(empty.details).toEqual([{ httpStatus: 400, status: 'INVALID_ARGUMENT', reason: anyString }]);
      expect(received()).toEqual([`POST /speakings/${speakingId}/say -> 400`]);

      await sim.close();
      const refused = await failureOf(run(acts.say, { speakingId, text: 'Hello.' }));
      expect(refused.type).toBe('VoipbinNetworkError');
      expect(refused.nonRetryable).toBe(false);
    });

    it('heartbeats while /say is slow, and only then', async () => {
      const { speakingId } = await liveSpeaking();
      const beats: number[] = [];
      env.on('heartbeat', () => beats.push(performance.now()));

      // Quick: no heartbeat at all.
      await run(acts.say, { speakingId, text: 'Quick.' });
      expect(beats).toEqual([]);

      // Slow: the request is held until two heartbeats came.
      const slowClient = new VoipbinClient({
        baseUrl: sim.baseUrl,
        apiKey: KEY,
        fetch: async (input, init) => {
          await waitFor(() => beats.length >= 2, 'two heartbeats');
          return fetch(input, init);
        },
      });
      startRecording();
      const started = performance.now();
      await run(activitiesOf(slowClient).say, { speakingId, text: 'Slow.' });
      const after = beats.length;

      expect(received()).toEqual([`POST /speakings/${speakingId}/say -> 200`]);
      expect(after).toBeGreaterThanOrEqual(2);
      // Well inside the workflow's 1 s heartbeat timeout, from the start on.
      const previous = [started, ...beats];
      for (const [i, at] of beats.entries()) expect(at - (previous[i] ?? 0)).toBeLessThan(1000);
      // Nothing left behind: no heartbeat after the request ended (two periods later).
      await new Promise((r) => setTimeout(r, 700));
      expect(beats).toHaveLength(after);
    });
  });

  describe('stop and hangup', () => {
    it('stops sessions idempotently: again, and when VoIPBIN does not know them (404)', async () => {
      const call = await progressingCall();
      const { transcribeId } = await run(acts.createTranscribe, { callId: call.id, language: 'en-US' });
      const { speakingId } = await createSpeaking(call.id);
      const unknown = randomUUID();
      startRecording();

      await run(acts.stopSpeaking, { speakingId });
      await run(acts.stopSpeaking, { speakingId });
      await run(acts.stopSpeaking, { speakingId: unknown });
      await run(acts.stopTranscribe, { transcribeId });
      await run(acts.stopTranscribe, { transcribeId });
      await run(acts.stopTranscribe, { transcribeId: unknown });

      expect(received()).toEqual([
        `POST /speakings/${speakingId}/stop -> 200`,
        `POST /speakings/${speakingId}/stop -> 200`,
        `POST /speakings/${unknown}/stop -> 404`,
        `POST /transcribes/${transcribeId}/stop -> 200`,
        `POST /transcribes/${transcribeId}/stop -> 200`,
        `POST /transcribes/${unknown}/stop -> 404`,
      ]);
    });

    it('still fails a stop on anything but 404', async () => {
      startRecording();
      const failure = await failureOf(run(acts.stopSpeaking, { speakingId: 'not-a-uuid' }));
      expect(failure.type).toBe('VoipbinApiError');
      expect(failure.details).toEqual([
        { httpStatus: 400, status: 'INVALID_ARGUMENT', reason: 'INVALID_ID' },
      ]);
      expect(received()).toEqual(['POST /speakings/not-a-uuid/stop -> 400']);
    });

    it('hangs up idempotently; a call VoIPBIN does not know is hung up', async () => {
      const call = await progressingCall();
      const unknown = randomUUID();
      startRecording();

      expect(await run(acts.hangupCall, { callId: call.id })).toEqual({ status: 'terminating' });
      await call.ended;
      expect(await run(acts.hangupCall, { callId: call.id })).toEqual({ status: 'hangup' });
      expect(await run(acts.hangupCall, { callId: unknown })).toEqual({ status: 'hangup' });

      expect(received()).toEqual([
        `POST /calls/${call.id}/hangup -> 200`,
        `POST /calls/${call.id}/hangup -> 200`,
        `POST /calls/${unknown}/hangup -> 404`,
      ]);
    });
  });

  describe('transfer', () => {
    it('transfers blind to the number: VoIPBIN hangs the call up on the agent', async () => {
      const call = await progressingCall();
      startRecording();
      const result = await run(acts.transferCall, { callId: call.id, to: '+15550001111' });
      expect(result).toEqual({ transferId: anyString });
      await call.ended;
      expect(
        sim.requests.slice(mark).map((r) => [line(r.method, r.path, r.query, r.status), r.body]),
      ).toEqual([
        [
          'POST /transfers -> 200',
          {
            transfer_type: 'blind',
            transferer_call_id: call.id,
            transferee_addresses: [{ type: 'tel', target: '+15550001111' }],
          },
        ],
      ]);
      expect(call.status()).toBe('hangup');
    });

    it('does not transfer again on a retry that finds the call gone; a first attempt fails as VoIPBIN answers', async () => {
      const call = await progressingCall();
      await run(acts.transferCall, { callId: call.id, to: '+15550001111' });
      await call.ended;
      startRecording();
      const retry = new MockActivityEnvironment({ attempt: 2 }, { logger: new DefaultLogger('ERROR') });
      expect(await runner(retry)(acts.transferCall, { callId: call.id, to: '+15550001111' })).toEqual({});
      const failure = await failureOf(run(acts.transferCall, { callId: call.id, to: '+15550001111' }));
      expect(failure.details).toEqual([
        { httpStatus: 400, status: 'INVALID_ARGUMENT', reason: 'INVALID_ARGUMENT' },
      ]);
      expect(received()).toEqual([`GET /calls/${call.id} -> 200`, 'POST /transfers -> 400']);
    });
  });

  describe('reconcile', () => {
    async function transcribedCall(): Promise<{ call: SimCall; transcribeId: string; speakingId: string }> {
      const call = await progressingCall();
      const { transcribeId } = await run(acts.createTranscribe, { callId: call.id, language: 'en-US' });
      const { speakingId } = await createSpeaking(call.id);
      return { call, transcribeId, speakingId };
    }

    it('returns the caller transcripts, oldest first, without our own speech', async () => {
      const { call, transcribeId, speakingId } = await transcribedCall();
      call.speak('I need help with my bill.');
      // Our own speech comes back as an `out` transcript once it has played.
      await run(acts.say, { speakingId, text: 'Sure, one moment.' });
      await waitFor(() => call.heard().length === 1, 'the agent speech to play');
      call.speak('It is too high.');
      startRecording();

      const result = await run(acts.reconcile, { callId: call.id, transcribeId });

      expect(received()).toEqual([
        `GET /calls/${call.id} -> 200`,
        `GET /transcripts?transcribe_id=${transcribeId}&page_size=100 -> 200`,
      ]);
      expect(result).toEqual({
        call: 'progressing',
        transcripts: [
          {
            id: anyString,
            transcribeId,
            text: 'I need help with my bill.',
            createdAt: anyString,
          },
          { id: anyString, transcribeId, text: 'It is too high.', createdAt: anyString },
        ],
      });
      const page = await client.listTranscripts({ transcribeId });
      expect(page.result.map((t) => [t.direction, t.message])).toEqual([
        ['in', 'It is too high.'],
        ['out', 'Sure, one moment.'],
        ['in', 'I need help with my bill.'],
      ]);
      expect(result.transcripts.map((t) => [t.id, t.createdAt])).toEqual(
        [page.result[2], page.result[0]].map((t) => [t?.id, t?.tm_create]),
      );
    });

    it('reads transcripts only back to two minutes before sinceMs', async () => {
      const { call, transcribeId } = await transcribedCall();
      for (let i = 0; i < 130; i++) call.speak(`older ${i}`);
      // The next transcripts get a later millisecond than every older one.
      const before = Date.now();
      await waitFor(() => Date.now() > before + 2, 'the clock to move');
      for (let i = 0; i < 120; i++) call.speak(`recent ${i}`);
      const all: string[] = [];
      let firstRecent: string | null | undefined;
      for (let token: string | undefined; ;) {
        const page = await client.listTranscripts({ transcribeId, pageToken: token });
        for (const t of page.result) {
          all.push(t.message);
          if (t.message === 'recent 0') firstRecent = t.tm_create;
        }
        if (page.result.length === 0) break;
        token = page.next_page_token;
      }
      expect(all).toHaveLength(250);
      startRecording();

      // The newest transcript the workflow saw came two minutes after the first recent one.
      const sinceMs = Date.parse(firstRecent ?? '') + 120_000;
      const recent = await run(acts.reconcile, { callId: call.id, transcribeId, sinceMs });

      expect(recent.transcripts.map((t) => t.text)).toEqual(
        Array.from({ length: 120 }, (_, i) => `recent ${i}`),
      );
      const token1 = sim.requests[mark + 2]?.query['page_token'];
      expect(received()).toEqual([
        `GET /calls/${call.id} -> 200`,
        `GET /transcripts?transcribe_id=${transcribeId}&page_size=100 -> 200`,
        `GET /transcripts?transcribe_id=${transcribeId}&page_size=100&page_token=${token1} -> 200`,
      ]);

      // Without sinceMs: every transcript, and a short page ends the list.
      startRecording();
      const everything = await run(acts.reconcile, { callId: call.id, transcribeId });
      expect(everything.transcripts.map((t) => t.text)).toEqual([...all].reverse());
      expect(received()).toHaveLength(4);
      expect(received()[3]).toMatch(/page_token=.* -> 200$/);
    });

    it('reports a hung-up call with what the caller said', async () => {
      const { call, transcribeId } = await transcribedCall();
      call.speak('Goodbye.');
      call.hangup();
      await call.ended;
      startRecording();

      const result = await run(acts.reconcile, { callId: call.id, transcribeId });

      expect(result.call).toBe('hangup');
      expect(result.transcripts.map((t) => t.text)).toEqual(['Goodbye.']);
      expect(received()).toEqual([
        `GET /calls/${call.id} -> 200`,
        `GET /transcripts?transcribe_id=${transcribeId}&page_size=100 -> 200`,
      ]);
    });

    it('reports an unknown call as gone, without reading transcripts', async () => {
      const { transcribeId } = await transcribedCall();
      const unknown = randomUUID();
      startRecording();

      const result = await run(acts.reconcile, { callId: unknown, transcribeId });

      expect(result).toEqual({ call: 'gone', transcripts: [] });
      expect(received()).toEqual([`GET /calls/${unknown} -> 404`]);
    });

    it('reads no transcripts before the transcribe exists, and none of a deleted one', async () => {
      const { call, transcribeId } = await transcribedCall();
      call.speak('Hello?');
      // Deleting a transcribe deletes its transcripts; GET /transcripts then answers 404.
      const deleted = await fetch(`${sim.baseUrl}/transcribes/${transcribeId}?accesskey=${KEY}`, {
        method: 'DELETE',
      });
      expect(deleted.status).toBe(200);
      startRecording();

      const before = await run(acts.reconcile, { callId: call.id });
      const gone = await run(acts.reconcile, { callId: call.id, transcribeId });

      expect(before).toEqual({ call: 'progressing', transcripts: [] });
      expect(gone).toEqual({ call: 'progressing', transcripts: [] });
      expect(received()).toEqual([
        `GET /calls/${call.id} -> 200`,
        `GET /calls/${call.id} -> 200`,
        `GET /transcripts?transcribe_id=${transcribeId}&page_size=100 -> 404`,
      ]);
    });
  });
});

/**
 * VoIPBIN playing a part the simulator does not: `respond` answers each request, every request is
 * recorded like the simulator records it.
 */
function scriptedVoipbin(
  respond: (method: string, path: string, query: URLSearchParams) => [number, unknown],
) {
  const seen: string[] = [];
  const fake: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? 'GET';
    const path = url.pathname.replace(/^\/v1\.0/, '');
    url.searchParams.delete('accesskey');
    const [status, body] = respond(method, path, url.searchParams);
    seen.push(line(method, path, Object.fromEntries(url.searchParams), status));
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  };
  const warnings: LogEntry[] = [];
  const logger = new DefaultLogger('WARN', (entry) => warnings.push(entry));
  return {
    seen,
    warnings,
    run: runner(new MockActivityEnvironment(undefined, { logger })),
    acts: activitiesOf(new VoipbinClient({ baseUrl: 'http://voipbin.test/v1.0', apiKey: KEY, fetch: fake })),
  };
}

describe('VoIPBIN activities when VoIPBIN misbehaves', () => {
  const CUSTOMER = randomUUID();
  const CALL = randomUUID();
  const TRANSCRIBE = randomUUID();
  const callJson = {
    id: CALL,
    customer_id: CUSTOMER,
    source: { type: 'tel', target: '+15551230001' },
    destination: { type: 'tel', target: '+15559870001' },
    status: 'progressing',
  };
  const transcript = (n: number, direction: 'in' | 'out', tmCreate: string | null) => ({
    id: `t-${n}`,
    customer_id: CUSTOMER,
    transcribe_id: TRANSCRIBE,
    direction,
    message: `words ${n}`,
    tm_transcript: '0001-01-01T00:00:01Z',
    tm_create: tmCreate,
  });
  const internal = { error: { status: 'INTERNAL', reason: 'INTERNAL', message: 'Internal error.' } };

  it('keeps a transcript of unknown age and stops when the page token does not move', async () => {
    // Newest first, all within the two minutes before sinceMs, one without a time.
    const page = Array.from({ length: 100 }, (_, i) =>
      transcript(i, 'in', i === 50 ? null : `2026-01-15T09:29:30.${String(999 - i).padStart(3, '0')}Z`),
    );
    const v = scriptedVoipbin((_m, path) =>
      path === '/transcripts'
        ? [200, { result: page, next_page_token: '2026-01-15T09:00:00.000000Z' }]
        : [200, callJson],
    );

    const result = await v.run(v.acts.reconcile, {
      callId: CALL,
      transcribeId: TRANSCRIBE,
      sinceMs: Date.parse('2026-01-15T09:30:00Z'),
    });

    // The same page twice (the token did not move), each oldest first.
    expect(result.transcripts.map((t) => t.id)).toEqual([...page, ...page].reverse().map((t) => t.id));
    expect(result.transcripts.find((t) => t.id === 't-50')).toEqual({
      id: 't-50',
      transcribeId: TRANSCRIBE,
      text: 'words 50',
      createdAt: null,
    });
    expect(v.seen).toEqual([
      `GET /calls/${CALL} -> 200`,
      `GET /transcripts?transcribe_id=${TRANSCRIBE}&page_size=100 -> 200`,
      `GET /transcripts?transcribe_id=${TRANSCRIBE}&page_size=100&page_token=2026-01-15T09:00:00.000000Z -> 200`,
    ]);
  });

  it('stops reading an endless list of transcripts at 50 pages', async () => {
    let n = 0;
    const v = scriptedVoipbin((_m, path) => {
      if (path !== '/transcripts') return [200, callJson];
      n += 1;
      const result = Array.from({ length: 100 }, (_, i) => transcript(n * 100 + i, 'out', null));
      return [200, { result, next_page_token: `2026-01-15T09:00:00.${String(1e6 - n).padStart(6, '0')}Z` }];
    });

    const result = await v.run(v.acts.reconcile, { callId: CALL, transcribeId: TRANSCRIBE });

    expect(result.transcripts).toEqual([]);
    expect(v.seen).toHaveLength(51);
    expect(v.warnings.map((w): unknown[] => [w.message, w.meta?.['route'], w.meta?.['pages']])).toEqual([
      ['VoIPBIN list read up to its page cap', '/transcripts', 50],
    ]);
  });

  it('scans at most five pages of speakings, then rethrows the 500', async () => {
    let n = 0;
    const v = scriptedVoipbin((method) => {
      if (method === 'POST') return [500, internal];
      n += 1;
      const result = Array.from({ length: 100 }, () => ({
        id: randomUUID(),
        customer_id: CUSTOMER,
        reference_type: 'call',
        reference_id: randomUUID(),
        status: 'active',
        tm_create: '2026-01-15T09:30:00Z',
      }));
      return [200, { result, next_page_token: `2026-01-15T09:00:00.${String(1e6 - n).padStart(6, '0')}Z` }];
    });

    const failure = await failureOf(
      v.run(v.acts.createSpeaking, { callId: CALL, language: 'en-US', provider: 'elevenlabs' }),
    );

    expect(failure.type).toBe('VoipbinApiError');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.details).toEqual([{ httpStatus: 500, status: 'INTERNAL', reason: 'INTERNAL' }]);
    expect(v.seen).toHaveLength(6);
    expect(v.seen[0]).toBe('POST /speakings -> 500');
  });

  it('rethrows the 409 when no transcribe in that language is progressing', async () => {
    const conflict = {
      error: { status: 'ALREADY_EXISTS', reason: 'TRANSCRIBE_ALREADY_PROGRESSING', message: 'Exists.' },
    };
    const transcribe = (language: string, status: string) => ({
      id: randomUUID(),
      customer_id: CUSTOMER,
      reference_type: 'call',
      reference_id: CALL,
      status,
      language,
      tm_create: '2026-01-15T09:30:00Z',
    });
    const v = scriptedVoipbin((method) =>
      method === 'POST'
        ? [409, conflict]
        : [
            200,
            {
              result: [transcribe('de-DE', 'progressing'), transcribe('en-US', 'done')],
              next_page_token: '2026-01-15T09:30:00.000000Z',
            },
          ],
    );

    const failure = await failureOf(v.run(v.acts.createTranscribe, { callId: CALL, language: 'en-US' }));

    expect(failure.type).toBe('VoipbinApiError');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([
      { httpStatus: 409, status: 'ALREADY_EXISTS', reason: 'TRANSCRIBE_ALREADY_PROGRESSING' },
    ]);
    expect(v.seen).toEqual([
      'POST /transcribes -> 409',
      `GET /transcribes?page_size=100&reference_type=call&reference_id=${CALL} -> 200`,
    ]);
  });

  it('maps a 500 from /say as retryable, the workflow decides', async () => {
    const v = scriptedVoipbin(() => [500, internal]);
    const failure = await failureOf(v.run(v.acts.say, { speakingId: randomUUID(), text: 'Hi.' }));
    expect(failure.type).toBe('VoipbinApiError');
    expect(failure.nonRetryable).toBe(false);
    expect(v.seen).toHaveLength(1);
  });
});
