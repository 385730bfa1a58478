import type { activityInfo } from '@temporalio/activity';
import { ActivityCancellationDetails, ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import OpenAI from 'openai';
import { continuedFrom } from '../../activities/continuation';
import { createLlmActivities, windowedPrompt } from '../../activities/llm-turn';
import { callerSpokeHere } from '../../activities/turn-speech';
import type { CallExecution, TurnChannel } from '../../activities/turn-channel';
import type {
  FlushTurnResult,
  LlmTurnInput,
  LlmTurnResult,
  TurnBargeIn,
  TurnSpeech,
} from '../../activities/types';
import { startFakeLlm, type FakeLlm, type FakeLlmReply } from '../../src/sandbox/fake-llm/server';
import { VoipbinClient } from '../../src/voipbin/client';
import type { SentenceReady } from '../../workflows/messages';
import { backchannelRule } from '../../workflows/turn-taking';
import { waitFor } from '../helpers/wait-for';

let llm: FakeLlm;
let nextReply: FakeLlmReply = { text: '' };

beforeAll(async () => {
  llm = await startFakeLlm({ reply: () => nextReply });
});
afterAll(() => llm.close());

const input: LlmTurnInput = {
  turnId: 3,
  model: 'test-model',
  systemPrompt: 'You are terse.',
  messages: [
    { role: 'assistant', content: 'Hello.' },
    { role: 'user', content: 'What time is it?' },
  ],
  earlierMessages: 0,
  firstTokenTimeoutMs: 5000,
  stallTimeoutMs: 5000,
  sentencePauseMs: 200,
};

const EXECUTION = { workflowId: 'call-1', runId: 'run-1' };

/**
 * A channel that records what the activity did, with the history of an earlier attempt. A speaking
 * turn's records go to `log`, in order with what VoIPBIN received (`fakeVoipbin`); `answer` decides
 * each record's answer (cancelled, or a throw: this attempt is dead).
 */
class RecordingChannel implements TurnChannel {
  readonly sent: SentenceReady[] = [];
  readonly calls: string[] = [];
  readonly log: string[] = [];
  readonly records: TurnSpeech[] = [];
  /** Records under way now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  answer: (speech: TurnSpeech) => { cancelRequested: boolean } = () => ({ cancelRequested: false });
  recordDelayMs = 0;
  releaseFails?: Error;
  constructor(private readonly history: string[] = []) {}
  async send(execution: CallExecution, sentence: SentenceReady) {
    expect(execution).toEqual(EXECUTION);
    this.sent.push(sentence);
  }
  async received(execution: CallExecution, turnId: number) {
    this.calls.push(`received:${execution.workflowId}:${turnId}`);
    return this.history;
  }
  async releaseSticky(execution: CallExecution) {
    this.calls.push(`releaseSticky:${execution.workflowId}`);
    if (this.releaseFails) throw this.releaseFails;
  }
  async record(taskToken: Uint8Array, speech: TurnSpeech) {
    expect(Buffer.from(taskToken).toString()).toBe(TASK_TOKEN);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.recordDelayMs) await new Promise((r) => setTimeout(r, this.recordDelayMs));
      this.records.push(structuredClone(speech));
      this.log.push(showRecord(speech));
      return this.answer(speech);
    } finally {
      this.inFlight--;
    }
  }
  async turnSpeech(): Promise<{ running: boolean; speech?: TurnSpeech }> {
    throw new Error('not read by llmTurn');
  }
}

const TASK_TOKEN = 'task-token-1';

/** A record as a line of the log: what was said (and how), and the sentence being said. */
function showRecord(speech: TurnSpeech): string {
  const said = speech.said.map((s) => `${s.text}${s.outcome === 'done' ? '' : ` (${s.outcome})`}`);
  return `record [${said.join(' | ')}]${speech.saying ? ` saying ${speech.saying.text}` : ''}`;
}

/** How VoIPBIN answers a `/say`: an HTTP status, a network failure, or holding it until aborted. */
type SayAnswer = number | 'network' | 'hold';

/** VoIPBIN for a speaking turn, over a scripted fetch: every `/say` goes to `log` as `say <text>`, a `/flush` as `flush`. */
function fakeVoipbin(log: string[], answer: (text: string) => SayAnswer | Promise<SayAnswer>) {
  const fake: typeof fetch = async (url, init) => {
    const path = new URL(url instanceof Request ? url.url : String(url)).pathname;
    if (path === `/v1.0/speakings/${SPEAKING_ID}/flush`) {
      log.push('flush');
      return new Response(JSON.stringify({ id: SPEAKING_ID, customer_id: 'customer-1', status: 'active' }), {
        headers: { 'Content-Type': 'application/json' },
      });
    }
    expect(path).toBe(`/v1.0/speakings/${SPEAKING_ID}/say`);
    const { text } = JSON.parse(init?.body as string) as { text: string };
    log.push(`say ${text}`);
    const status = await answer(text);
    if (status === 'network') throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    if (status === 'hold') {
      return new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => {
          log.push(`aborted ${text}`);
          reject(new Error('aborted'));
        });
      });
    }
    const body =
      status === 200
        ? { id: SPEAKING_ID, customer_id: 'customer-1', status: 'active' }
        : { error: { status: 'X', reason: 'X', message: 'no' } };
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  };
  return new VoipbinClient({
    baseUrl: 'http://voipbin.test/v1.0',
    apiKey: 'key',
    fetch: fake,
    timeoutMs: 60_000,
  });
}

const SPEAKING_ID = 'speaking-1';

function setup(
  opts: {
    attempt?: number;
    history?: string[];
    heartbeatDetails?: TurnSpeech;
    say?: (text: string) => SayAnswer | Promise<SayAnswer>;
    /** When the server scheduled the attempt; default: as the test sets up. */
    scheduledAt?: number;
  } = {},
) {
  const channel = new RecordingChannel(opts.history);
  const activities = createLlmActivities({
    openai: new OpenAI({ baseURL: llm.baseUrl, apiKey: 'test', maxRetries: 0 }),
    channel,
    voipbin: fakeVoipbin(channel.log, opts.say ?? (() => 200)),
  });
  const info: Partial<ReturnType<typeof activityInfo>> = {
    activityId: TURN_ACTIVITY_ID,
    attempt: opts.attempt ?? 1,
    workflowExecution: EXECUTION,
    taskToken: Buffer.from(TASK_TOKEN),
    heartbeatDetails: opts.heartbeatDetails,
    // Scheduled now: the turn starts on time (unless the test says when).
    currentAttemptScheduledTimestampMs: opts.scheduledAt ?? Date.now(),
  };
  const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
  const llmTurn = (i: LlmTurnInput): Promise<LlmTurnResult> =>
    env.run((x: LlmTurnInput) => activities.llmTurn(x), i);
  /** `cutTurn`, as the workflow task of the same call would run it on this worker. */
  const cutTurn = (activityId = TURN_ACTIVITY_ID): Promise<FlushTurnResult | undefined> =>
    new MockActivityEnvironment({ workflowExecution: EXECUTION }, { logger: new DefaultLogger('ERROR') }).run(
      activities.cutTurn,
      { speakingId: SPEAKING_ID, activityId, playing: false, charsPerSecond: 15 },
    );
  return { sent: channel.sent, channel, env, llmTurn, cutTurn };
}

const TURN_ACTIVITY_ID = 'turn-1-0';

describe('llmTurn activity', () => {
  it('streams the reply and sends each sentence, in order, as soon as it is complete', async () => {
    nextReply = { text: 'It is noon. Anything else? Have a good day.', chunkSize: 3 };
    const { sent, channel, llmTurn } = setup();
    const before = Date.now();
    const result = await llmTurn(input);
    // The model's first token, on the first sentence only (the call's timeline reads it).
    expect(sent[0]!.firstTokenAt).toBeGreaterThanOrEqual(before);
    expect(sent[0]!.firstTokenAt).toBeLessThanOrEqual(Date.now());
    expect(sent).toEqual([
      { turnId: 3, seq: 0, text: 'It is noon.', attempt: 1, firstTokenAt: expect.any(Number) as number },
      { turnId: 3, seq: 1, text: 'Anything else?', attempt: 1 },
      { turnId: 3, seq: 2, text: 'Have a good day.', attempt: 1 },
    ]);
    expect(result).toEqual({});
    // A first attempt neither reads the history nor touches the sticky queue.
    expect(channel.calls).toEqual([]);
    const request = llm.requests.at(-1)!;
    expect(request.stream).toBe(true);
    expect(request.model).toBe('test-model');
    expect(request.messages.map((m) => [m.role, m.content])).toEqual([
      ['system', 'You are terse.'],
      ['assistant', 'Hello.'],
      ['user', 'What time is it?'],
    ]);
    expect(JSON.stringify(request.tools)).toContain('end_call');
  });

  it('a long call: the model is told the window leaves out its first messages', async () => {
    nextReply = { text: 'Sure.' };
    const { llmTurn } = setup();
    await llmTurn({ ...input, earlierMessages: 120 });
    const system = llm.requests.at(-1)!.messages[0]!;
    expect(system.content).toBe(windowedPrompt('You are terse.', 120));
    expect(system.content).toMatch(/^You are terse\.\n\n.*its first 120 messages are not shown/s);
  });

  it('reports an end_call tool call', async () => {
    nextReply = { text: 'Goodbye!', toolCalls: [{ name: 'end_call', arguments: { reason: 'done' } }] };
    const { sent, llmTurn } = setup();
    const result = await llmTurn(input);
    expect(sent.map((s) => s.text)).toEqual(['Goodbye!']);
    expect(result.endCall).toEqual({ reason: 'done' });
  });

  it('sends a sentence when the stream pauses after its end, without waiting for the next token', async () => {
    // "It is noon." arrives, then the model goes quiet for a minute before " Anything else?".
    nextReply = { text: 'It is noon. Anything else?', sentencePauseMs: 60_000 };
    const { sent, env, llmTurn } = setup();
    const running = llmTurn({ ...input, stallTimeoutMs: 120_000 });
    await waitFor(() => sent.length === 1, 'the first sentence during the pause', 5000);
    expect(sent).toEqual([
      { turnId: 3, seq: 0, text: 'It is noon.', attempt: 1, firstTokenAt: expect.any(Number) as number },
    ]);
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
  });

  it('does not cut an abbreviation at a pause', async () => {
    nextReply = { text: 'Ask Dr. Smith tomorrow.', chunkSize: 7, chunkDelayMs: 300 };
    const { sent, llmTurn } = setup();
    await llmTurn({ ...input, sentencePauseMs: 100 });
    expect(sent.map((s) => s.text)).toEqual(['Ask Dr. Smith tomorrow.']);
  });

  it('a retried attempt continues after the sentences the workflow received, never starts again', async () => {
    nextReply = { text: 'Then turn left. It is on the right.' };
    const { sent, channel, llmTurn } = setup({ attempt: 2, history: ['Go north.', 'Pass the bank.'] });
    const result = await llmTurn(input);
    expect(channel.calls.sort()).toEqual(['received:call-1:3', 'releaseSticky:call-1']);
    const system = llm.requests.at(-1)!.messages[0]!;
    expect(system.role).toBe('system');
    expect(system.content).toContain('You are terse.');
    expect(continuedFrom(system.content!)).toBe('Go north. Pass the bank.');
    // The conversation still ends with the caller's words (works with any chat template).
    expect(llm.requests.at(-1)!.messages.at(-1)).toMatchObject({ role: 'user', content: 'What time is it?' });
    expect(sent).toEqual([
      { turnId: 3, seq: 2, text: 'Then turn left.', attempt: 2, firstTokenAt: expect.any(Number) as number },
      { turnId: 3, seq: 3, text: 'It is on the right.', attempt: 2 },
    ]);
    expect(result).toEqual({});
  });

  it('a retried attempt with nothing received yet simply starts the reply', async () => {
    nextReply = { text: 'Hello there.' };
    const { sent, llmTurn } = setup({ attempt: 2, history: [] });
    await llmTurn(input);
    expect(llm.requests.at(-1)!.messages[0]!.content).toBe('You are terse.');
    expect(sent).toEqual([
      { turnId: 3, seq: 0, text: 'Hello there.', attempt: 2, firstTokenAt: expect.any(Number) as number },
    ]);
  });

  it('a model that sends nothing fails as stalled, not retried, within its first-token timeout', async () => {
    nextReply = { hang: true };
    const { sent, llmTurn } = setup();
    const failure = await llmTurn({ ...input, firstTokenTimeoutMs: 300 }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'LlmStalled', nonRetryable: true });
    expect(sent).toEqual([]);
  });

  it('a model that stops mid-reply fails as stalled after what it did say', async () => {
    nextReply = { text: 'First part. And then more.', stallAfterChars: 20 };
    const { sent, llmTurn } = setup();
    const failure = await llmTurn({ ...input, stallTimeoutMs: 400 }).catch((err: unknown) => err);
    expect(failure).toMatchObject({ type: 'LlmStalled', nonRetryable: true });
    expect(sent.map((s) => s.text)).toEqual(['First part.']);
  });

  it('stops streaming when cancelled (barge-in) and sends nothing more', async () => {
    // Short sentences: streaming on would complete one every 15 ms or so.
    nextReply = { text: 'First sentence. ' + 'More. '.repeat(40), chunkSize: 4, chunkDelayMs: 10 };
    const { sent, env, llmTurn } = setup();
    const running = llmTurn(input);
    await waitFor(() => sent.length >= 1, 'the first sentence');
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    const count = sent.length;
    // The sleep is the point: nothing is sent after the cancel, and there is no event to wait for
    // when nothing happens. 50 ms is long enough for several more sentences had streaming gone on.
    await new Promise((r) => setTimeout(r, 50));
    expect(sent.length).toBe(count);
    expect(count).toBeLessThan(41);
  });

  it.each([
    [500, false],
    [429, false],
    [400, true],
    [401, true],
  ])(
    'maps an LLM endpoint answering %i to a typed failure (nonRetryable=%s)',
    async (status, nonRetryable) => {
      nextReply = { error: { status, message: 'nope' } };
      const { sent, llmTurn } = setup();
      const failure = await llmTurn(input).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'LlmApiError', nonRetryable });
      expect(sent).toEqual([]);
    },
  );
});

describe('llmTurn activity: a speaking turn says its own reply', () => {
  const speaking: LlmTurnInput = { ...input, speak: { speakingId: SPEAKING_ID } };
  const anyNumber = expect.any(Number) as number;

  /** The log without a record repeated as it is (the periodic ones, whose number depends on timing). */
  const collapsed = (log: string[]): string[] => log.filter((line, i) => line !== log[i - 1]);
  const says = (log: string[]): string[] => log.filter((line) => line.startsWith('say '));

  /**
   * Resolves once the model's reply has been streamed (and read): a `/say` that waits for it finds
   * every later sentence already waiting, so that each one's own record clears `saying`.
   */
  const streamed = async (): Promise<void> => {
    await waitFor(() => llm.requests.at(-1)?.closedAt !== undefined, 'the reply to be streamed', 5000);
    await new Promise((r) => setTimeout(r, 150));
  };

  it('records each sentence as `saying` before its /say, with everything said before it, and reports what it said', async () => {
    nextReply = {
      text: 'It is noon. Anything else? Have a good day.',
      chunkSize: 3,
      toolCalls: [{ name: 'end_call', arguments: { reason: 'done' } }],
    };
    const { sent, channel, env, llmTurn } = setup({
      say: async (text) => (text === 'It is noon.' ? (await streamed(), 200) : 200),
    });
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    const before = Date.now();
    const result = await llmTurn(speaking);
    expect(collapsed(channel.log)).toEqual([
      'record [] saying It is noon.',
      'say It is noon.',
      'record [It is noon.] saying Anything else?',
      'say Anything else?',
      'record [It is noon. | Anything else?] saying Have a good day.',
      'say Have a good day.',
      // No last record: the result, sent next, says it all.
    ]);
    expect(result).toEqual({
      endCall: { reason: 'done' },
      spoken: {
        at: anyNumber,
        said: [
          { text: 'It is noon.', at: anyNumber, outcome: 'done' },
          { text: 'Anything else?', at: anyNumber, outcome: 'done' },
          { text: 'Have a good day.', at: anyNumber, outcome: 'done' },
        ],
      },
      firstTokenAt: anyNumber,
    });
    expect(result.firstTokenAt).toBeGreaterThanOrEqual(before);
    // A sentence's `at` is the one recorded with it as `saying`.
    const recordedAt = new Map(
      channel.records.flatMap((r) => (r.saying ? [[r.saying.text, r.saying.at]] : [])),
    );
    expect(result.spoken!.said.map((s) => [s.text, s.at])).toEqual([...recordedAt]);
    // No signal, and no SDK heartbeat (it would overwrite the records out of order, and the result
    // says what was said).
    expect(sent).toEqual([]);
    expect(heartbeats).toEqual([]);
    expect(channel.calls).toEqual([]);
  });

  it('the last record: only while the reply may go on, or when it adds to what the result says', async () => {
    // The model pauses after the first sentence: its `/say` is answered while the stream goes on,
    // so `saying` is cleared by a record of its own (a barge-in's flush reads it meanwhile).
    nextReply = { text: 'One. Two.', chunkSize: 5, chunkDelayMs: 300 };
    const goesOn = setup();
    await goesOn.llmTurn(speaking);
    const log = collapsed(goesOn.channel.log);
    const cleared = log.indexOf('record [One.]');
    expect(cleared).toBeGreaterThan(log.indexOf('say One.'));
    expect(cleared).toBeLessThan(log.indexOf('record [One.] saying Two.'));
    // The last `/say` refused: its last record says so, the sentence not said.
    nextReply = { text: 'One. Two.' };
    const refused = setup({ say: async (text) => (await streamed(), text === 'Two.' ? 400 : 200) });
    await refused.llmTurn(speaking);
    expect(collapsed(refused.channel.log).slice(-2)).toEqual(['say Two.', 'record [One.]']);
  });

  it('a turn this worker starts late records at once: the heartbeat timeout runs from its scheduling', async () => {
    nextReply = { text: 'It is noon.' };
    // Scheduled 300 ms ago (a busy worker), where the heartbeat timeout is 500 ms: waiting for a
    // sentence or a full heartbeat interval could let the server time the attempt out.
    const { channel, llmTurn } = setup({
      scheduledAt: Date.now() - 300,
      say: async () => (await streamed(), 200),
    });
    await llmTurn(speaking);
    expect(collapsed(channel.log)).toEqual(['record []', 'record [] saying It is noon.', 'say It is noon.']);
  });

  it('a later attempt of a turn an earlier one cut off says nothing more and asks the model nothing', async () => {
    // Attempt 1 was cut off where the caller was heard, then timed out before the workflow's task
    // that takes the barge-in ran: its record says so.
    const heartbeatDetails: TurnSpeech = {
      said: [{ text: 'Sure, here is all of it.', at: 1000, outcome: 'done' }],
      cut: 1500,
    };
    const asked = llm.requests.length;
    const { channel, llmTurn } = setup({ attempt: 2, heartbeatDetails });
    const result = await llmTurn(speaking);
    expect(result).toMatchObject({
      cancelled: true,
      spoken: { said: [{ text: 'Sure, here is all of it.', at: 1000, outcome: 'done' }] },
    });
    expect(llm.requests.length).toBe(asked);
    expect(says(channel.log)).toEqual([]);
  });

  it('clears `saying` with a record of its own when no sentence is waiting', async () => {
    // The model pauses after "It is noon.": it is said (and cleared) before the next one comes.
    nextReply = { text: 'It is noon. Anything else?', sentencePauseMs: 400 };
    const { channel, llmTurn } = setup();
    await llmTurn({ ...speaking, sentencePauseMs: 50 });
    expect(collapsed(channel.log)).toEqual([
      'record [] saying It is noon.',
      'say It is noon.',
      'record [It is noon.]',
      'record [It is noon.] saying Anything else?',
      'say Anything else?',
      'record [It is noon. | Anything else?]',
    ]);
  });

  it('records every 200 ms while a /say is out, one record at a time, never going back', async () => {
    nextReply = { text: 'One. Two.' };
    const { channel, env, llmTurn } = setup({
      say: async (text) => (text === 'One.' ? (await new Promise((r) => setTimeout(r, 700)), 200) : 200),
    });
    channel.recordDelayMs = 30;
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    await llmTurn(speaking);
    // Records only: an SDK heartbeat would overwrite them (sent later, throttled, out of order).
    expect(heartbeats).toEqual([]);
    // The workflow's heartbeat timeout is 500 ms: the record during the slow /say keeps the turn alive.
    expect(channel.records.filter((r) => r.saying?.text === 'One.').length).toBeGreaterThanOrEqual(3);
    expect(channel.maxInFlight).toBe(1);
    for (const [i, r] of channel.records.entries()) {
      const before = channel.records[i - 1];
      if (before) expect(r.said.slice(0, before.said.length)).toEqual(before.said);
    }
    expect(says(channel.log)).toEqual(['say One.', 'say Two.']);
  });

  it('a record answered cancelRequested: nothing more is said, the stream is aborted, the turn returns what it said', async () => {
    nextReply = { text: 'One. Two. ' + 'More. '.repeat(40), chunkSize: 4, chunkDelayMs: 10 };
    const { channel, llmTurn } = setup();
    let cancelled = false;
    channel.answer = (speech) => {
      cancelled ||= speech.saying?.text === 'Two.';
      return { cancelRequested: cancelled };
    };
    const result = await llmTurn(speaking);
    expect(result).toEqual({
      spoken: { at: anyNumber, said: [{ text: 'One.', at: anyNumber, outcome: 'done' }] },
      firstTokenAt: anyNumber,
      cancelled: true,
    });
    expect(says(channel.log)).toEqual(['say One.']);
    // Recorded, never sent: the next record clears it (flushTurn waits while a `saying` is recorded).
    const log = collapsed(channel.log);
    expect(log.slice(log.indexOf('record [One.] saying Two.'))).toEqual([
      'record [One.] saying Two.',
      'record [One.]',
    ]);
    await waitFor(() => llm.requests.at(-1)!.aborted, 'the model stream to be aborted', 2000);
    await new Promise((r) => setTimeout(r, 50));
    expect(says(channel.log)).toEqual(['say One.']);
  });

  it("the workflow's cancellation brought by the SDK's heartbeat, before any record's answer: the /say in flight is waited for, the turn returns what it said", async () => {
    // A hangup or a barge-in: the SDK's heartbeat (every 2 s) may answer it before the next record.
    nextReply = { text: 'One. Two. ' + 'More. '.repeat(40), chunkSize: 4, chunkDelayMs: 10 };
    let answerOne: (status: number) => void = () => undefined;
    const one = new Promise<number>((resolve) => (answerOne = resolve));
    const { channel, env, llmTurn } = setup({ say: (text) => (text === 'One.' ? one : 200) });
    const running = llmTurn(speaking);
    await waitFor(() => channel.log.includes('say One.'), 'the first /say');
    env.cancel(); // CANCELLED, cancelRequested: the workflow's
    await waitFor(() => llm.requests.at(-1)!.aborted, 'the model stream to be aborted', 2000);
    expect(channel.log).not.toContain('aborted One.');
    answerOne(200);
    const result = await running;
    expect(result).toEqual({
      spoken: { at: anyNumber, said: [{ text: 'One.', at: anyNumber, outcome: 'done' }] },
      firstTokenAt: anyNumber,
      cancelled: true,
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(says(channel.log)).toEqual(['say One.']);
  });

  it('cut off here (cutTurn) mid-reply: nothing more is said, the stream is aborted, it ends once the server has its cancellation', async () => {
    nextReply = { text: 'One. Two. ' + 'More. '.repeat(40), chunkSize: 4, chunkDelayMs: 10 };
    const { channel, llmTurn, cutTurn } = setup();
    let serverCancelled = false;
    channel.answer = () => ({ cancelRequested: serverCancelled });
    const turn = llmTurn(speaking);
    await waitFor(() => channel.log.includes('say Two.'), 'the second sentence');
    // Another step's id is not this turn.
    expect(await cutTurn('turn-1-1')).toBeUndefined();
    const cut = await cutTurn();
    expect(cut?.spoken?.said.map((x) => x.text)).toEqual(['One.', 'Two.']);
    await waitFor(() => llm.requests.at(-1)!.aborted, 'the model stream to be aborted', 2000);
    let ended = false;
    void turn.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(ended).toBe(false);
    serverCancelled = true;
    const result = await turn;
    expect(result).toMatchObject({ cancelled: true, spoken: { said: cut!.spoken!.said } });
    expect(channel.log.filter((l) => !l.startsWith('record'))).toEqual(['say One.', 'say Two.', 'flush']);
    // Ended: no longer found here.
    expect(await cutTurn()).toBeUndefined();
  });

  it("cut off where the caller is heard: it ends once its flush is answered, its result says so, and the workflow's cut after it finds the flush done", async () => {
    nextReply = { text: 'One. Two. ' + 'More. '.repeat(40), chunkSize: 4, chunkDelayMs: 10 };
    const { channel, llmTurn, cutTurn } = setup();
    // The workflow's cancellation never comes: its task for the caller's words has not run.
    channel.answer = () => ({ cancelRequested: false });
    const bargeIn: TurnBargeIn = {
      mode: 'words',
      words: 2,
      backchannel: backchannelRule('en-US', undefined, 3),
      charsPerSecond: 15,
    };
    const turn = llmTurn({ ...speaking, speak: { speakingId: SPEAKING_ID, bargeIn } });
    await waitFor(() => channel.log.includes('say Two.'), 'the second sentence');
    expect(callerSpokeHere(EXECUTION.workflowId, { final: true, text: 'Stop, please.' })).toBe(1);
    const result = await turn;
    expect(result).toMatchObject({
      cancelled: true,
      onHearing: { at: anyNumber, flushed: true },
      spoken: { said: [{ text: 'One.' }, { text: 'Two.' }] },
    });
    await waitFor(() => llm.requests.at(-1)!.aborted, 'the model stream to be aborted', 2000);
    expect(channel.log.filter((l) => !l.startsWith('record'))).toEqual(['say One.', 'say Two.', 'flush']);
    // The workflow task that takes the words runs after the turn ended: its cut finds the flush
    // done here and sends none of its own.
    const cut = await cutTurn();
    expect(cut).toMatchObject({ flushed: true, onHearing: { at: result.onHearing!.at } });
    expect(channel.log.filter((l) => !l.startsWith('record'))).toEqual(['say One.', 'say Two.', 'flush']);
  });

  it('a record that fails: this attempt is dead, it says nothing more and throws', async () => {
    nextReply = { text: 'One. Two. ' + 'More. '.repeat(40), chunkSize: 4, chunkDelayMs: 10 };
    const { channel, llmTurn } = setup();
    const notFound = new Error('5 NOT_FOUND: invalid activityID or activity already timed out');
    channel.answer = (speech) => {
      if (speech.saying?.text === 'Two.') throw notFound;
      return { cancelRequested: false };
    };
    await expect(llmTurn(speaking)).rejects.toBe(notFound);
    await waitFor(() => llm.requests.at(-1)!.aborted, 'the model stream to be aborted', 2000);
    await new Promise((r) => setTimeout(r, 50));
    expect(says(channel.log)).toEqual(['say One.']);
    // Not even a record after the failed one.
    expect(channel.log.at(-1)).toBe('record [One.] saying Two.');
  });

  it('a retried attempt goes on after what the earlier one recorded, the sentence in flight counted as said', async () => {
    nextReply = { text: 'Then turn left. It is on the right.' };
    const { sent, channel, llmTurn } = setup({
      attempt: 2,
      heartbeatDetails: {
        said: [{ text: 'Head east.', at: 1000, outcome: 'done' }],
        saying: { text: 'Cross the bridge.', at: 2000 },
      },
    });
    const result = await llmTurn(speaking);
    // The history is not read: the records are what counts.
    expect(channel.calls).toEqual(['releaseSticky:call-1']);
    expect(continuedFrom(llm.requests.at(-1)!.messages[0]!.content!)).toBe('Head east. Cross the bridge.');
    expect(says(channel.log)).toEqual(['say Then turn left.', 'say It is on the right.']);
    expect(channel.log[0]).toBe('record [Head east. | Cross the bridge. (failed)]');
    expect(result.spoken).toEqual({
      at: anyNumber,
      said: [
        { text: 'Head east.', at: 1000, outcome: 'done' },
        { text: 'Cross the bridge.', at: 2000, outcome: 'failed' },
        { text: 'Then turn left.', at: anyNumber, outcome: 'done' },
        { text: 'It is on the right.', at: anyNumber, outcome: 'done' },
      ],
    });
    expect(sent).toEqual([]);
  });

  it('a retried attempt with nothing recorded simply starts the reply', async () => {
    nextReply = { text: 'Hello there.' };
    const { channel, llmTurn } = setup({ attempt: 2 });
    const result = await llmTurn(speaking);
    expect(llm.requests.at(-1)!.messages[0]!.content).toBe('You are terse.');
    expect(channel.calls).toEqual(['releaseSticky:call-1']);
    expect(result.spoken).toEqual({
      at: anyNumber,
      said: [{ text: 'Hello there.', at: anyNumber, outcome: 'done' }],
    });
  });

  it('the speaking session gone (404): that sentence and every later one are unsaid, nothing more is said', async () => {
    nextReply = { text: 'One. Two. Three.' };
    const { channel, llmTurn } = setup({
      say: async (text) => (text === 'One.' ? (await streamed(), 200) : text === 'Two.' ? 404 : 200),
    });
    const result = await llmTurn(speaking);
    expect(collapsed(channel.log)).toEqual([
      'record [] saying One.',
      'say One.',
      'record [One.] saying Two.',
      'say Two.',
      'record [One.]',
    ]);
    expect(result.spoken).toEqual({
      at: anyNumber,
      said: [{ text: 'One.', at: anyNumber, outcome: 'done' }],
      unsaid: ['Two.', 'Three.'],
    });
  });

  it('a sentence VoIPBIN refuses (4xx) is not said; the next one is', async () => {
    nextReply = { text: 'One. Two. Three.' };
    const { channel, llmTurn } = setup({
      say: async (text) => (text === 'One.' ? (await streamed(), 200) : text === 'Two.' ? 400 : 200),
    });
    const result = await llmTurn(speaking);
    expect(collapsed(channel.log)).toEqual([
      'record [] saying One.',
      'say One.',
      'record [One.] saying Two.',
      'say Two.',
      'record [One.] saying Three.',
      'say Three.',
    ]);
    expect(result.spoken).toEqual({
      at: anyNumber,
      said: [
        { text: 'One.', at: anyNumber, outcome: 'done' },
        { text: 'Three.', at: anyNumber, outcome: 'done' },
      ],
    });
  });

  it.each([503, 'network'] as const)(
    'a /say that fails with %s is maybe said (failed), never sent again; the next one is said',
    async (failure) => {
      nextReply = { text: 'One. Two. Three.' };
      const { channel, llmTurn } = setup({
        say: async (text) => (text === 'One.' ? (await streamed(), 200) : text === 'Two.' ? failure : 200),
      });
      const result = await llmTurn(speaking);
      expect(collapsed(channel.log)).toEqual([
        'record [] saying One.',
        'say One.',
        'record [One.] saying Two.',
        'say Two.',
        'record [One. | Two. (failed)] saying Three.',
        'say Three.',
      ]);
      expect(result.spoken!.said.map((s) => [s.text, s.outcome])).toEqual([
        ['One.', 'done'],
        ['Two.', 'failed'],
        ['Three.', 'done'],
      ]);
    },
  );

  it('a stalled model fails as LlmStalled, with what was said as its last detail', async () => {
    nextReply = { text: 'First part. And then more.', stallAfterChars: 20 };
    const { channel, llmTurn } = setup();
    const failure = await llmTurn({ ...speaking, stallTimeoutMs: 400 }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'LlmStalled', nonRetryable: true });
    expect((failure as ApplicationFailure).details?.at(-1)).toEqual({
      spoken: { at: anyNumber, said: [{ text: 'First part.', at: anyNumber, outcome: 'done' }] },
    });
    expect(says(channel.log)).toEqual(['say First part.']);
  });

  it('any other failure keeps its type and retry behaviour, what was said appended to its details', async () => {
    nextReply = { error: { status: 500, message: 'nope' } };
    const { llmTurn } = setup();
    const failure = (await llmTurn(speaking).catch((err: unknown) => err)) as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'LlmApiError', nonRetryable: false });
    expect(failure.details).toEqual([{ httpStatus: 500 }, { spoken: { at: anyNumber, said: [] } }]);

    // An error that is no ApplicationFailure becomes a retryable one, named after it.
    const retried = setup({
      attempt: 2,
      heartbeatDetails: { said: [{ text: 'Hello.', at: 1000, outcome: 'done' }] },
    });
    retried.channel.releaseFails = new TypeError('connection reset');
    const other = (await retried.llmTurn(speaking).catch((err: unknown) => err)) as ApplicationFailure;
    expect(other).toBeInstanceOf(ApplicationFailure);
    expect(other).toMatchObject({ type: 'TypeError', message: 'connection reset', nonRetryable: false });
    expect(other.details).toEqual([
      { spoken: { at: anyNumber, said: [{ text: 'Hello.', at: 1000, outcome: 'done' }] } },
    ]);
  });

  it('a worker shutdown aborts the /say in flight and rethrows the cancellation', async () => {
    nextReply = { text: 'One. Two.' };
    const { channel, env, llmTurn } = setup({ say: (text) => (text === 'One.' ? 'hold' : 200) });
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    const running = llmTurn(speaking);
    await waitFor(() => channel.log.includes('say One.'), 'the first /say');
    env.cancel('WORKER_SHUTDOWN', new ActivityCancellationDetails({ workerShutdown: true }));
    // At once, not at the request's own timeout.
    expect(channel.log).toContain('aborted One.');
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    expect(says(channel.log)).toEqual(['say One.']);
    // sdk-core reports the failure with its last heartbeat details, which the server keeps: they
    // hold the sentence whose /say was cut, so the next attempt never says it again.
    expect(heartbeats.at(-1)).toMatchObject({ said: [{ text: 'One.', outcome: 'failed' }] });
  });

  it("gives the SDK's own heartbeat the recorded speech every 2 s, and the next record waits for it", async () => {
    // sdk-core cancels an activity that has not called heartbeat() for its heartbeat timeout plus
    // 5 s, and drops its result: a speaking turn calls it, with the speech it has just recorded.
    nextReply = { text: 'One. Two.' };
    let answerOne: (status: number) => void = () => undefined;
    const one = new Promise<number>((resolve) => (answerOne = resolve));
    const { channel, env, llmTurn } = setup({ say: (text) => (text === 'One.' ? one : 200) });
    const beats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => {
      beats.push(details);
      channel.log.push('sdk heartbeat');
    });
    const running = llmTurn(speaking);
    try {
      await waitFor(() => beats.length > 0, 'the SDK heartbeat', 5000);
    } finally {
      // Never left hanging, whatever the test found.
      setTimeout(() => answerOne(200), 100);
    }
    expect(beats[0]).toEqual({ said: [], saying: { text: 'One.', at: anyNumber } });
    // Given with a record of the same speech.
    const at = channel.log.indexOf('sdk heartbeat');
    expect(channel.log[at + 1]).toBe('record [] saying One.');
    const result = await running;
    expect(says(channel.log)).toEqual(['say One.', 'say Two.']);
    expect(result.spoken?.said.map((s) => s.text)).toEqual(['One.', 'Two.']);
  }, 10_000);

  it('a turn without `speak` neither records nor says: its sentences are signalled', async () => {
    nextReply = { text: 'It is noon.' };
    const { sent, channel, llmTurn } = setup();
    await llmTurn(input);
    expect(sent.map((s) => s.text)).toEqual(['It is noon.']);
    expect(channel.log).toEqual([]);
  });
});
