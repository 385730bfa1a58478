import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import OpenAI from 'openai';
import { createLlmActivities } from '../../activities/llm-turn';
import type { LlmTurnInput, LlmTurnResult } from '../../activities/types';
import { startFakeLlm, type FakeLlm, type FakeLlmReply } from '../../src/fake-llm/server';
import type { SentenceReady } from '../../workflows/messages';
import { waitFor } from '../helpers/wait-for';

let llm: FakeLlm;
let nextReply: FakeLlmReply = { text: '' };

beforeAll(async () => {
  llm = await startFakeLlm({ reply: () => nextReply });
});
afterAll(() => llm.close());

const input: LlmTurnInput = {
  workflowId: 'call-1',
  turnId: 3,
  model: 'test-model',
  systemPrompt: 'You are terse.',
  messages: [
    { role: 'assistant', content: 'Hello.' },
    { role: 'user', content: 'What time is it?' },
  ],
};

function setup() {
  const sent: SentenceReady[] = [];
  const activities = createLlmActivities({
    openai: new OpenAI({ baseURL: llm.baseUrl, apiKey: 'test', maxRetries: 0 }),
    sendSentence: async (workflowId, sentence) => {
      expect(workflowId).toBe('call-1');
      sent.push(sentence);
    },
  });
  const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  const llmTurn = (i: LlmTurnInput): Promise<LlmTurnResult> =>
    env.run((x: LlmTurnInput) => activities.llmTurn(x), i);
  return { sent, env, llmTurn };
}

describe('llmTurn activity', () => {
  it('streams the reply and sends each sentence, in order, as soon as it is complete', async () => {
    nextReply = { text: 'It is noon. Anything else? Have a good day.', chunkSize: 3 };
    const { sent, llmTurn } = setup();
    const result = await llmTurn(input);
    expect(sent).toEqual([
      { turnId: 3, seq: 0, text: 'It is noon.' },
      { turnId: 3, seq: 1, text: 'Anything else?' },
      { turnId: 3, seq: 2, text: 'Have a good day.' },
    ]);
    expect(result).toEqual({ text: 'It is noon. Anything else? Have a good day.', sentences: 3 });
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

  it('reports an end_call tool call', async () => {
    nextReply = { text: 'Goodbye!', toolCalls: [{ name: 'end_call', arguments: { reason: 'done' } }] };
    const { sent, llmTurn } = setup();
    const result = await llmTurn(input);
    expect(sent.map((s) => s.text)).toEqual(['Goodbye!']);
    expect(result.endCall).toEqual({ reason: 'done' });
  });

  it('stops streaming when cancelled (barge-in) and sends nothing more', async () => {
    nextReply = {
      text: 'First sentence. ' + 'Then a very long second one that goes on. '.repeat(20),
      chunkSize: 4,
      chunkDelayMs: 10,
    };
    const { sent, env, llmTurn } = setup();
    const running = llmTurn(input);
    await waitFor(() => sent.length >= 1, 'the first sentence');
    env.cancel();
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
    const count = sent.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(sent.length).toBe(count);
    expect(count).toBeLessThan(21);
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
