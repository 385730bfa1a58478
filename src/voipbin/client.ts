import { type z } from 'zod';
import {
  VoipbinAbortError,
  VoipbinApiError,
  VoipbinNetworkError,
  VoipbinResponseError,
  parseRetryAfter,
  redactSecret,
} from './errors';
import {
  type Call,
  type CreateCallRequest,
  type CreateTransferRequest,
  type Transfer,
  type CreateCallResponse,
  type Customer,
  type Speaking,
  type Transcribe,
  type Transcript,
  type CreateSpeakingRequest,
  type CreateTranscribeRequest,
  type Page,
  callSchema,
  createCallResponseSchema,
  customerSchema,
  errorEnvelopeSchema,
  listEnvelope,
  speakingSchema,
  transcribeSchema,
  transcriptSchema,
  transferSchema,
} from './schemas';

export interface VoipbinClientOptions {
  /** e.g. `https://api.voipbin.net/v1.0`; a trailing slash is ignored. */
  baseUrl: string;
  /** Sent as `?accesskey=` on every request (the only way VoIPBIN accepts an access key). */
  apiKey: string;
  /** Per request, including reading the body. Default 10 000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface PageParams {
  pageSize?: number;
  pageToken?: string;
}

export interface ListTranscribesParams extends PageParams {
  /** Must be given together with `referenceId`. */
  referenceType?: string;
  referenceId?: string;
}

export interface ListTranscriptsParams extends PageParams {
  transcribeId: string;
}

type Query = Record<string, string | number | undefined>;

interface RequestSpec<S extends z.ZodType> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Templated path for messages, e.g. `/speakings/{id}/say`. */
  route: string;
  /** Real path relative to the base URL. */
  path: string;
  query?: Query;
  body?: unknown;
  schema: S;
}

const speakingList = listEnvelope(speakingSchema);
const transcribeList = listEnvelope(transcribeSchema);
const transcriptList = listEnvelope(transcriptSchema);

const id = (value: string): string => encodeURIComponent(value);

export class VoipbinClient {
  private readonly baseUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: VoipbinClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    // Fail at construction, not per request with the key inside a URL parse error.
    new URL(this.baseUrl);
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  // Speakings (streaming TTS).

  createSpeaking(req: CreateSpeakingRequest, opts?: RequestOptions): Promise<Speaking> {
    return this.request(
      { method: 'POST', route: '/speakings', path: '/speakings', body: req, schema: speakingSchema },
      opts,
    );
  }

  say(speakingId: string, text: string, opts?: RequestOptions): Promise<Speaking> {
    const path = `/speakings/${id(speakingId)}/say`;
    return this.request(
      { method: 'POST', route: '/speakings/{id}/say', path, body: { text }, schema: speakingSchema },
      opts,
    );
  }

  flush(speakingId: string, opts?: RequestOptions): Promise<Speaking> {
    const path = `/speakings/${id(speakingId)}/flush`;
    return this.request(
      { method: 'POST', route: '/speakings/{id}/flush', path, schema: speakingSchema },
      opts,
    );
  }

  stopSpeaking(speakingId: string, opts?: RequestOptions): Promise<Speaking> {
    const path = `/speakings/${id(speakingId)}/stop`;
    return this.request(
      { method: 'POST', route: '/speakings/{id}/stop', path, schema: speakingSchema },
      opts,
    );
  }

  getSpeaking(speakingId: string, opts?: RequestOptions): Promise<Speaking> {
    const path = `/speakings/${id(speakingId)}`;
    return this.request({ method: 'GET', route: '/speakings/{id}', path, schema: speakingSchema }, opts);
  }

  listSpeakings(params: PageParams = {}, opts?: RequestOptions): Promise<Page<Speaking>> {
    const query = { page_size: params.pageSize, page_token: params.pageToken };
    return this.request(
      { method: 'GET', route: '/speakings', path: '/speakings', query, schema: speakingList },
      opts,
    );
  }

  // Transcribes (live STT) and transcripts.

  createTranscribe(req: CreateTranscribeRequest, opts?: RequestOptions): Promise<Transcribe> {
    return this.request(
      { method: 'POST', route: '/transcribes', path: '/transcribes', body: req, schema: transcribeSchema },
      opts,
    );
  }

  stopTranscribe(transcribeId: string, opts?: RequestOptions): Promise<Transcribe> {
    const path = `/transcribes/${id(transcribeId)}/stop`;
    return this.request(
      { method: 'POST', route: '/transcribes/{id}/stop', path, schema: transcribeSchema },
      opts,
    );
  }

  getTranscribe(transcribeId: string, opts?: RequestOptions): Promise<Transcribe> {
    const path = `/transcribes/${id(transcribeId)}`;
    return this.request({ method: 'GET', route: '/transcribes/{id}', path, schema: transcribeSchema }, opts);
  }

  listTranscribes(params: ListTranscribesParams = {}, opts?: RequestOptions): Promise<Page<Transcribe>> {
    const query = {
      page_size: params.pageSize,
      page_token: params.pageToken,
      reference_type: params.referenceType,
      reference_id: params.referenceId,
    };
    return this.request(
      { method: 'GET', route: '/transcribes', path: '/transcribes', query, schema: transcribeList },
      opts,
    );
  }

  listTranscripts(params: ListTranscriptsParams, opts?: RequestOptions): Promise<Page<Transcript>> {
    const query = {
      transcribe_id: params.transcribeId,
      page_size: params.pageSize,
      page_token: params.pageToken,
    };
    return this.request(
      { method: 'GET', route: '/transcripts', path: '/transcripts', query, schema: transcriptList },
      opts,
    );
  }

  // Calls and the customer.

  getCall(callId: string, opts?: RequestOptions): Promise<Call> {
    const path = `/calls/${id(callId)}`;
    return this.request({ method: 'GET', route: '/calls/{id}', path, schema: callSchema }, opts);
  }

  hangupCall(callId: string, opts?: RequestOptions): Promise<Call> {
    const path = `/calls/${id(callId)}/hangup`;
    return this.request({ method: 'POST', route: '/calls/{id}/hangup', path, schema: callSchema }, opts);
  }

  createTransfer(req: CreateTransferRequest, opts?: RequestOptions): Promise<Transfer> {
    return this.request(
      { method: 'POST', route: '/transfers', path: '/transfers', body: req, schema: transferSchema },
      opts,
    );
  }

  createCall(req: CreateCallRequest, opts?: RequestOptions): Promise<CreateCallResponse> {
    return this.request(
      { method: 'POST', route: '/calls', path: '/calls', body: req, schema: createCallResponseSchema },
      opts,
    );
  }

  getCustomer(opts?: RequestOptions): Promise<Customer> {
    return this.request(
      { method: 'GET', route: '/customer', path: '/customer', schema: customerSchema },
      opts,
    );
  }

  // Transport.

  private async request<S extends z.ZodType>(
    spec: RequestSpec<S>,
    opts?: RequestOptions,
  ): Promise<z.output<S>> {
    const { method, route, path } = spec;
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    url.searchParams.set('accesskey', this.apiKey);

    const callerSignal = opts?.signal;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const onCallerAbort = (): void => controller.abort();
    if (callerSignal?.aborted) controller.abort();
    else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });

    let httpStatus: number;
    let headers: Headers;
    let text: string;
    try {
      const hasBody = spec.body !== undefined;
      const res = await this.fetchImpl(url, {
        method,
        signal: controller.signal,
        headers: hasBody
          ? { Accept: 'application/json', 'Content-Type': 'application/json' }
          : { Accept: 'application/json' },
        body: hasBody ? JSON.stringify(spec.body) : undefined,
      });
      httpStatus = res.status;
      headers = res.headers;
      text = await res.text();
    } catch (err) {
      if (callerSignal?.aborted) throw new VoipbinAbortError(method, route, callerSignal.reason);
      if (timedOut) throw new VoipbinNetworkError({ method, path, route, code: 'TIMEOUT' });
      throw new VoipbinNetworkError({ method, path, route, ...this.describe(err) });
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }

    if (httpStatus < 200 || httpStatus > 299) {
      throw this.apiError(spec, httpStatus, headers, text);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new VoipbinResponseError({ method, path, route, httpStatus, issues: ['body is not JSON'] });
    }
    const parsed = spec.schema.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (i) => `${i.path.map(String).join('.') || '(root)'} (${i.code})`,
      );
      throw new VoipbinResponseError({ method, path, route, httpStatus, issues });
    }
    return parsed.data;
  }

  private apiError(
    spec: RequestSpec<z.ZodType>,
    httpStatus: number,
    headers: Headers,
    text: string,
  ): VoipbinApiError {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const envelope = errorEnvelopeSchema.safeParse(body);
    const e = envelope.success ? envelope.data.error : undefined;
    return new VoipbinApiError({
      method: spec.method,
      path: spec.path,
      route: spec.route,
      httpStatus,
      status: e?.status ?? 'UNKNOWN',
      reason: e?.reason ?? '',
      serverMessage: e?.message,
      requestId: e?.request_id ?? headers.get('x-request-id') ?? undefined,
      retryAfterMs: parseRetryAfter(headers.get('retry-after')),
      details: e?.details,
    });
  }

  /**
   * A transport code and a redacted description, from fetch's `TypeError('fetch failed', {cause})`.
   * Duck-typed: fetch's errors may come from another realm (e.g. under jest), so `instanceof` is unreliable.
   */
  private describe(err: unknown): { code: string; detail?: string } {
    const outer = asErrorLike(err);
    const cause = asErrorLike(outer?.cause) ?? outer;
    const code = cause?.code ?? outer?.code;
    const message = cause?.message;
    return {
      code: typeof code === 'string' && code !== '' ? code : 'NETWORK',
      detail: typeof message === 'string' && message !== '' ? redactSecret(message, this.apiKey) : undefined,
    };
  }
}

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: unknown;
}

function asErrorLike(value: unknown): ErrorLike | undefined {
  return typeof value === 'object' && value !== null ? value : undefined;
}
