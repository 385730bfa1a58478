import OpenAI from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { continuationPrompt } from '../../activities/continuation';
import {
  type FakeLlm,
  type FakeLlmReply,
  type FakeLlmRequest,
  defaultReply,
  startFakeLlm,
} from '../../src/sandbox/fake-llm/server';
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
    // No wait: the next request is served at once, whether or not the aborted stream is torn down yet.
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

const SYSTEM = 'You are a phone agent.';

/** The conversation as a first attempt sends it, or as a retry that continues after `said`. */
function turn(userSays: string, said?: string): ChatCompletionMessageParam[] {
  return [
    { role: 'system', content: said === undefined ? SYSTEM : continuationPrompt(SYSTEM, said) },
    { role: 'user', content: userSays },
  ];
}

interface Delta {
  at: number;
  content: string;
}

/** Each content delta with the time it arrived. */
async function timedDeltas(stream: AsyncIterable<ChatCompletionChunk>): Promise<Delta[]> {
  const deltas: Delta[] = [];
  for await (const c of stream) {
    const content = c.choices[0]?.delta.content ?? '';
    if (content !== '') deltas.push({ at: Date.now(), content });
  }
  return deltas;
}

async function streamText(f: FakeLlm, messages: ChatCompletionMessageParam[]): Promise<string> {
  const stream = await openai(f).chat.completions.create({ model: 'm', stream: true, messages });
  return textOf(await collect(stream));
}

/** The gap before the delta that follows the first one matching `after`. */
function gapAfter(deltas: Delta[], after: (d: Delta) => boolean): number {
  const i = deltas.findIndex(after);
  const [before, next] = [deltas[i], deltas[i + 1]];
  if (i < 0 || !before || !next) throw new Error('no delta after the one looked for');
  return next.at - before.at;
}

describe('fake LLM generations and continuations', () => {
  it('counts generations per conversation, with any continuation note taken out', async () => {
    const f = await start();
    await streamText(f, turn('I need help with my bill'));
    await streamText(f, turn('I need help with my bill'));
    await streamText(f, turn('Something else'));
    await streamText(f, turn('I need help with my bill', 'A part never said.'));
    await streamText(f, turn('I need help with my bill'));
    expect(f.requests.map((r) => r.generation)).toEqual([0, 1, 0, 2, 3]);
  });

  it('words a regenerated default answer differently but recognisably', async () => {
    const f = await start();
    const first = await streamText(f, turn('I need help with my bill'));
    const second = await streamText(f, turn('I need help with my bill'));
    expect(first).toBe('You said: I need help with my bill. How else can I help you today?');
    expect(second).not.toBe(first);
    expect(second).toContain('I need help with my bill.');
    expect(second).toMatch(/^[^.!?]+[.!?] [^.!?]+[.!?]$/);
  });

  it('continues an earlier answer with exactly the rest of it', async () => {
    const f = await start(() => ({
      text: 'First, unplug it. Then wait ten seconds. Plug it back in. It should work now.',
    }));
    await streamText(f, turn('My router is broken'));
    // What the caller heard was reassembled from sentences: its whitespace may differ.
    const said = ' First, unplug it.\n Then wait  ten seconds. ';
    expect(await streamText(f, turn('My router is broken', said))).toBe(
      'Plug it back in. It should work now.',
    );
    expect(f.requests[1]).toMatchObject({
      generation: 0,
      continuation: { said, remainder: 'Plug it back in. It should work now.' },
    });
    await streamText(f, turn('My router is broken'));
    expect(f.requests[2]?.generation).toBe(1);
  });

  it('continues the generation the caller was hearing, not an earlier one', async () => {
    const f = await start();
    await streamText(f, turn('What are your hours'));
    const retried = await streamText(f, turn('What are your hours'));
    const heard = retried.slice(0, retried.indexOf('.') + 1);
    const rest = await streamText(f, turn('What are your hours', heard));
    expect(heard + ' ' + rest).toBe(retried);
    expect(f.requests[2]?.generation).toBe(1);
  });

  it('continues the latest matching generation when several start alike', async () => {
    const f = await start((req) => ({
      text: req.generation === 0 ? 'Sure. Your bill is ten dollars.' : 'Sure. Your balance is ten dollars.',
    }));
    await streamText(f, turn('What do I owe'));
    await streamText(f, turn('What do I owe'));
    expect(await streamText(f, turn('What do I owe', 'Sure.'))).toBe('Your balance is ten dollars.');
  });

  it('streams nothing, as a valid stream, when the earlier answer was complete', async () => {
    const f = await start(() => ({ text: 'A. B. C. D.' }));
    await streamText(f, turn('hi'));
    expect(await streamText(f, turn('hi', 'A. B.'))).toBe('C. D.');
    const res = await fetch(`${f.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: true, messages: turn('hi', 'A. B. C. D.') }),
    });
    const events = (await res.text()).split('\n\n').filter((e) => e !== '');
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as ChatCompletionChunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
    expect(f.requests[2]?.continuation).toEqual({ said: 'A. B. C. D.', remainder: '' });
  });

  it("continues with the earlier answer's text and tool calls, whatever the script says now", async () => {
    const f = await start((req) =>
      req.continuation
        ? { text: 'Not this.' }
        : { text: 'Goodbye!', toolCalls: [{ name: 'end_call', arguments: { reason: 'done' } }] },
    );
    await streamText(f, turn('ok bye'));
    const stream = await openai(f).chat.completions.create({
      model: 'm',
      stream: true,
      messages: turn('ok bye', 'Goodbye!'),
    });
    const chunks = await collect(stream);
    expect(textOf(chunks)).toBe('');
    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas[0]?.function?.name).toBe('end_call');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });

  it('answers an unmatched continuation as a fresh generation', async () => {
    const f = await start();
    const first = await streamText(f, turn('I need help with my bill'));
    const fresh = await streamText(f, turn('I need help with my bill', 'Something never said.'));
    expect(fresh).not.toBe(first);
    expect(fresh).toContain('I need help with my bill.');
    expect(f.requests[1]).toMatchObject({ generation: 1, continuation: { said: 'Something never said.' } });
    expect(f.requests[1]?.continuation?.remainder).toBeUndefined();
    // The fresh answer is remembered: it can be continued in turn.
    const heard = fresh.slice(0, fresh.indexOf('.') + 1);
    expect(await streamText(f, turn('I need help with my bill', heard))).toBe(fresh.slice(heard.length + 1));
  });
});

describe('fake LLM pacing', () => {
  it('pauses after each sentence end, before the whitespace that follows it', async () => {
    const f = await start(() => ({
      text: 'Hi there. How are you? Fine.',
      chunkSize: 4,
      sentencePauseMs: 300,
    }));
    const stream = await openai(f).chat.completions.create({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const deltas = await timedDeltas(stream);
    expect(deltas.map((d) => d.content).join('')).toBe('Hi there. How are you? Fine.');
    expect(gapAfter(deltas, (d) => d.content.endsWith('.'))).toBeGreaterThanOrEqual(250);
    expect(gapAfter(deltas, (d) => d.content.endsWith('?'))).toBeGreaterThanOrEqual(250);
    expect(deltas[deltas.findIndex((d) => d.content.endsWith('.')) + 1]?.content).toMatch(/^ /);
  });

  it('takes the sentence pause from the server options when the reply sets none', async () => {
    fake = await startFakeLlm({ sentencePauseMs: 300, reply: () => ({ text: 'One. Two.' }) });
    const stream = await openai(fake).chat.completions.create({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const deltas = await timedDeltas(stream);
    expect(deltas.map((d) => d.content)).toEqual(['One.', ' Two.']);
    expect(gapAfter(deltas, (d) => d.content === 'One.')).toBeGreaterThanOrEqual(250);
  });

  it('ends a delta at each sentence end, quotes included, and not inside numbers', async () => {
    const f = await start(() => ({
      text: 'Wait… "Really?" she asked. Yes!\nIt costs 3.50 dollars.',
      chunkSize: 100,
    }));
    const stream = await openai(f).chat.completions.create({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect((await timedDeltas(stream)).map((d) => d.content)).toEqual([
      'Wait…',
      ' "Really?"',
      ' she asked.',
      ' Yes!',
      '\nIt costs 3.50 dollars.',
    ]);
  });

  it('stalls mid-reply for stallMs after exactly stallAfterChars characters', async () => {
    const f = await start(() => ({
      text: 'Hello there. More.',
      chunkSize: 3,
      stallAfterChars: 8,
      stallMs: 300,
    }));
    const stream = await openai(f).chat.completions.create({
      model: 'm',
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const deltas = await timedDeltas(stream);
    expect(deltas.map((d) => d.content)).toEqual(['Hel', 'lo ', 'th', 'ere', '.', ' Mo', 're.']);
    expect(gapAfter(deltas, (d) => d.content === 'th')).toBeGreaterThanOrEqual(250);
  });

  it('delays a JSON answer by the stall', async () => {
    const f = await start(() => ({ text: 'Hello there.', stallAfterChars: 3, stallMs: 300 }));
    const started = Date.now();
    const res = await openai(f).chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.choices[0]?.message.content).toBe('Hello there.');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('stalls until the client goes away, and records the cut stream as aborted', async () => {
    const f = await start(() => ({ text: 'Hello there. More.', stallAfterChars: 8 }));
    const controller = new AbortController();
    const stream = await openai(f).chat.completions.create(
      { model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] },
      { signal: controller.signal },
    );
    const chunks = stream[Symbol.asyncIterator]();
    let received = '';
    while (received.length < 8) {
      const next = await chunks.next();
      if (next.done) throw new Error('the stream ended instead of stalling');
      received += next.value.choices[0]?.delta.content ?? '';
    }
    expect(received).toBe('Hello th');
    const request = f.requests[0] as FakeLlmRequest;
    expect(f.active()).toEqual([request]);
    expect(request.aborted).toBe(false);
    expect(request.closedAt).toBeUndefined();
    // Nothing more comes while it stalls.
    const quiet = new Promise<'quiet'>((resolve) => setTimeout(() => resolve('quiet'), 200));
    const pending = chunks.next();
    expect(await Promise.race([pending.then(() => 'more'), quiet])).toBe('quiet');
    controller.abort();
    await pending.catch(() => undefined);
    await waitFor(() => request.aborted, 'the request to be seen as aborted');
    expect(request.closedAt).toBeGreaterThanOrEqual(request.receivedAt);
    expect(f.active()).toEqual([]);
  });
});

describe('fake LLM clients and request lifecycle', () => {
  it('accepts a path prefix before /v1 and records it', async () => {
    const f = await start();
    const origin = `http://127.0.0.1:${f.port}`;
    const worker = (prefix: string) =>
      new OpenAI({ apiKey: 'test', baseURL: `${origin}${prefix}/v1`, maxRetries: 0 });
    for (const prefix of ['/worker-1', '/worker-2', '', '/pool/a']) {
      await worker(prefix).chat.completions.create({
        model: 'm',
        messages: [{ role: 'user', content: 'hi' }],
      });
    }
    expect(f.requests.map((r) => r.pathPrefix)).toEqual(['/worker-1', '/worker-2', '', '/pool/a']);
    const page = await worker('/worker-1').models.list();
    expect(page.data.map((m) => m.id)).toEqual(['fake-llm']);
  });

  it('shows an open stream as active, and closes it without abort when it ends', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const f = await start(async () => {
      await released;
      return { text: 'Done. Bye.' };
    });
    const finished = streamText(f, turn('hi'));
    const request = await waitFor(() => f.requests[0], 'the request');
    expect(f.active()).toEqual([request]);
    release();
    expect(await finished).toBe('Done. Bye.');
    await waitFor(() => request.closedAt, 'the response to close');
    expect(request.aborted).toBe(false);
    expect(f.active()).toEqual([]);
  });

  it('records a hanging request that the client gave up on as aborted', async () => {
    const f = await start(() => ({ hang: true }));
    await expect(
      openai(f, 200).chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toBeInstanceOf(OpenAI.APIConnectionError);
    const request = f.requests[0] as FakeLlmRequest;
    await waitFor(() => request.aborted, 'the request to be seen as aborted');
    expect(f.active()).toEqual([]);
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

  it('words later generations differently, keeping goodbye and after-tool behaviour', () => {
    const at = (generation: number, messages: FakeLlmRequest['messages']): FakeLlmReply =>
      defaultReply({ ...req(messages), generation });
    const bill = [{ role: 'user', content: 'my bill' }];
    const texts = [0, 1, 2].map((g) => at(g, bill).text);
    expect(texts[0]).toBe('You said: my bill. How else can I help you today?');
    expect(new Set(texts).size).toBe(3);
    expect(at(1, bill)).toEqual(at(1, bill));
    expect(at(1, [])).not.toEqual(at(0, []));
    const bye = at(1, [{ role: 'user', content: 'bye' }]);
    expect(bye.text).not.toBe('Goodbye!');
    expect(bye.toolCalls).toEqual([{ name: 'end_call', arguments: { reason: 'caller said goodbye' } }]);
    const afterTool = at(1, [
      { role: 'user', content: 'bye' },
      { role: 'tool', content: 'ok', tool_call_id: 'call_1' },
    ]);
    expect(afterTool.toolCalls).toBeUndefined();
    expect(afterTool.text).not.toBe(at(0, [{ role: 'tool', content: 'ok' }]).text);
  });

  it('calls an offered tool the caller names, with arguments from what they said', () => {
    const tools = [
      { type: 'function', function: { name: 'end_call', parameters: {} } },
      {
        type: 'function',
        function: {
          name: 'get_balance',
          parameters: { type: 'object', properties: { account: { type: 'string' } }, required: ['account'] },
        },
      },
      { type: 'function', function: { name: 'transfer_call', parameters: {} } },
    ];
    const ask = (content: string) => defaultReply({ ...req([{ role: 'user', content }]), tools });
    expect(ask("What's my balance? Account 42.")).toEqual({
      toolCalls: [{ name: 'get_balance', arguments: { account: '42' } }],
    });
    expect(ask('Can I speak to a person?')).toEqual({
      toolCalls: [{ name: 'transfer_call', arguments: {} }],
    });
    expect(ask('What time is it?').toolCalls).toBeUndefined();
    // Not offered: never called.
    expect(defaultReply(req([{ role: 'user', content: 'my balance please' }])).toolCalls).toBeUndefined();
  });

  it('answers with the tool results, or says what failed', () => {
    const after = (content: string) =>
      defaultReply(
        req([
          { role: 'user', content: 'balance' },
          { role: 'tool', content, tool_call_id: 'c' },
        ]),
      );
    expect(after('{"balance":"$12.50"}').text).toBe(
      'Here is what I found: balance $12.50. Is there anything else I can help you with?',
    );
    expect(after('error: get_balance did not answer within 5 s').text).toBe(
      'Sorry, that did not work: get_balance did not answer within 5 s. Is there anything else I can do?',
    );
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
