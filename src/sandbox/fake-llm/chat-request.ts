import type { FakeLlmMessage, FakeLlmRequest } from './types';

/** A chat completion request body: any JSON object with a `messages` array. */
export type ChatBody = Record<string, unknown> & { messages: unknown[] };

/** The parsed body, or undefined when it is not JSON with a messages array. */
export function parseChatBody(text: string): ChatBody | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    return Array.isArray((parsed as { messages?: unknown }).messages) ? (parsed as ChatBody) : undefined;
  } catch {
    return undefined;
  }
}

/** The request as recorded and shown to reply scripts, before the server adds what it decides. */
export function requestOf(body: ChatBody, defaultModel: string, pathPrefix: string): FakeLlmRequest {
  const request: FakeLlmRequest = {
    model: typeof body.model === 'string' ? body.model : defaultModel,
    messages: body.messages.map(normaliseMessage),
    stream: body.stream === true,
    receivedAt: Date.now(),
    pathPrefix,
    aborted: false,
  };
  if (Array.isArray(body.tools)) request.tools = body.tools as unknown[];
  return request;
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
