export interface FakeLlmToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

/** What the fake model answers to one request. */
export interface FakeLlmReply {
  text?: string;
  toolCalls?: FakeLlmToolCall[];
  /** Wait before the first streamed chunk (or before the JSON answer when not streaming). */
  firstTokenDelayMs?: number;
  /** Wait between streamed chunks. */
  chunkDelayMs?: number;
  /** Characters per content delta. Default 6. A sentence end always ends a delta (see `sentencePauseMs`). */
  chunkSize?: number;
  /**
   * After a delta that ends a sentence (`.`, `!`, `?` or `…`, then any closing quotes or brackets),
   * wait this long before the next chunk instead of `chunkDelayMs`, as a real model pauses after a
   * full stop. The whitespace after a sentence end always starts the next delta, so it arrives only
   * after the pause. Default `FakeLlmOptions.sentencePauseMs`, else 0.
   */
  sentencePauseMs?: number;
  /**
   * A stall mid-reply: stream exactly this many characters (code points) of `text`, then go silent
   * for `stallMs`. 0 stalls right after the first (role-only) chunk; a value past the end stalls
   * before the tool calls and the finish chunk. (`hang` is a stall before the response starts.)
   * Without streaming, the JSON answer waits `stallMs` longer.
   */
  stallAfterChars?: number;
  /** How long the stall lasts. Default `Infinity`: until the client goes away. */
  stallMs?: number;
  /** Answer with an OpenAI error body and this HTTP status instead. */
  error?: { status: number; message: string };
  /** Never answer: for timeout tests. */
  hang?: boolean;
}

export interface FakeLlmMessage {
  role: string;
  /** Text parts of array content are joined into one string. */
  content: string | null;
  [k: string]: unknown;
}

/**
 * One chat completion request. The fields after `receivedAt` are set by the server on every request
 * it records; they are optional only so that a request can be built by hand (e.g. for `defaultReply`).
 */
export interface FakeLlmRequest {
  model: string;
  messages: FakeLlmMessage[];
  stream: boolean;
  tools?: unknown[];
  /** `Date.now()` when the request body was read. */
  receivedAt: number;
  /**
   * How many times the same conversation (roles and contents, any continuation note taken out of
   * the system message) was asked fresh before this request: 0 the first time, 1 for a retry, ...
   * Every fresh ask counts, even one scripted to fail or hang. A continuation that goes on from an
   * earlier answer is not a fresh ask: it carries that answer's generation.
   */
  generation?: number;
  /**
   * Set when the system message carries a continuation note (`activities/continuation.ts`): the
   * caller already heard `said`. When an earlier answer to the same conversation starts with `said`
   * (whitespace normalised), the server streams only `remainder` (the rest of that answer, leading
   * whitespace trimmed, possibly empty) plus that answer's tool calls, whatever text or tool calls
   * the reply function returns; its timing, `error` and `hang` still apply. Without a match,
   * `remainder` is absent and the request is answered as a fresh generation.
   */
  continuation?: { said: string; remainder?: string };
  /** The path before `/v1/chat/completions`: '' for none, e.g. '/worker-1' (see `FakeLlm.baseUrl`). */
  pathPrefix?: string;
  /** `Date.now()` when the response ended or its connection closed; undefined while it is open. */
  closedAt?: number;
  /** True once the connection closed before the response was complete (e.g. the client crashed). */
  aborted?: boolean;
}

export interface FakeLlmOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a random free port). */
  port?: number;
  reply?: (req: FakeLlmRequest) => FakeLlmReply | Promise<FakeLlmReply>;
  /** Defaults for replies that do not set their own. All default to 0. */
  firstTokenDelayMs?: number;
  chunkDelayMs?: number;
  sentencePauseMs?: number;
}

export interface FakeLlm {
  /**
   * e.g. `http://127.0.0.1:PORT/v1`: what to pass as OPENAI_BASE_URL. Any path prefix before `/v1`
   * is accepted and recorded as `pathPrefix`, so several clients can tell themselves apart:
   * `http://127.0.0.1:PORT/worker-1/v1`.
   */
  baseUrl: string;
  port: number;
  /** Every chat completion request received, in order. */
  requests: FakeLlmRequest[];
  /** The requests whose response is still open (streaming, stalled or hanging), in order. */
  active(): FakeLlmRequest[];
  close(): Promise<void>;
}
