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
  /** Characters per content delta. Default 6. */
  chunkSize?: number;
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

export interface FakeLlmRequest {
  model: string;
  messages: FakeLlmMessage[];
  stream: boolean;
  tools?: unknown[];
  /** `Date.now()` when the request body was read. */
  receivedAt: number;
}

export interface FakeLlmOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a random free port). */
  port?: number;
  reply?: (req: FakeLlmRequest) => FakeLlmReply | Promise<FakeLlmReply>;
  /** Defaults for replies that do not set their own. Both default to 0. */
  firstTokenDelayMs?: number;
  chunkDelayMs?: number;
}

export interface FakeLlm {
  /** e.g. `http://127.0.0.1:PORT/v1`: what to pass as OPENAI_BASE_URL. */
  baseUrl: string;
  port: number;
  /** Every chat completion request received, in order. */
  requests: FakeLlmRequest[];
  close(): Promise<void>;
}
