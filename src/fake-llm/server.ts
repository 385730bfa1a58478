import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { defaultReply } from './default-reply';
import {
  type CompletionMeta,
  completion,
  errorBody,
  modelList,
  streamChunks,
  toolCallsOf,
  usageOf,
} from './openai-wire';
import type { FakeLlm, FakeLlmMessage, FakeLlmOptions, FakeLlmReply, FakeLlmRequest } from './types';

export { defaultReply } from './default-reply';
export type {
  FakeLlm,
  FakeLlmMessage,
  FakeLlmOptions,
  FakeLlmReply,
  FakeLlmRequest,
  FakeLlmToolCall,
} from './types';

/** The one model `GET /v1/models` lists; any model name is accepted in requests. */
export const FAKE_LLM_MODEL = 'fake-llm';

const DEFAULT_CHUNK_SIZE = 6;

/**
 * An OpenAI-compatible Chat Completions server on localhost: streaming (SSE) and plain JSON answers,
 * tool calls, errors, delays and hangs, scripted per request by `opts.reply`. Any API key is accepted.
 */
export async function startFakeLlm(opts: FakeLlmOptions = {}): Promise<FakeLlm> {
  const requests: FakeLlmRequest[] = [];
  let served = 0;

  const server = createServer((req, res) => {
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    res.on('error', () => closed.abort());
    req.on('error', () => closed.abort());
    void route(req, res, closed.signal).catch((err: unknown) => {
      const message = err instanceof Error ? err.message : 'fake LLM failure';
      if (!res.headersSent) sendJson(res, 500, errorBody(500, message));
      else res.destroy();
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse, closed: AbortSignal): Promise<void> {
    const { pathname } = new URL(req.url ?? '/', 'http://fake-llm');
    if (req.method === 'GET' && pathname === '/v1/models') {
      sendJson(res, 200, modelList(FAKE_LLM_MODEL));
    } else if (req.method === 'POST' && pathname === '/v1/chat/completions') {
      await chat(req, res, closed);
    } else {
      sendJson(
        res,
        404,
        errorBody(404, `Unknown request URL: ${req.method ?? ''} ${pathname}`, 'unknown_url'),
      );
    }
  }

  async function chat(req: IncomingMessage, res: ServerResponse, closed: AbortSignal): Promise<void> {
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(await readBody(req));
      if (
        typeof parsed !== 'object' ||
        parsed === null ||
        !Array.isArray((parsed as { messages?: unknown }).messages)
      ) {
        throw new Error('not a chat completion request');
      }
      body = parsed as Record<string, unknown>;
    } catch {
      sendJson(res, 400, errorBody(400, 'Invalid request body: expected JSON with a messages array.'));
      return;
    }
    const request: FakeLlmRequest = {
      model: typeof body.model === 'string' ? body.model : FAKE_LLM_MODEL,
      messages: (body.messages as unknown[]).map(normaliseMessage),
      stream: body.stream === true,
      receivedAt: Date.now(),
    };
    if (Array.isArray(body.tools)) request.tools = body.tools as unknown[];
    requests.push(request);
    const n = ++served;

    const reply: FakeLlmReply = await (opts.reply ?? defaultReply)(request);
    if (reply.hang) {
      await sleep(Infinity, closed);
      return;
    }
    const firstDelay = reply.firstTokenDelayMs ?? opts.firstTokenDelayMs ?? 0;
    const chunkDelay = reply.chunkDelayMs ?? opts.chunkDelayMs ?? 0;

    if (reply.error) {
      if (!(await sleep(firstDelay, closed))) return;
      sendJson(res, reply.error.status, errorBody(reply.error.status, reply.error.message));
      return;
    }

    const meta: CompletionMeta = {
      id: `chatcmpl-fake-${n}`,
      created: Math.floor(request.receivedAt / 1000),
      model: request.model,
    };
    const text = reply.text ?? '';
    const toolCalls = toolCallsOf(reply, `call_fake_${n}`);
    const promptChars = request.messages.reduce((sum, m) => sum + (m.content ?? '').length, 0);
    const usage = usageOf(promptChars, text.length + toolCalls.reduce((s, c) => s + c.arguments.length, 0));

    if (!request.stream) {
      if (!(await sleep(firstDelay, closed))) return;
      sendJson(res, 200, completion(meta, text, toolCalls, usage));
      return;
    }

    const includeUsage =
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const chunks = streamChunks(
      meta,
      text,
      toolCalls,
      reply.chunkSize ?? DEFAULT_CHUNK_SIZE,
      includeUsage ? usage : undefined,
    );
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Request-Id': `req_fake_${n}`,
    });
    res.flushHeaders();
    for (const [i, c] of chunks.entries()) {
      if (!(await sleep(i === 0 ? firstDelay : chunkDelay, closed))) return;
      if (!writable(res)) return;
      res.write(`data: ${JSON.stringify(c)}\n\n`);
    }
    if (!writable(res)) return;
    res.end('data: [DONE]\n\n');
  }

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    baseUrl: `http://${urlHost}:${port}/v1`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function normaliseMessage(raw: unknown): FakeLlmMessage {
  const m = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  return { ...m, role: typeof m.role === 'string' ? m.role : '', content: textOf(m.content) };
}

/** String content as is; array content as its text parts joined; anything else null. */
function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return null;
  return content
    .map((part: unknown) => {
      const text = (part as { text?: unknown } | null)?.text;
      return typeof text === 'string' ? text : '';
    })
    .join('');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function writable(res: ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded;
}

function sendJson(res: ServerResponse, status: number, body: object): void {
  if (!writable(res)) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Resolves true after `ms`, or false as soon as `signal` aborts (the client went away). */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      resolve(false);
    };
    const timer = Number.isFinite(ms)
      ? setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve(true);
        }, ms)
      : undefined;
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
