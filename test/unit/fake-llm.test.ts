import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import {
  type FakeLlm,
  type FakeLlmReply,
  type FakeLlmRequest,
  defaultReply,
  startFakeLlm,
} from '../../src/fake-llm/server';
import { waitFor } from '../helpers/wait-for';

const endCallTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'end_call',
    description: 'Hang up.',
    parameters: { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] },
  },
};

let fake: FakeLlm | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(
  reply?: (req: FakeLlmRequest) => FakeLlmReply | Promise<FakeLlmReply>,
): Promise<FakeLlm> {
  fake = await startFakeLlm(reply ? { reply } : {});
  return fake;
}

function openai(f: FakeLlm, timeout?: number): OpenAI {
  return new OpenAI({ apiKey: 'test', baseURL: f.baseUrl, maxRetries: 0, timeout });
}

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const chunks: ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

const textOf = (chunks: ChatCompletionChunk[]): string =>
  chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');

describe('fake LLM over the openai package', () => {
  it('streams the default reply as content deltas that reassemble to the text', async () => {
    const f = await start();
    expect(f.baseUrl).toBe(`http://127.0.0.1:${f.port}/v1`);
    const stream = await openai(f).chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [
        { role: 'system', content: 'You are a phone agent.' },
        { role: 'user', content: 'I need help with my bill' },
      ],
    });
    const chunks = await collect(stream);
    expect(textOf(chunks)).toBe('You said: I need help with my bill. How else can I help you today?');
    const contentChunks = chunks.filter((c) => (c.choices[0]?.delta.content ?? '') !== '');
    expect(contentChunks.length).toBeGreaterThan(5);
    expect(contentChunks.every((c) => (c.choices[0]?.delta.content ?? '').length <= 6)).toBe(true);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks[0]?.object).toBe('chat.completion.chunk');
    expect(chunks[0]?.model).toBe('gpt-4o-mini');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('records each request', async () => {
    const f = await start();
    const before = Date.now();
    await openai(f).chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hello ' },
            { type: 'text', text: 'there' },
          ],
        },
      ],
      tools: [endCallTool],
    });
    expect(f.requests).toHaveLength(1);
    const req = f.requests[0] as FakeLlmRequest;
    expect(req.model).toBe('gpt-4o-mini');
    expect(req.stream).toBe(true);
    expect(req.messages).toEqual([{ role: 'user', content: 'Hello there' }]);
    expect(req.tools).toEqual([endCallTool]);
    expect(req.receivedAt).toBeGreaterThanOrEqual(before);
  });

  it('streams content then an end_call tool call when the caller says goodbye', async () => {
    const f = await start();
    const stream = await openai(f).chat.completions.create({
      model: 'gpt-4o-mini',
      stream: true,
      messages: [{ role: 'user', content: 'Thanks, goodbye' }],
      tools: [endCallTool],
    });
    const chunks = await collect(stream);
    expect(textOf(chunks)).toBe('Goodbye!');
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'end_call' } });
    expect(toolDeltas[0]?.id).toMatch(/^call_/);
    const args = toolDeltas.map((d) => d.function?.arguments ?? '').join('');
    expect(JSON.parse(args)).toEqual({ reason: 'caller said goodbye' });
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('lets the SDK stream helper assemble several scripted tool calls and usage', async () => {
    const f = await start(() => ({
      text: 'One moment.',
      chunkSize: 1,
      toolCalls: [
        { name: 'lookup_bill', arguments: { account: 'A-1', month: 'may' } },
        { name: 'end_call', arguments: { reason: 'done' } },
      ],
    }));
    const runner = openai(f).chat.completions.stream({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      stream_options: { include_usage: true },
    });
    const final = await runner.finalChatCompletion();
    const message = final.choices[0]?.message;
    expect(message?.content).toBe('One moment.');
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    const calls = (message?.tool_calls ?? []).map((c) =>
      c.type === 'function' ? [c.function.name, JSON.parse(c.function.arguments) as unknown] : [],
    );
    expect(calls).toEqual([
      ['lookup_bill', { account: 'A-1', month: 'may' }],
      ['end_call', { reason: 'done' }],
    ]);
    expect(final.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('answers without streaming', async () => {
    const f = await start();
    const res = await openai(f).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'What are your hours?' }],
    });
    expect(res.object).toBe('chat.completion');
    expect(res.choices[0]?.message.content).toBe(
      'You said: What are your hours. How else can I help you today?',
    );
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(f.requests[0]?.stream).toBe(false);
  });

  it('answers a tool call without streaming', async () => {
    const f = await start();
    const res = await openai(f).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'ok bye' }],
      tools: [endCallTool],
    });
    const call = res.choices[0]?.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    expect(call?.type === 'function' ? call.function.name : '').toBe('end_call');
    expect(res.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it.each([
    [400, OpenAI.BadRequestError],
    [401, OpenAI.AuthenticationError],
    [429, OpenAI.RateLimitError],
    [500, OpenAI.InternalServerError],
    [503, OpenAI.InternalServerError],
  ])('maps a scripted %i error to the SDK APIError', async (status, cls) => {
    const f = await start(() => ({ error: { status, message: `scripted ${status}` } }));
    const attempt = openai(f).chat.completions.create({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const err: unknown = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toBeInstanceOf(cls);
    expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(status);
    expect((err as Error).message).toContain(`scripted ${status}`);
  });

  it('reports a throwing reply function as a 500', async () => {
    const f = await start(() => {
      throw new Error('script broke');
    });
    await expect(
      openai(f).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 500 });
  });

  it('hangs when asked, so client timeouts fire', async () => {
    const f = await start(() => ({ hang: true }));
    const started = Date.now();
    // Outside jest this is an APIConnectionTimeoutError. Under jest, fetch's AbortError comes from another
    // realm, the SDK's instanceof check misses it, and it reports the base class APIConnectionError.
    await expect(
      openai(f, 200).chat.completions.create({
        model: 'm',
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(f.requests).toHaveLength(1);
  });

  it('closes while a request hangs', async () => {
    const f = await start(() => ({ hang: true }));
    const attempt = openai(f).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
    });
    const settled = attempt.then(
      () => 'resolved',
      (err: unknown) => (err instanceof OpenAI.APIConnectionError ? 'connection error' : 'other error'),
    );
    await waitFor(() => f.requests.length === 1, 'the request');
    await f.close();
    fake = undefined;
    await expect(settled).resolves.toBe('connection error');
  });

  it('waits firstTokenDelayMs before the first chunk', async () => {
    const f = await start(() => ({ text: 'Hi. Bye.', firstTokenDelayMs: 150 }));
    const started = Date.now();
    const stream = await openai(f).chat.completions.create({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    let firstAt = 0;
    for await (const c of stream) {
      if (firstAt === 0 && c.choices[0]?.delta) firstAt = Date.now();
    }
    expect(firstAt - started).toBeGreaterThanOrEqual(140);
  });

  it('stops writing when the client disconnects mid-stream, and keeps serving', async () => {
    const f = await start((req) =>
      req.messages.some((m) => m.content === 'slow')
        ? { text: 'x'.repeat(600), chunkSize: 1, chunkDelayMs: 5 }
        : defaultReply(req),
    );
    const client = openai(f);
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'm', stream: true, messages: [{ role: 'user', content: 'slow' }] },
      { signal: controller.signal },
    );
    let seen = 0;
    // The SDK's stream iterator ends quietly on a user abort.
    for await (const c of stream) {
      seen += (c.choices[0]?.delta.content ?? '').length;
      if (seen >= 3) controller.abort();
    }
    expect(controller.signal.aborted).toBe(true);
    expect(seen).toBeLessThan(600);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'still there?' }],
    });
    expect(next.choices[0]?.message.content).toBe('You said: still there. How else can I help you today?');
  });

  it('frames SSE as OpenAI does: data lines, a finish chunk, then [DONE]', async () => {
    const f = await start(() => ({ text: 'Hi there. Bye now.' }));
    const res = await fetch(`${f.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer anything' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter((e) => e !== '');
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as ChatCompletionChunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('Hi there. Bye now.');
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ index: 0, delta: {}, finish_reason: 'stop' });
    expect(chunks.slice(0, -1).every((c) => c.choices[0]?.finish_reason === null)).toBe(true);
  });

  it('lists one model', async () => {
    const f = await start();
    const page = await openai(f).models.list();
    expect(page.data.map((m) => m.id)).toEqual(['fake-llm']);
  });

  it('answers unknown routes and bad bodies with OpenAI error JSON', async () => {
    const f = await start();
    const notFound = await fetch(`${f.baseUrl}/nope`, { method: 'POST' });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({
      error: { type: 'invalid_request_error', code: 'unknown_url' },
    });
    const bad = await fetch(`${f.baseUrl}/chat/completions`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });
});

describe('defaultReply', () => {
  const req = (messages: FakeLlmRequest['messages']): FakeLlmRequest => ({
    model: 'm',
    messages,
    stream: true,
    receivedAt: 0,
  });

  it('echoes the last user message in two sentences, deterministically', () => {
    const r = req([
      { role: 'user', content: 'first thing' },
      { role: 'assistant', content: 'ok' },
      { role: 'user', content: '  I need help with my bill!  ' },
    ]);
    expect(defaultReply(r)).toEqual({
      text: 'You said: I need help with my bill. How else can I help you today?',
    });
    expect(defaultReply(r)).toEqual(defaultReply(r));
  });

  it('greets when there is no user message', () => {
    expect(defaultReply(req([{ role: 'system', content: 'be nice' }]))).toEqual({
      text: 'Hello! How can I help you today?',
    });
  });

  it.each(['Goodbye.', 'ok BYE', 'bye-bye then', 'Good-bye'])('ends the call on %p', (content) => {
    expect(defaultReply(req([{ role: 'user', content }]))).toEqual({
      text: 'Goodbye!',
      toolCalls: [{ name: 'end_call', arguments: { reason: 'caller said goodbye' } }],
    });
  });

  it('does not end the call on words that merely contain "bye"', () => {
    expect(defaultReply(req([{ role: 'user', content: 'maybe later' }])).toolCalls).toBeUndefined();
  });

  it('answers with text only after a tool result, so agent loops end', () => {
    const r = req([
      { role: 'user', content: 'bye' },
      { role: 'assistant', content: null, tool_calls: [] },
      { role: 'tool', content: 'ok', tool_call_id: 'call_1' },
    ]);
    const reply = defaultReply(r);
    expect(reply.toolCalls).toBeUndefined();
    expect(reply.text).toMatch(/\. .+\?$/);
  });
});
