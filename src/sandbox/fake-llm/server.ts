import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseChatBody, requestOf } from './chat-request';
import { ConversationMemory, conversationOf } from './conversation-memory';
import { defaultReply } from './default-reply';
import { readBody, sendJson, sleep, writable } from './http-io';
import {
  type CompletionMeta,
  completion,
  errorBody,
  modelList,
  streamChunks,
  toolCallsOf,
  usageOf,
} from './openai-wire';
import { type Pacing, planStream, waitAfter } from './pacing';
import type { FakeLlm, FakeLlmOptions, FakeLlmReply, FakeLlmRequest } from './types';

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

// Any prefix before `/v1` is accepted, so that several clients of one server can be told apart.
const CHAT_PATH = /^(.*)\/v1\/chat\/completions$/;
const MODELS_PATH = /^(.*)\/v1\/models$/;

/**
 * An OpenAI-compatible Chat Completions server on localhost: streaming (SSE) and plain JSON answers,
 * tool calls, errors, delays, pauses, stalls and hangs, scripted per request by `opts.reply`. It
 * remembers its answers per conversation, to word a regenerated answer differently and to go on
 * from an earlier answer when asked to continue it. Any API key is accepted.
 */
export async function startFakeLlm(opts: FakeLlmOptions = {}): Promise<FakeLlm> {
  const requests: FakeLlmRequest[] = [];
  const memory = new ConversationMemory();
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
    const chatPrefix = CHAT_PATH.exec(pathname)?.[1];
    if (req.method === 'GET' && MODELS_PATH.test(pathname)) {
      sendJson(res, 200, modelList(FAKE_LLM_MODEL));
    } else if (req.method === 'POST' && chatPrefix !== undefined) {
      await chat(req, res, closed, chatPrefix);
    } else {
      sendJson(
        res,
        404,
        errorBody(404, `Unknown request URL: ${req.method ?? ''} ${pathname}`, 'unknown_url'),
      );
    }
  }

  /**
   * Records the request and decides the reply: the scripted one, or for a continuation of an earlier
   * answer, the rest of that answer (with the scripted timing). Generations are counted before the
   * script runs, so concurrent asks of one conversation get distinct ones.
   */
  async function answer(request: FakeLlmRequest): Promise<FakeLlmReply> {
    const conversation = conversationOf(request.messages);
    const earlier =
      conversation.said === undefined ? undefined : memory.continuation(conversation.key, conversation.said);
    if (conversation.said !== undefined) {
      request.continuation = { said: conversation.said, ...(earlier && { remainder: earlier.remainder }) };
    }
    // A continuation that goes on from an earlier answer is that answer's generation, not a new one.
    request.generation = earlier ? earlier.answer.generation : memory.ask(conversation.key);
    requests.push(request);
    const scripted = await (opts.reply ?? defaultReply)(request);
    if (earlier) return { ...scripted, text: earlier.remainder, toolCalls: earlier.answer.toolCalls };
    if (!scripted.hang && !scripted.error) {
      // Remembered before streaming: the continuation may come while this answer is still cut off.
      memory.remember(conversation.key, {
        generation: request.generation,
        text: scripted.text ?? '',
        toolCalls: scripted.toolCalls ?? [],
      });
    }
    return scripted;
  }

  async function chat(
    req: IncomingMessage,
    res: ServerResponse,
    closed: AbortSignal,
    pathPrefix: string,
  ): Promise<void> {
    const body = parseChatBody(await readBody(req));
    if (!body) {
      sendJson(res, 400, errorBody(400, 'Invalid request body: expected JSON with a messages array.'));
      return;
    }
    const request = requestOf(body, FAKE_LLM_MODEL, pathPrefix);
    trackClose(request, res, closed);
    const n = ++served;
    const reply = await answer(request);
    if (reply.hang) {
      await sleep(Infinity, closed);
      return;
    }
    const firstDelay = reply.firstTokenDelayMs ?? opts.firstTokenDelayMs ?? 0;
    const pacing: Pacing = {
      chunkDelayMs: reply.chunkDelayMs ?? opts.chunkDelayMs ?? 0,
      sentencePauseMs: reply.sentencePauseMs ?? opts.sentencePauseMs ?? 0,
      stallMs: reply.stallAfterChars === undefined ? 0 : (reply.stallMs ?? Infinity),
    };

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
      if (!(await sleep(firstDelay, closed)) || !(await sleep(pacing.stallMs, closed))) return;
      sendJson(res, 200, completion(meta, text, toolCalls, usage));
      return;
    }

    const includeUsage =
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    const chunkSize = reply.chunkSize ?? DEFAULT_CHUNK_SIZE;
    const plan = planStream(text, chunkSize, reply.stallAfterChars);
    const chunks = streamChunks(
      meta,
      plan.pieces.map((p) => p.text),
      toolCalls,
      chunkSize,
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
      if (!(await sleep(i === 0 ? firstDelay : waitAfter(plan, i - 1, pacing), closed))) return;
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
    active: () => requests.filter((r) => r.closedAt === undefined),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** Sets `closedAt` when the response ends or its connection goes, and `aborted` if that came first. */
function trackClose(request: FakeLlmRequest, res: ServerResponse, closed: AbortSignal): void {
  const onClose = (): void => {
    request.closedAt = Date.now();
    request.aborted = !res.writableFinished;
  };
  if (closed.aborted) onClose();
  else closed.addEventListener('abort', onClose, { once: true });
}
