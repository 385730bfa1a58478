import type { activityInfo } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  decodeArrayFromPayloads,
  encodeToPayloads,
  loadDataConverter,
} from '@temporalio/common/lib/internal-non-workflow';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { temporalTurnChannel, type CallExecution, type TurnChannel } from '../../activities/turn-channel';
import {
  callerSpokeHere,
  createTurnSpeechActivities,
  FLUSH_WAIT_MS,
  runningTurn,
  TurnSpeaker,
} from '../../activities/turn-speech';
import type {
  FlushTurnInput,
  FlushTurnResult,
  SpokenSentence,
  TurnBargeIn,
  TurnSpeech,
} from '../../activities/types';
import { backchannelRule } from '../../workflows/turn-taking';
import { VoipbinClient } from '../../src/voipbin/client';
import { waitFor } from '../helpers/wait-for';

const EXECUTION = { workflowId: 'call-1', runId: 'run-1' };
const SPEAKING_ID = 'speaking-1';
const ACTIVITY_ID = 'turn-7';

type TurnState = { running: boolean; speech?: TurnSpeech };

/**
 * The turn as the server has it, one answer per read (the last one repeats), and VoIPBIN's `/flush`:
 * both go to one log, in order.
 */
function setup(turn: TurnState[], flushStatus = 200) {
  const log: string[] = [];
  const answers = [...turn];
  const channel: TurnChannel = {
    send: () => Promise.reject(new Error('not used by flushTurn')),
    received: () => Promise.reject(new Error('not used by flushTurn')),
    releaseSticky: () => Promise.reject(new Error('not used by flushTurn')),
    record: () => Promise.reject(new Error('not used by flushTurn')),
    async turnSpeech(execution: CallExecution, activityId: string) {
      expect(execution).toEqual(EXECUTION);
      log.push(`turnSpeech ${activityId}`);
      return answers.length > 1 ? answers.shift()! : answers[0]!;
    },
  };
  const fake: typeof fetch = async (url) => {
    const path = new URL(url instanceof Request ? url.url : String(url)).pathname;
    log.push(path.replace(`/v1.0/speakings/${SPEAKING_ID}/`, ''));
    const body =
      flushStatus === 200
        ? { id: SPEAKING_ID, customer_id: 'customer-1', status: 'active' }
        : { error: { status: 'X', reason: 'X', message: 'no' } };
    return new Response(JSON.stringify(body), {
      status: flushStatus,
      headers: { 'Content-Type': 'application/json' },
    });
  };
  const voipbin = new VoipbinClient({ baseUrl: 'http://voipbin.test/v1.0', apiKey: 'key', fetch: fake });
  const { flushTurn } = createTurnSpeechActivities({ channel, voipbin });
  const info: Partial<ReturnType<typeof activityInfo>> = { workflowExecution: EXECUTION };
  const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
  const run = (input: Partial<FlushTurnInput> = {}): Promise<FlushTurnResult> =>
    env.run((i: FlushTurnInput) => flushTurn(i), {
      speakingId: SPEAKING_ID,
      activityId: ACTIVITY_ID,
      playing: false,
      charsPerSecond: 15,
      ...input,
    });
  return { log, run };
}

const sentence = (text: string, at: number, outcome: SpokenSentence['outcome'] = 'done'): SpokenSentence => ({
  text,
  at,
  outcome,
});

describe('flushTurn activity', () => {
  /** The flush's report carries its own time (the workflow places the sentences by it). */
  const reportedAt = expect.any(Number) as number;
  it('waits while a /say of the turn is out, then flushes after it', async () => {
    const now = Date.now();
    const before = sentence('Long ago it was', now - 60_000);
    const { log, run } = setup([
      { running: true, speech: { said: [before], saying: { text: 'Then it ended.', at: now } } },
      { running: true, speech: { said: [before], saying: { text: 'Then it ended.', at: now } } },
      { running: true, speech: { said: [before, sentence('Then it ended.', now)] } },
    ]);
    const started = Date.now();
    const result = await run();
    expect(log).toEqual([
      `turnSpeech ${ACTIVITY_ID}`,
      `turnSpeech ${ACTIVITY_ID}`,
      `turnSpeech ${ACTIVITY_ID}`,
      'flush',
    ]);
    // Read again every 15 ms, not in a busy loop.
    expect(Date.now() - started).toBeGreaterThanOrEqual(28);
    expect(result).toEqual({
      spoken: { at: reportedAt, said: [before, sentence('Then it ended.', now)] },
      flushed: true,
    });
  });

  it('a /say never answered: after 3 s it is taken as said (maybe) and the flush goes out', async () => {
    const now = Date.now();
    const { log, run } = setup([
      { running: true, speech: { said: [], saying: { text: 'Stuck.', at: now } } },
    ]);
    const started = Date.now();
    const result = await run();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(FLUSH_WAIT_MS);
    expect(took).toBeLessThan(FLUSH_WAIT_MS + 500);
    expect(log.at(-1)).toBe('flush');
    expect(log.length).toBeLessThanOrEqual(FLUSH_WAIT_MS / 15 + 2);
    expect(result).toEqual({
      spoken: { at: reportedAt, said: [sentence('Stuck.', now, 'failed')] },
      flushed: true,
    });
  });

  it('does not flush when nothing plays: neither what the workflow sent nor what the turn said', async () => {
    const said = [sentence('Long ago it was', Date.now() - 60_000)];
    const { log, run } = setup([{ running: true, speech: { said } }]);
    const result = await run({ playing: false });
    expect(log).toEqual([`turnSpeech ${ACTIVITY_ID}`]);
    expect(result).toEqual({ spoken: { at: reportedAt, said }, flushed: false });
  });

  it('flushes when something the workflow sent may still play', async () => {
    const said = [sentence('Long ago it was', Date.now() - 60_000)];
    const { log, run } = setup([{ running: true, speech: { said } }]);
    expect(await run({ playing: true })).toEqual({ spoken: { at: reportedAt, said }, flushed: true });
    expect(log).toEqual([`turnSpeech ${ACTIVITY_ID}`, 'flush']);
  });

  it('flushes when a sentence of the turn still plays: each plays after the one before', async () => {
    const now = Date.now();
    // 2 s from now-3000 (until now-1000), then 1.5 s from there: plays until now+500. Each on its
    // own would have ended: the second is still playing only because it waits for the first.
    const said = [sentence('x'.repeat(30), now - 3000), sentence('y'.repeat(22), now - 2900)];
    const { log, run } = setup([{ running: true, speech: { said } }]);
    expect(await run()).toEqual({ spoken: { at: reportedAt, said }, flushed: true });
    expect(log).toEqual([`turnSpeech ${ACTIVITY_ID}`, 'flush']);
    // At a faster voice both have ended.
    const fast = setup([{ running: true, speech: { said } }]);
    expect(await fast.run({ charsPerSecond: 30 })).toEqual({
      spoken: { at: reportedAt, said },
      flushed: false,
    });
  });

  it('a turn that has ended: flushes (whether it still plays cannot be told), its result says what it said', async () => {
    const { log, run } = setup([{ running: false }]);
    expect(await run()).toEqual({ flushed: true });
    expect(log).toEqual([`turnSpeech ${ACTIVITY_ID}`, 'flush']);
  });

  it('a running turn that recorded nothing yet has said nothing', async () => {
    const { log, run } = setup([{ running: true }]);
    expect(await run()).toEqual({ spoken: { at: reportedAt, said: [] }, flushed: false });
    expect(log).toEqual([`turnSpeech ${ACTIVITY_ID}`]);
  });

  it('/flush answering 404: the speaking session is gone', async () => {
    const said = [sentence('Still playing.', Date.now())];
    const { run } = setup([{ running: true, speech: { said } }], 404);
    expect(await run()).toEqual({ spoken: { at: reportedAt, said }, flushed: false, gone: true });
  });

  it('/flush failing otherwise: a typed failure, retried by the workflow', async () => {
    const { run } = setup([{ running: false }], 503);
    const failure = await run().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'VoipbinApiError', nonRetryable: false });
  });
});

describe('temporalTurnChannel: a speaking turn on the server', () => {
  const converter = loadDataConverter();
  const speech: TurnSpeech = {
    said: [sentence('Hello.', 1000)],
    saying: { text: 'How can I help?', at: 2000 },
  };

  function fakeClient(service: Record<string, (req: unknown) => Promise<unknown>>) {
    const requests: unknown[] = [];
    const workflowService = Object.fromEntries(
      Object.entries(service).map(([name, fn]) => [
        name,
        (req: unknown) => {
          requests.push(req);
          return fn(req);
        },
      ]),
    );
    const client = {
      options: { namespace: 'agents', identity: 'worker-1@host', loadedDataConverter: converter },
      workflowService,
    } as unknown as Client;
    return { channel: temporalTurnChannel(client), requests };
  }

  it('records the speech as the heartbeat details, and tells a cancellation', async () => {
    const { channel, requests } = fakeClient({
      recordActivityTaskHeartbeat: async () => ({ cancelRequested: true }),
    });
    const token = Buffer.from('token-1');
    expect(await channel.record(token, speech)).toEqual({ cancelRequested: true });
    const req = requests[0] as {
      namespace: string;
      taskToken: Uint8Array;
      identity: string;
      details: { payloads: unknown[] };
    };
    expect(req).toMatchObject({ namespace: 'agents', taskToken: token, identity: 'worker-1@host' });
    // One payload: what the next attempt reads as `Info.heartbeatDetails`.
    expect(req.details.payloads).toHaveLength(1);
    expect(await decodeArrayFromPayloads(converter, req.details.payloads as never)).toEqual([speech]);

    const quiet = fakeClient({ recordActivityTaskHeartbeat: async () => ({}) });
    expect(await quiet.channel.record(token, speech)).toEqual({ cancelRequested: false });
  });

  it('a failed record fails: this attempt is no longer the running one', async () => {
    const notFound = Object.assign(new Error('5 NOT_FOUND: activity not found'), { code: 5 });
    const { channel } = fakeClient({ recordActivityTaskHeartbeat: () => Promise.reject(notFound) });
    await expect(channel.record(Buffer.from('token-1'), speech)).rejects.toBe(notFound);
  });

  it("reads the turn's last record from its pending activity, and tells an ended turn", async () => {
    const payloads = await encodeToPayloads(converter, speech);
    const pending = [
      {
        activityId: 'turn-6',
        heartbeatDetails: { payloads: await encodeToPayloads(converter, { said: [] }) },
      },
      { activityId: ACTIVITY_ID, heartbeatDetails: { payloads } },
    ];
    const { channel, requests } = fakeClient({
      describeWorkflowExecution: async () => ({ pendingActivities: pending }),
    });
    expect(await channel.turnSpeech(EXECUTION, ACTIVITY_ID)).toEqual({ running: true, speech });
    expect(requests[0]).toEqual({ namespace: 'agents', execution: EXECUTION });

    const unrecorded = fakeClient({
      describeWorkflowExecution: async () => ({ pendingActivities: [{ activityId: ACTIVITY_ID }] }),
    });
    expect(await unrecorded.channel.turnSpeech(EXECUTION, ACTIVITY_ID)).toEqual({
      running: true,
      speech: undefined,
    });

    const ended = fakeClient({ describeWorkflowExecution: async () => ({ pendingActivities: pending }) });
    expect(await ended.channel.turnSpeech(EXECUTION, 'turn-8')).toEqual({ running: false });
    const none = fakeClient({ describeWorkflowExecution: async () => ({}) });
    expect(await none.channel.turnSpeech(EXECUTION, ACTIVITY_ID)).toEqual({ running: false });
  });
});

describe('TurnSpeaker: the records around each /say', () => {
  const speakers: TurnSpeaker[] = [];
  // A failed test must not leave a speaker's heartbeat timer running.
  afterEach(() => speakers.splice(0).forEach((s) => s.close()));

  /** A speaker whose records (taking `recordMs` each) and `/say`s go to one log, in order. */
  function speaker(opts: {
    recordEveryMs: number;
    recordMs: number;
    prior?: TurnSpeech;
    scheduledAt?: number;
  }) {
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const channel: TurnChannel = {
      send: () => Promise.reject(new Error('not used')),
      received: () => Promise.reject(new Error('not used')),
      releaseSticky: () => Promise.reject(new Error('not used')),
      turnSpeech: () => Promise.reject(new Error('not used')),
      async record(_token, speech) {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        if (opts.recordMs) await new Promise((r) => setTimeout(r, opts.recordMs));
        inFlight--;
        const said = speech.said.map((s) => s.text).join(' | ');
        log.push(`record [${said}]${speech.saying ? ` saying ${speech.saying.text}` : ''}`);
        return { cancelRequested: false };
      },
    };
    const fake: typeof fetch = async (_url, init) => {
      log.push(`say ${(JSON.parse(init?.body as string) as { text: string }).text}`);
      const body = { id: SPEAKING_ID, customer_id: 'customer-1', status: 'active' };
      return new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } });
    };
    const s = new TurnSpeaker({
      channel,
      voipbin: new VoipbinClient({ baseUrl: 'http://voipbin.test/v1.0', apiKey: 'key', fetch: fake }),
      speakingId: SPEAKING_ID,
      taskToken: Buffer.from('token-1'),
      cancellation: { cancellationSignal: new AbortController().signal, cancellationDetails: undefined },
      recordEveryMs: opts.recordEveryMs,
      prior: opts.prior,
      scheduledAt: opts.scheduledAt,
      onStop: () => undefined,
      log: new DefaultLogger('ERROR'),
    });
    speakers.push(s);
    return { s, log, maxInFlight: () => maxInFlight };
  }

  it('clears `saying` with a record at once when no sentence waits, not at the next heartbeat', async () => {
    const { s, log } = speaker({ recordEveryMs: 60_000, recordMs: 0 });
    s.start();
    s.say(['One.']);
    await waitFor(() => log.includes('record [One.]'), 'the record after the /say', 2000);
    s.say(['Two.']);
    await s.finish();
    // Each record tells the server something new: a first attempt starts from the empty record the
    // server holds, and its last record is the one after its last /say.
    expect(log).toEqual([
      'record [] saying One.',
      'say One.',
      'record [One.]',
      'record [One.] saying Two.',
      'say Two.',
      'record [One. | Two.]',
    ]);
  });

  it('a later attempt records first what the earlier one left, a sentence in flight taken as said', async () => {
    const prior: TurnSpeech = {
      said: [{ text: 'One.', at: 1, outcome: 'done' }],
      saying: { text: 'Two.', at: 2 },
    };
    const { s, log } = speaker({ recordEveryMs: 60_000, recordMs: 0, prior });
    s.start();
    s.say(['Three.']);
    await s.finish();
    expect(log).toEqual([
      'record [One. | Two.]',
      'record [One. | Two.] saying Three.',
      'say Three.',
      'record [One. | Two. | Three.]',
    ]);
  });

  describe('on a fake clock', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('a heartbeat comes a full `recordEveryMs` after the last record, whatever sent it', async () => {
      const { s, log } = speaker({ recordEveryMs: 200, recordMs: 0 });
      s.start();
      await jest.advanceTimersByTimeAsync(199);
      expect(log).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(log).toEqual(['record []']);
      // At 250 ms a sentence is recorded, said and recorded again.
      await jest.advanceTimersByTimeAsync(50);
      s.say(['One.']);
      await jest.advanceTimersByTimeAsync(0);
      expect(log).toEqual(['record []', 'record [] saying One.', 'say One.', 'record [One.]']);
      // The next heartbeat is 200 ms after that, not at 400 ms.
      await jest.advanceTimersByTimeAsync(199);
      expect(log).toHaveLength(4);
      await jest.advanceTimersByTimeAsync(1);
      expect(log.at(-1)).toBe('record [One.]');
      expect(log).toHaveLength(5);
    });

    it('the first heartbeat is due `recordEveryMs` after the attempt was scheduled, not after it started', async () => {
      // Scheduled 50 ms before this worker started it: the server's heartbeat timeout runs since.
      const { s, log } = speaker({ recordEveryMs: 200, recordMs: 0, scheduledAt: Date.now() - 50 });
      s.start();
      await jest.advanceTimersByTimeAsync(149);
      expect(log).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(log).toEqual(['record []']);
    });
  });

  it('never has two records under way: a sentence waits for the heartbeat in flight', async () => {
    const { s, log, maxInFlight } = speaker({ recordEveryMs: 5, recordMs: 20 });
    s.start();
    s.say(['One.', 'Two.']);
    await s.finish();
    expect(maxInFlight()).toBe(1);
    expect(log.filter((line) => line.startsWith('say '))).toEqual(['say One.', 'say Two.']);
  });
});

/** The speakers a test made: closed after it (their record timers stopped). */
const speakers: TurnSpeaker[] = [];
afterEach(() => speakers.splice(0).forEach((s) => s.close()));

/**
 * A speaker whose records and `/say`s (and `/flush`es) go to one log, in order. A `/say` of a
 * text in `held` is answered only when the test releases it; records answer `cancelRequested`
 * once `server.cancelled` is set (the workflow's task that cut the turn is recorded).
 */
function speaker(held: string[] = [], bargeIn?: TurnBargeIn, flushStatus = 200) {
  const log: string[] = [];
  const server = { cancelled: false };
  const releases = new Map<string, () => void>();
  let recordGate: Promise<void> | undefined;
  const channel: TurnChannel = {
    send: () => Promise.reject(new Error('not used')),
    received: () => Promise.reject(new Error('not used')),
    releaseSticky: () => Promise.reject(new Error('not used')),
    turnSpeech: () => Promise.reject(new Error('not used')),
    async record(_token, speech) {
      await recordGate;
      const said = speech.said.map((s) => s.text).join(' | ');
      log.push(
        `record [${said}]${speech.saying ? ` saying ${speech.saying.text}` : ''}${speech.cut ? ' cut' : ''}`,
      );
      return { cancelRequested: server.cancelled };
    },
  };
  const fake: typeof fetch = async (url, init) => {
    const path = new URL(url instanceof Request ? url.url : String(url)).pathname;
    if (path.endsWith('/flush')) {
      log.push('flush');
      if (flushStatus !== 200) {
        const error = { error: { status: 'X', reason: 'X', message: 'no' } };
        return new Response(JSON.stringify(error), { status: flushStatus });
      }
    } else {
      const text = (JSON.parse(init?.body as string) as { text: string }).text;
      log.push(`say ${text}`);
      if (held.includes(text)) await new Promise<void>((r) => releases.set(text, r));
      log.push(`said ${text}`);
    }
    const body = { id: SPEAKING_ID, customer_id: 'customer-1', status: 'active' };
    return new Response(JSON.stringify(body), { headers: { 'Content-Type': 'application/json' } });
  };
  const voipbin = new VoipbinClient({ baseUrl: 'http://voipbin.test/v1.0', apiKey: 'key', fetch: fake });
  let stops = 0;
  const s = new TurnSpeaker({
    channel,
    voipbin,
    speakingId: SPEAKING_ID,
    taskToken: Buffer.from('token-1'),
    cancellation: { cancellationSignal: new AbortController().signal, cancellationDetails: undefined },
    recordEveryMs: 10,
    bargeIn,
    onStop: () => void stops++,
    log: new DefaultLogger('ERROR'),
  });
  speakers.push(s);
  const { cutTurn } = createTurnSpeechActivities({ channel, voipbin });
  const release = (text: string) => releases.get(text)?.();
  const holdRecords = () => {
    let open: () => void = () => undefined;
    recordGate = new Promise<void>((r) => (open = r));
    return () => {
      recordGate = undefined;
      open();
    };
  };
  return { s, log, server, release, holdRecords, stops: () => stops, cutTurn };
}

/** The requests VoIPBIN got, without the records. */
const says = (log: string[]) => log.filter((l) => !l.startsWith('record'));

describe('TurnSpeaker.cut and cutTurn: a turn cut off in the process it runs in', () => {
  it('a /say in flight is waited for; nothing after it is said; the turn ends once the server has its cancellation', async () => {
    const { s, log, server, release, stops } = speaker(['Two.']);
    s.start();
    s.say(['One.', 'Two.', 'Three.']);
    await waitFor(() => log.includes('say Two.'), 'the second /say out');
    const cut = s.cut();
    let cutDone = false;
    void cut.then(() => (cutDone = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(cutDone).toBe(false);
    release('Two.');
    const { spoken, inFlight } = (await cut)!;
    expect(inFlight).toBe(true);
    expect(spoken.said.map((x) => x.text)).toEqual(['One.', 'Two.']);
    expect(stops()).toBe(1);
    // It does not end before the server has the workflow's cancellation.
    let finished = false;
    const finishing = s.finish().then(() => (finished = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(finished).toBe(false);
    server.cancelled = true;
    await finishing;
    expect(s.cancelled).toBe(true);
    expect(says(log)).toEqual(['say One.', 'said One.', 'say Two.', 'said Two.']);
  });

  it('a sentence whose record is under way when the cut comes is never sent, nor reported', async () => {
    const { s, log, server, holdRecords } = speaker();
    s.start();
    s.say(['One.']);
    await waitFor(() => log.includes('said One.'), 'the first sentence said');
    const open = holdRecords();
    s.say(['Two.']);
    await new Promise((r) => setTimeout(r, 20));
    const { spoken, inFlight } = (await s.cut())!;
    expect(inFlight).toBe(false);
    expect(spoken.said.map((x) => x.text)).toEqual(['One.']);
    server.cancelled = true;
    open();
    await s.finish();
    expect(says(log)).toEqual(['say One.', 'said One.']);
  });

  it('cutTurn finds the turn running in this process, cuts it and flushes; elsewhere it answers nothing', async () => {
    const { s, log, server, cutTurn } = speaker();
    s.start();
    s.say(['One.']);
    await waitFor(() => log.includes('said One.'), 'the sentence said');
    const info: Partial<ReturnType<typeof activityInfo>> = { workflowExecution: EXECUTION };
    const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
    const input: FlushTurnInput = {
      speakingId: SPEAKING_ID,
      activityId: ACTIVITY_ID,
      playing: false,
      charsPerSecond: 15,
    };
    // Not registered here (the turn runs on another worker): the workflow goes through the server.
    expect(await env.run(cutTurn, input)).toBeUndefined();
    const notHere = runningTurn(EXECUTION, ACTIVITY_ID, s);
    // Another step of the call is not this one.
    expect(await env.run(cutTurn, { ...input, activityId: 'turn-8' })).toBeUndefined();
    const result: FlushTurnResult | undefined = await env.run(cutTurn, input);
    expect(result?.spoken?.said.map((x) => x.text)).toEqual(['One.']);
    // "One." still plays: flushed.
    expect(result).toMatchObject({ activityId: ACTIVITY_ID, flushed: true });
    expect(result?.onHearing).toBeUndefined();
    expect(says(log)).toEqual(['say One.', 'said One.', 'flush']);
    notHere();
    expect(await env.run(cutTurn, input)).toBeUndefined();
    server.cancelled = true;
    await s.finish();
  });
});

describe('a speaking turn cut off when this process hears the caller (callerSpokeHere)', () => {
  const removals: (() => void)[] = [];
  afterEach(() => removals.splice(0).forEach((r) => r()));

  /** The default profile's rule: two words cut in, "mm-hmm okay" does not. */
  const WORDS: TurnBargeIn = {
    mode: 'words',
    words: 2,
    backchannel: backchannelRule('en-US', undefined, 3),
    charsPerSecond: 15,
    since: Date.parse('2026-01-15T09:30:00Z'),
  };

  /** A running turn of EXECUTION's call, registered as llmTurn registers it (`speaker`'s log). */
  function turn(bargeIn: TurnBargeIn | undefined, held: string[] = [], flushStatus?: number) {
    const t = speaker(held, bargeIn, flushStatus);
    removals.push(runningTurn(EXECUTION, ACTIVITY_ID, t.s));
    const env = new MockActivityEnvironment(
      { workflowExecution: EXECUTION },
      { logger: new DefaultLogger('ERROR') },
    );
    const input: FlushTurnInput = {
      speakingId: SPEAKING_ID,
      activityId: ACTIVITY_ID,
      playing: false,
      charsPerSecond: 15,
    };
    /** The workflow's own cut, when its task for the same words runs (a local activity). */
    const workflowCuts = (): Promise<FlushTurnResult | undefined> => env.run(t.cutTurn, input);
    return { ...t, workflowCuts };
  }

  it("a final cuts the turn off and flushes at once; the workflow's cut then finds it done and flushes nothing", async () => {
    const { s, log, server, workflowCuts } = turn(WORDS);
    s.start();
    s.say(['One.']);
    await waitFor(() => log.includes('said One.'), 'the first sentence said');
    expect(callerSpokeHere(EXECUTION.workflowId, { final: true, text: 'Stop, please.' })).toBe(1);
    await waitFor(() => log.includes('flush'), 'the flush');
    // Said after the cut: nothing.
    s.say(['Two.']);
    const result = await workflowCuts();
    expect(result).toMatchObject({
      activityId: ACTIVITY_ID,
      flushed: true,
      onHearing: { at: expect.any(Number) as number },
    });
    expect(result?.spoken?.said.map((x) => x.text)).toEqual(['One.']);
    server.cancelled = true;
    await s.finish();
    expect(s.cancelled).toBe(true);
    expect(says(log)).toEqual(['say One.', 'said One.', 'flush']);
    // The cut is on the server before the flush is answered: a later attempt (the server timed this
    // one out while the workflow's task that takes the barge-in waited) would not go on.
    expect(log.indexOf('record [One.] cut')).toBeGreaterThan(-1);
    expect(log.indexOf('record [One.] cut')).toBeLessThan(log.indexOf('flush'));
  });

  /** Whether `finish` resolves within `ms`. */
  const endsWithin = async (s: TurnSpeaker, ms: number) =>
    Promise.race([s.finish().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

  it("once its flush is answered it ends, without waiting for the workflow's cancellation, and tells when and what the flush did", async () => {
    const { s, log } = turn(WORDS);
    s.start();
    s.say(['One.']);
    await waitFor(() => log.includes('said One.'), 'the first sentence said');
    const before = Date.now();
    expect(callerSpokeHere(EXECUTION.workflowId, { final: true, text: 'Stop, please.' })).toBe(1);
    // The server never says cancelled: the workflow's task for these words has not run.
    expect(await endsWithin(s, 1000)).toBe(true);
    expect(s.endedOnHearing()).toEqual({ at: expect.any(Number) as number, flushed: true });
    expect(s.endedOnHearing()!.at).toBeGreaterThanOrEqual(before);
    expect(says(log)).toEqual(['say One.', 'said One.', 'flush']);
  });

  it('nothing of it still plays: it ends at once, having flushed nothing', async () => {
    const { s, log } = turn(WORDS);
    s.start();
    expect(callerSpokeHere(EXECUTION.workflowId, { final: true, text: 'Actually, never mind.' })).toBe(1);
    expect(await endsWithin(s, 1000)).toBe(true);
    expect(s.endedOnHearing()).toEqual({ at: expect.any(Number) as number, flushed: false });
    expect(says(log)).toEqual([]);
  });

  it("its flush failed: it waits for the workflow's cut, which flushes, and ends as any cut turn", async () => {
    const { s, log, server, workflowCuts } = turn(WORDS, [], 400);
    s.start();
    s.say(['One.']);
    await waitFor(() => log.includes('said One.'), 'the first sentence said');
    expect(callerSpokeHere(EXECUTION.workflowId, { final: true, text: 'Stop, please.' })).toBe(1);
    await waitFor(() => log.includes('flush'), 'the flush on hearing');
    expect(await endsWithin(s, 100)).toBe(false);
    expect(s.endedOnHearing()).toBeUndefined();
    await expect(workflowCuts()).rejects.toThrow();
    expect(says(log)).toEqual(['say One.', 'said One.', 'flush', 'flush']);
    server.cancelled = true;
    await s.finish();
    expect(s.endedOnHearing()).toBeUndefined();
  });

  it('a /say in flight is answered before the flush goes out: the sentence never plays after it', async () => {
    const { s, log, server, release } = turn(WORDS, ['Two.']);
    s.start();
    s.say(['One.', 'Two.', 'Three.']);
    await waitFor(() => log.includes('say Two.'), 'the second /say out');
    callerSpokeHere(EXECUTION.workflowId, { final: false, text: 'wait a second' });
    await new Promise((r) => setTimeout(r, 30));
    expect(log).not.toContain('flush');
    release('Two.');
    await waitFor(() => log.includes('flush'), 'the flush');
    server.cancelled = true;
    await s.finish();
    expect(says(log)).toEqual(['say One.', 'said One.', 'say Two.', 'said Two.', 'flush']);
  });

  it('what the workflow would not take for a barge-in cuts nothing', async () => {
    const { s, log, server } = turn(WORDS);
    s.start();
    s.say(['One.']);
    await waitFor(() => log.includes('said One.'), 'the first sentence said');
    const at = WORDS.since! + 1000;
    const notCuts = [
      { final: true, text: 'Mm-hmm.' }, // an acknowledgement
      { final: true, text: '  ' }, // nothing said
      { final: false, text: 'wait', at }, // one word, two needed
      { final: false, text: 'mm hmm okay', at }, // acknowledgements, however many words
      { final: false, at }, // the start of speech: the profile cuts on words
      { final: false, text: 'hold on please', at: WORDS.since! - 1 }, // a late copy of the answered question
    ];
    for (const heard of notCuts) expect(callerSpokeHere(EXECUTION.workflowId, heard)).toBe(0);
    // Another call's words are not this turn's.
    expect(callerSpokeHere('call-2', { final: true, text: 'Stop, please.' })).toBe(0);
    s.say(['Two.']);
    await waitFor(() => log.includes('said Two.'), 'the turn going on');
    server.cancelled = true;
    await s.finish();
    expect(says(log)).toEqual(['say One.', 'said One.', 'say Two.', 'said Two.']);
  });

  it('by the profile: `speech` cuts on the start of speech, `final` only on the final', async () => {
    const speech = turn({ ...WORDS, mode: 'speech' });
    speech.s.start();
    speech.s.say(['One.']);
    await waitFor(() => speech.log.includes('said One.'), 'the sentence said');
    expect(callerSpokeHere(EXECUTION.workflowId, { final: false })).toBe(1);
    await waitFor(() => speech.log.includes('flush'), 'the flush');
    speech.server.cancelled = true;
    await speech.s.finish();
    removals.splice(0).forEach((r) => r());

    const final = turn({ ...WORDS, mode: 'final' });
    final.s.start();
    final.s.say(['One.']);
    await waitFor(() => final.log.includes('said One.'), 'the sentence said');
    expect(callerSpokeHere(EXECUTION.workflowId, { final: false, text: 'hold on a second' })).toBe(0);
    expect(callerSpokeHere(EXECUTION.workflowId, { final: true, text: 'Hold on a second.' })).toBe(1);
    await waitFor(() => final.log.includes('flush'), 'the flush');
    final.server.cancelled = true;
    await final.s.finish();
    expect(says(final.log)).toEqual(['say One.', 'said One.', 'flush']);
  });

  it('nothing said yet (the model still thinking): cut off, nothing to flush', async () => {
    const { s, log, server, workflowCuts } = turn(WORDS);
    s.start();
    expect(callerSpokeHere(EXECUTION.workflowId, { final: true, text: 'Actually, never mind.' })).toBe(1);
    s.say(['One.']);
    const result = await workflowCuts();
    expect(result).toMatchObject({ flushed: false });
    server.cancelled = true;
    await s.finish();
    expect(says(log)).toEqual([]);
  });

  it('a turn started without the rule (a call recorded before it) is cut by the workflow only', async () => {
    const { s, log, server } = turn(undefined);
    s.start();
    s.say(['One.']);
    await waitFor(() => log.includes('said One.'), 'the sentence said');
    expect(callerSpokeHere(EXECUTION.workflowId, { final: true, text: 'Stop, please.' })).toBe(0);
    server.cancelled = true;
    await s.finish();
    expect(says(log)).toEqual(['say One.', 'said One.']);
  });
});
