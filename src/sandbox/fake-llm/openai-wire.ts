import type { FakeLlmReply } from './types';

/** Shapes of the OpenAI Chat Completions wire format, as the real API sends them. */

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

type Delta = Record<string, unknown>;

export interface ToolCallWire {
  id: string;
  name: string;
  arguments: string;
}

export function toolCallsOf(reply: FakeLlmReply, idPrefix: string): ToolCallWire[] {
  return (reply.toolCalls ?? []).map((call, i) => ({
    id: `${idPrefix}_${i}`,
    name: call.name,
    arguments: JSON.stringify(call.arguments),
  }));
}

export function finishReasonOf(toolCalls: ToolCallWire[]): 'stop' | 'tool_calls' {
  return toolCalls.length > 0 ? 'tool_calls' : 'stop';
}

/** Splits by code point, so a delta never ends inside a surrogate pair. */
export function split(text: string, size: number): string[] {
  const chars = Array.from(text);
  const step = Math.max(1, Math.floor(size));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += step) out.push(chars.slice(i, i + step).join(''));
  return out;
}

export function chunk(meta: CompletionMeta, delta: Delta, finishReason: string | null = null): object {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    system_fingerprint: 'fp_fake',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

/**
 * Every chunk of one streamed answer, in order, without the final `[DONE]`: the role chunk, one
 * chunk per content piece, the tool calls, the finish chunk and the usage chunk if asked for.
 */
export function streamChunks(
  meta: CompletionMeta,
  pieces: string[],
  toolCalls: ToolCallWire[],
  chunkSize: number,
  usage?: object,
): object[] {
  const role = { role: 'assistant', content: pieces.length === 0 ? null : '', refusal: null };
  const out: object[] = [chunk(meta, role)];
  for (const piece of pieces) out.push(chunk(meta, { content: piece }));
  toolCalls.forEach((call, index) => {
    out.push(
      chunk(meta, {
        tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
      }),
    );
    for (const piece of split(call.arguments, chunkSize)) {
      out.push(chunk(meta, { tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  out.push(chunk(meta, {}, finishReasonOf(toolCalls)));
  if (usage) {
    out.push({
      id: meta.id,
      object: 'chat.completion.chunk',
      created: meta.created,
      model: meta.model,
      system_fingerprint: 'fp_fake',
      choices: [],
      usage,
    });
  }
  return out;
}

export function completion(
  meta: CompletionMeta,
  text: string,
  toolCalls: ToolCallWire[],
  usage: object,
): object {
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: text === '' ? null : text,
    refusal: null,
    annotations: [],
  };
  if (toolCalls.length > 0) {
    message.tool_calls = toolCalls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: c.arguments },
    }));
  }
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: 'fp_fake',
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonOf(toolCalls) }],
    usage,
  };
}

/** A rough token count (4 characters a token): enough for code that reads `usage`. */
export function usageOf(promptChars: number, completionChars: number): object {
  const prompt_tokens = Math.ceil(promptChars / 4);
  const completion_tokens = Math.ceil(completionChars / 4);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

export function errorBody(status: number, message: string, code?: string): object {
  const type = status === 429 ? 'requests' : status >= 500 ? 'server_error' : 'invalid_request_error';
  const defaultCode = status === 401 ? 'invalid_api_key' : status === 429 ? 'rate_limit_exceeded' : null;
  return { error: { message, type, param: null, code: code ?? defaultCode } };
}

export function modelList(model: string): object {
  return {
    object: 'list',
    data: [{ id: model, object: 'model', created: 1_700_000_000, owned_by: 'fake-llm' }],
  };
}
