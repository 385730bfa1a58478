import type { activityInfo } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import OpenAI from 'openai';
import { continuedFrom } from '../../activities/continuation';
import { createLlmActivities, windowedPrompt } from '../../activities/llm-turn';
import type { CallExecution, TurnChannel } from '../../activities/turn-channel';
import type { LlmTurnInput, LlmTurnResult } from '../../activities/types';
import { startFakeLlm, type FakeLlm, type FakeLlmReply } from '../../src/sandbox/fake-llm/server';
import type { SentenceReady } from '../../workflows/messages';
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

/** A channel that records what the activity did, with the history of an earlier attempt. */
class RecordingChannel implements TurnChannel {
  readonly sent: SentenceReady[] = [];
  readonly calls: string[] = [];
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
  }
}

function setup(opts: { attempt?: number; history?: string[] } = {}) {
  const channel = new RecordingChannel(opts.history);
  const activities = createLlmActivities({
    openai: new OpenAI({ baseURL: llm.baseUrl, apiKey: 'test', maxRetries: 0 }),
    channel,
  });
  const info: Partial<ReturnType<typeof activityInfo>> = {
    attempt: opts.attempt ?? 1,
    workflowExecution: EXECUTION,
  };
  const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
  const llmTurn = (i: LlmTurnInput): Promise<LlmTurnResult> =>
    env.run((x: LlmTurnInput) => activities.llmTurn(x), i);
  return { sent: channel.sent, channel, env, llmTurn };
}

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
