/**
 * Typed failures of the VoIPBIN REST client. No message or field ever holds the access key: paths are
 * stored without their query string, and transport error text is redacted.
 */

/** 4xx is permanent except 408 (request timeout) and 429 (rate limited); 5xx is retryable. */
export function isRetryableStatus(httpStatus: number): boolean {
  return httpStatus === 408 || httpStatus === 429 || httpStatus >= 500;
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. `undefined` when absent or unparsable. */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // An HTTP date has a weekday and month name; V8 would otherwise read '-3' or '1 2' as dates.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Drops any query string (where the access key travels). */
export function stripQuery(path: string): string {
  const cut = path.search(/[?#]/);
  return cut === -1 ? path : path.slice(0, cut);
}

/** Removes an access key from free text: the key itself and any `accesskey=` parameter. */
export function redactSecret(text: string, secret?: string): string {
  let out = text.replace(/accesskey=[^&\s"']*/gi, 'accesskey=***');
  if (secret) out = out.split(secret).join('***');
  return out;
}

export interface VoipbinErrorTarget {
  method: string;
  /** The real path (ids filled in), without query string. */
  path: string;
  /** The templated path, e.g. `/speakings/{id}/say`. Defaults to `path`. */
  route?: string;
}

export interface VoipbinApiErrorInit extends VoipbinErrorTarget {
  httpStatus: number;
  /** The envelope `status` (e.g. `NOT_FOUND`), or `UNKNOWN` when the body is not an envelope. */
  status: string;
  /** The envelope `reason` (e.g. `RESOURCE_NOT_FOUND`), or `''`. */
  reason: string;
  /** The envelope `message`, kept out of `Error.message`. */
  serverMessage?: string;
  requestId?: string;
  retryAfterMs?: number;
  details?: unknown[];
}

/** VoIPBIN answered with a non-2xx status. */
export class VoipbinApiError extends Error {
  override readonly name = 'VoipbinApiError';
  readonly httpStatus: number;
  readonly status: string;
  readonly reason: string;
  readonly serverMessage?: string;
  readonly requestId?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly details?: unknown[];
  readonly method: string;
  readonly path: string;
  readonly route: string;

  constructor(init: VoipbinApiErrorInit) {
    const path = stripQuery(init.path);
    const route = stripQuery(init.route ?? init.path);
    const code = init.reason ? `${init.status}/${init.reason}` : init.status;
    super(`VoIPBIN ${init.method} ${route} answered ${init.httpStatus} ${code}`);
    this.httpStatus = init.httpStatus;
    this.status = init.status;
    this.reason = init.reason;
    this.serverMessage = init.serverMessage;
    this.requestId = init.requestId;
    this.retryable = isRetryableStatus(init.httpStatus);
    this.retryAfterMs = init.retryAfterMs;
    this.details = init.details;
    this.method = init.method;
    this.path = path;
    this.route = route;
  }
}

export interface VoipbinNetworkErrorInit extends VoipbinErrorTarget {
  /** A short transport code: `TIMEOUT`, `ECONNREFUSED`, `ECONNRESET`, … or `NETWORK`. */
  code: string;
  /** Already redacted description of the transport failure. */
  detail?: string;
}

/** The request never got a complete answer: refused, reset, DNS, or timed out. Always retryable. */
export class VoipbinNetworkError extends Error {
  override readonly name = 'VoipbinNetworkError';
  readonly retryable = true;
  readonly code: string;
  readonly method: string;
  readonly path: string;
  readonly route: string;

  constructor(init: VoipbinNetworkErrorInit) {
    const route = stripQuery(init.route ?? init.path);
    const what = init.code === 'TIMEOUT' ? 'timed out' : `failed (${init.code})`;
    super(`VoIPBIN ${init.method} ${route} ${what}${init.detail ? `: ${init.detail}` : ''}`);
    this.code = init.code;
    this.method = init.method;
    this.path = stripQuery(init.path);
    this.route = route;
  }
}

export interface VoipbinResponseErrorInit extends VoipbinErrorTarget {
  httpStatus: number;
  /** Where the body failed validation: zod issue paths and codes, never values. */
  issues: string[];
}

/** A 2xx answer whose body does not match the expected schema. Not retryable: the same call gives the same body. */
export class VoipbinResponseError extends Error {
  override readonly name = 'VoipbinResponseError';
  readonly retryable = false;
  readonly httpStatus: number;
  readonly issues: string[];
  readonly method: string;
  readonly path: string;
  readonly route: string;

  constructor(init: VoipbinResponseErrorInit) {
    const route = stripQuery(init.route ?? init.path);
    super(
      `VoIPBIN ${init.method} ${route} answered ${init.httpStatus} with an unexpected body: ${init.issues.join('; ')}`,
    );
    this.httpStatus = init.httpStatus;
    this.issues = init.issues;
    this.method = init.method;
    this.path = stripQuery(init.path);
    this.route = route;
  }
}

/** The caller's own AbortSignal fired. `name` is `AbortError`, like `fetch`'s. Never retryable. */
export class VoipbinAbortError extends Error {
  override readonly name = 'AbortError';

  constructor(method: string, route: string, reason?: unknown) {
    super(`VoIPBIN ${method} ${stripQuery(route)} aborted by the caller`, { cause: reason });
  }
}

/** True for errors worth retrying: 408, 429, 5xx and transport failures. False for anything else, including aborts. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof VoipbinApiError) return err.retryable;
  if (err instanceof VoipbinNetworkError) return true;
  return false;
}
