import { randomBytes } from 'node:crypto';

/**
 * Time as the VoIPBIN server writes it: RFC3339Nano in UTC with microsecond precision and the
 * trailing zeros of the fraction trimmed, as Go does (`2026-01-15T09:30:00.1234Z`).
 */

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A syntactically valid, non-nil uuid (Go's uuid.FromStringOrNil(x) != uuid.Nil). */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value) && value !== NIL_UUID;
}

/** Microseconds since the epoch, strictly increasing so that ordering by tm_create is total. */
export class Clock {
  private last = 0;

  nowMicros(): number {
    const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    this.last = now > this.last ? now : this.last + 1;
    return this.last;
  }
}

function fraction(micros: number, trim: boolean): string {
  const digits = String(micros % 1_000_000).padStart(6, '0');
  const kept = trim ? digits.replace(/0+$/, '') : digits;
  return kept === '' ? '' : `.${kept}`;
}

/** `2026-01-15T09:30:00.123456Z`, trailing zeros trimmed (Go RFC3339Nano). */
export function formatTime(micros: number): string {
  const base = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
  return `${base}${fraction(micros, true)}Z`;
}

/** A list's next_page_token: `2006-01-02T15:04:05.000000Z`. */
export function formatPageToken(micros: number): string {
  const base = new Date(Math.floor(micros / 1000)).toISOString().slice(0, 19);
  return `${base}${fraction(micros, false)}Z`;
}

/** Parses a page token back to microseconds; undefined when it is not one. */
export function parsePageToken(token: string): number | undefined {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(token);
  if (!m?.[1]) return undefined;
  const ms = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(ms)) return undefined;
  const micros = Number((m[2] ?? '').padEnd(6, '0').slice(0, 6));
  return ms * 1000 + micros;
}

/**
 * A transcript's tm_transcript: not a wall-clock time but year 0001 plus the time elapsed since
 * the stream started, e.g. `0001-01-01T00:00:08.99184Z`.
 */
export function formatOffset(elapsedMs: number): string {
  const total = Math.max(0, Math.round(elapsedMs * 1000));
  const seconds = Math.floor(total / 1_000_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const hh = pad(Math.floor(seconds / 3600) % 24);
  const mm = pad(Math.floor(seconds / 60) % 60);
  const ss = pad(seconds % 60);
  return `0001-01-01T${hh}:${mm}:${ss}${fraction(total, true)}Z`;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** `req_` + 26 base32 characters, as every VoIPBIN response's X-Request-Id. */
export function newRequestId(): string {
  const bytes = randomBytes(26);
  let out = 'req_';
  for (const b of bytes) out += CROCKFORD[b % 32] ?? '0';
  return out;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The response's X-Request-Id: a safe client-supplied one is echoed, else a new one. */
export function requestIdFor(given: string | undefined): string {
  return given !== undefined && SAFE_REQUEST_ID.test(given) ? given : newRequestId();
}

/** A random alphanumeric secret (VoIPBIN generates 32 characters per customer). */
export function randomSecret(length = 32): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length] ?? 'a';
  return out;
}
