/**
 * The process's one logger, on pino. Messages are fixed strings; call ids and other values go in
 * fields. Transcript text and phone numbers are logged only at debug level; fields named like
 * secrets are always redacted, at any depth. An Error anywhere in the fields keeps its name,
 * message, stack and `cause` chain.
 *
 * Two formats, both one line per record, written synchronously (a line logged just before the
 * process exits is not lost) to stderr:
 * - `json`: pino's JSON lines, `{"level":"info","time":"<ISO>",...fields,"msg":"..."}`;
 * - `text`: `<ISO time> LEVEL msg key=value ...`, no colours.
 */
import { pino, type DestinationStream } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  /** Receives each record as one line, without its newline (tests). Default: stderr, synchronously. */
  write?: (line: string) => void;
}

const SECRET_KEY = /(key|token|secret|password|authorization|signature)/i;
/** pino writes these itself: a field of the same name would make a second key in the line. */
const RESERVED = new Set(['level', 'time', 'msg']);
/** Deeper than this, a value is replaced (never written unredacted). */
const MAX_DEPTH = 8;

/** An Error, or an error from another realm (jest's VM, a worker thread): duck-typed. */
function isErrorLike(v: object): v is Error {
  if (v instanceof Error) return true;
  const e = v as { message?: unknown; stack?: unknown; name?: unknown };
  return typeof e.message === 'string' && typeof e.stack === 'string' && typeof e.name === 'string';
}

/**
 * name, message, stack, the error's own fields (code, httpStatus...) and its `cause` chain (and an
 * AggregateError's errors). Temporal failures carry `failure`, the protobuf copy of the same error,
 * left out.
 */
function serializeError(err: Error): LogFields {
  const out: LogFields = { name: err.name, message: err.message, stack: err.stack };
  for (const [k, v] of Object.entries(err)) {
    if (k in out || k === 'failure' || k === 'cause') continue;
    out[k] = v;
  }
  if (err.cause !== undefined && err.cause !== null) out['cause'] = err.cause;
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors)) out['errors'] = errors;
  return out;
}

function cleanValue(v: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'function' || typeof v === 'symbol') return undefined;
  if (v === null || typeof v !== 'object') return v;
  if (seen.has(v)) return '[circular]';
  if (depth > MAX_DEPTH) return '[too deep]';
  if (ArrayBuffer.isView(v)) return `[${v.byteLength} bytes]`;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  seen.add(v);
  try {
    if (Array.isArray(v)) return v.map((item) => cleanValue(item, depth + 1, seen) ?? null);
    if (isErrorLike(v)) return cleanFields(serializeError(v), depth + 1, seen);
    if (v instanceof Map) return cleanFields(Object.fromEntries(v) as LogFields, depth + 1, seen);
    if (v instanceof Set) return cleanValue([...v], depth, seen);
    if (v instanceof URL) return v.origin + v.pathname; // never its query: keys travel there
    return cleanFields(v as LogFields, depth + 1, seen);
  } finally {
    seen.delete(v);
  }
}

function cleanFields(fields: LogFields, depth: number, seen: WeakSet<object>): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    if (SECRET_KEY.test(k)) {
      out[k] = '[redacted]';
      continue;
    }
    const value = cleanValue(v, depth, seen);
    if (value !== undefined) out[k] = value;
  }
  return out;
}

/** The fields as they are written: secrets redacted, errors serialized, pino's own keys left to pino. */
export function cleanLogFields(fields: LogFields): LogFields {
  const out = cleanFields(fields, 0, new WeakSet());
  for (const key of RESERVED) delete out[key];
  return out;
}

/** Written as is in text when plain; else as a JSON string, so that a record stays on one line. */
function textValue(v: unknown): string {
  // eslint-disable-next-line no-control-regex
  if (typeof v === 'string') return /[\u0000-\u001f\u007f]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** One JSON line from pino as `<time> LEVEL msg key=value ...`. */
export function textLine(json: string): string {
  const { time, level, msg, ...fields } = JSON.parse(json) as LogFields;
  const extras = Object.entries(fields)
    .map(([k, v]) => `${k}=${textValue(v)}`)
    .join(' ');
  const head = `${String(time)} ${String(level).toUpperCase().padEnd(5)} ${textValue(msg)}`;
  return extras ? `${head} ${extras}` : head;
}

let stderr: DestinationStream | undefined;
/** stderr, written synchronously: a line logged just before `process.exit` is still written. */
function stderrLine(line: string): void {
  stderr ??= pino.destination({ dest: 2, sync: true });
  stderr.write(line + '\n');
}

function destination(opts: LoggerOptions): DestinationStream {
  const write = opts.write ?? stderrLine;
  const text = opts.format !== 'json';
  return {
    // pino hands over one record per call, ending in a newline.
    write: (record: string) => {
      const json = record.endsWith('\n') ? record.slice(0, -1) : record;
      write(text ? textLine(json) : json);
    },
  };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const root = pino(
    {
      level: opts.level ?? 'info',
      base: undefined, // no pid, no hostname
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      // Errors are serialized (with their causes) wherever they are, by cleanLogFields.
      serializers: { err: (v: unknown) => v },
    },
    destination(opts),
  );
  // Children merge their fields here rather than as pino bindings: a call field overriding a child's
  // then makes one key in the line, not two.
  const make = (base: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (!root.isLevelEnabled(level)) return;
      root[level](cleanLogFields(fields ? { ...base, ...fields } : base), msg);
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make({});
}

const drop = (): void => undefined;

/** A logger that drops everything: for tests and library defaults. */
export const silentLogger: Logger = {
  debug: drop,
  info: drop,
  warn: drop,
  error: drop,
  child: () => silentLogger,
};
