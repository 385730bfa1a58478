import { spawnSync } from 'node:child_process';
import { createLogger, silentLogger, type LoggerOptions, type LogLevel } from '../../src/logger';
import { PROJECT_ROOT } from '../../src/paths';

function capture(opts: Omit<LoggerOptions, 'write'> = {}) {
  const lines: string[] = [];
  const log = createLogger({ ...opts, write: (line) => lines.push(line) });
  const json = (): Array<Record<string, unknown>> =>
    lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log, lines, json };
}

const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

function emitAll(log: ReturnType<typeof createLogger>): void {
  for (const level of LEVELS) log[level](`${level} message`);
}

describe('level filtering', () => {
  it.each<[LogLevel, LogLevel[]]>([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ])('at %s writes %j', (level, written) => {
    const { log, json } = capture({ level, format: 'json' });
    emitAll(log);
    expect(json().map((l) => l['level'])).toEqual(written);
  });

  it('defaults to info', () => {
    const { log, json } = capture({ format: 'json' });
    emitAll(log);
    expect(json().map((l) => l['level'])).toEqual(['info', 'warn', 'error']);
  });

  it('keeps the level in children', () => {
    const { log, lines } = capture({ level: 'warn' });
    const child = log.child({ callId: 'c-1' });
    child.info('dropped');
    child.warn('kept');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('kept');
  });
});

describe('json format', () => {
  it('writes one JSON object per line with time, level, msg and the fields', () => {
    const { log, lines, json } = capture({ format: 'json' });
    log.info('call started', { callId: 'c-1', turn: 2, nested: { a: [1, 2] } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [line] = json();
    expect(line).toEqual({
      time: expect.any(String) as unknown,
      level: 'info',
      msg: 'call started',
      callId: 'c-1',
      turn: 2,
      nested: { a: [1, 2] },
    });
    expect(Number.isNaN(Date.parse(line?.['time'] as string))).toBe(false);
  });

  it('drops undefined fields', () => {
    const { log, json } = capture({ format: 'json' });
    log.info('x', { kept: null, dropped: undefined });
    expect(json()[0]).toHaveProperty('kept', null);
    expect(json()[0]).not.toHaveProperty('dropped');
  });

  it('writes each key once when a call field overrides a child field', () => {
    const { log, lines } = capture({ format: 'json' });
    log.child({ component: 'ingress' }).info('x', { component: 'router' });
    expect(lines[0]?.match(/"component"/g)).toHaveLength(1);
  });

  it('writes bigints as strings and bytes as their length', () => {
    const { log, json } = capture({ format: 'json' });
    log.info('x', { nanos: 12345678901234567890n, data: new Uint8Array(7), at: new Date(0) });
    expect(json()[0]).toMatchObject({
      nanos: '12345678901234567890',
      data: '[7 bytes]',
      at: '1970-01-01T00:00:00.000Z',
    });
  });

  it('adds the fields of a child, and lets call fields override them', () => {
    const { log, json } = capture({ format: 'json' });
    const child = log.child({ callId: 'c-1', component: 'ingress' });
    child.info('first');
    child.child({ turn: 3 }).warn('second', { component: 'router' });
    expect(json()).toEqual([
      expect.objectContaining({ msg: 'first', callId: 'c-1', component: 'ingress' }),
      expect.objectContaining({ msg: 'second', callId: 'c-1', component: 'router', turn: 3 }),
    ]);
  });
});

describe('text format', () => {
  it('writes time, padded level, message and key=value fields', () => {
    const { log, lines } = capture({ level: 'debug' });
    log.warn('webhook refused', { status: 401, reason: 'bad signature', meta: { a: 1 } });
    log.debug('plain');
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT[\d:.]+Z WARN {2}webhook refused status=401 reason=bad signature meta=\{"a":1\}$/,
    );
    expect(lines[1]).toMatch(/^\S+ DEBUG plain$/);
  });

  it('keeps a record on one line without control characters: such strings are quoted', () => {
    const { log, lines } = capture();
    log.warn('two\nlines', { text: 'a\nb', ansi: '\u001b[31mred\u001b[0m', plain: 'no quotes' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      / WARN {2}"two\\nlines" text="a\\nb" ansi="\\u001b\[31mred\\u001b\[0m" plain=no quotes$/,
    );
    // eslint-disable-next-line no-control-regex
    expect(lines[0]).not.toMatch(/[\u0000-\u001f]/);
  });

  it('is the default format', () => {
    const { log, lines } = capture();
    log.info('hello');
    expect(lines[0]).toMatch(/ INFO {2}hello$/);
    expect(() => JSON.parse(lines[0] ?? '') as unknown).toThrow();
  });
});

describe('redaction', () => {
  const SECRETS = {
    apiKey: 'sk-live-123',
    accesskey: 'voipbin-key',
    token: 'admin-token',
    adminToken: 'admin-token-2',
    webhookSecret: 'whsec-456',
    authorization: 'Bearer abc',
    Authorization: 'Bearer def',
    password: 'hunter2',
    signature: 'sha256=deadbeef',
  };

  it.each(['json', 'text'] as const)('redacts fields named like secrets (%s)', (format) => {
    const { log, lines, json } = capture({ format });
    log.error('failed', { ...SECRETS, callId: 'c-1' });
    for (const value of Object.values(SECRETS)) expect(lines[0]).not.toContain(value);
    expect(lines[0]).toContain('c-1');
    if (format === 'json') {
      const line = json()[0];
      for (const key of Object.keys(SECRETS)) expect(line?.[key]).toBe('[redacted]');
      expect(line?.['callId']).toBe('c-1');
    } else {
      expect(lines[0]).toContain('apiKey=[redacted]');
      expect(lines[0]).toContain('webhookSecret=[redacted]');
    }
  });

  it('redacts secret fields given to a child', () => {
    const { log, lines } = capture({ format: 'json' });
    log.child({ apiKey: 'sk-live-123' }).info('x');
    expect(lines[0]).not.toContain('sk-live-123');
    expect(lines[0]).toContain('"apiKey":"[redacted]"');
  });

  it('redacts at any depth, inside arrays too, and cuts what is nested too deep to check', () => {
    const { log, lines, json } = capture({ format: 'json' });
    const deep = { a: { b: { c: { d: { e: { f: { password: 'pw-deep' } } } } } } };
    let tooDeep: Record<string, unknown> = { apiKey: 'sk-too-deep' };
    for (let i = 0; i < 20; i++) tooDeep = { inner: tooDeep };
    log.info('x', { deep, headers: [{ Authorization: 'Bearer in-array' }], tooDeep });
    for (const secret of ['pw-deep', 'in-array', 'sk-too-deep']) expect(lines[0]).not.toContain(secret);
    expect(json()[0]).toMatchObject({
      deep: { a: { b: { c: { d: { e: { f: { password: '[redacted]' } } } } } } },
      headers: [{ Authorization: '[redacted]' }],
    });
    expect(lines[0]).toContain('[too deep]');
  });

  it('redacts even when the value is not a string', () => {
    const { log, json } = capture({ format: 'json' });
    log.info('x', { token: { value: 'nested' }, apiKey: 12345 });
    expect(json()[0]).toMatchObject({ token: '[redacted]', apiKey: '[redacted]' });
  });
});

describe('errors', () => {
  function thrown(): Error {
    try {
      try {
        JSON.parse('{');
      } catch (inner) {
        throw new Error('config unreadable', { cause: inner });
      }
    } catch (outer) {
      return outer as Error;
    }
    throw new Error('unreachable');
  }

  it('keeps name, message, stack and the cause chain of an Error field', () => {
    const { log, json } = capture({ format: 'json' });
    const err = thrown();
    log.error('failed', { error: err });
    const written = json()[0]?.['error'] as Record<string, unknown>;
    expect(written).toMatchObject({ name: 'Error', message: 'config unreadable', stack: err.stack });
    expect(written['stack']).toMatch(/^Error: config unreadable\n\s+at /);
    expect(written['cause']).toMatchObject({
      name: 'SyntaxError',
      message: (err.cause as Error).message,
      stack: (err.cause as Error).stack,
    });
  });

  it('serializes an Error under any key and at any depth, with its own fields', () => {
    const { log, json } = capture({ format: 'json' });
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const err = new AggregateError([new RangeError('first')], 'all failed', { cause });
    log.warn('x', { err, nested: { list: [new TypeError('deep')] } });
    const line = json()[0];
    expect(line?.['err']).toMatchObject({
      name: 'AggregateError',
      message: 'all failed',
      errors: [{ name: 'RangeError', message: 'first' }],
      cause: { name: 'Error', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' },
    });
    expect(line?.['nested']).toMatchObject({
      list: [
        { name: 'TypeError', message: 'deep', stack: expect.stringContaining('TypeError: deep') as unknown },
      ],
    });
  });

  it('keeps the name of a custom error', () => {
    class TemporalUnavailableError extends Error {
      override name = 'TemporalUnavailableError';
    }
    const { log, json } = capture({ format: 'json' });
    log.warn('x', { err: new TemporalUnavailableError('down') });
    expect(json()[0]?.['err']).toMatchObject({ name: 'TemporalUnavailableError', message: 'down' });
  });

  it('redacts secrets an error carries, and survives a cause cycle', () => {
    const { log, json, lines } = capture({ format: 'json' });
    const err = Object.assign(new Error('refused'), { apiKey: 'sk-in-error' });
    const loop = new Error('loop');
    loop.cause = loop;
    log.error('x', { error: err, loop });
    expect(lines[0]).not.toContain('sk-in-error');
    expect(json()[0]?.['error']).toMatchObject({ apiKey: '[redacted]' });
    expect(json()[0]?.['loop']).toMatchObject({ message: 'loop', cause: '[circular]' });
  });

  it('writes an Error in text format as JSON, on the same line', () => {
    const { log, lines } = capture();
    log.error('failed', { error: thrown() });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    expect(lines[0]).toContain(
      'error={"name":"Error","message":"config unreadable","stack":"Error: config unreadable\\n',
    );
    expect(lines[0]).toContain('"cause":{"name":"SyntaxError"');
  });
});

describe('silentLogger', () => {
  it('writes nothing, at any level, and its children neither', () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      emitAll(silentLogger);
      emitAll(silentLogger.child({ callId: 'c-1' }));
      expect(write).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
    }
  });
});

describe('default writer', () => {
  // A child process: the line must reach stderr though the process exits right after logging it.
  function run(format: 'json' | 'text'): { stderr: string; stdout: string; status: number | null } {
    const code = `
      const { createLogger } = require('./src/logger');
      const log = createLogger({ format: '${format}' });
      for (let i = 0; i < 500; i++) log.warn('before exit', { i, pad: 'x'.repeat(200) });
      process.exit(3);`;
    return spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', code], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    });
  }

  it('writes every line to stderr before the process exits (json)', () => {
    const { stderr, stdout, status } = run('json');
    expect(status).toBe(3);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(500);
    expect(JSON.parse(lines[499] ?? '')).toMatchObject({ level: 'warn', msg: 'before exit', i: 499 });
  });

  it('writes every line to stderr before the process exits (text)', () => {
    const { stderr, status } = run('text');
    expect(status).toBe(3);
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(500);
    expect(lines[499]).toMatch(/^\S+Z WARN {2}before exit i=499 pad=x+$/);
  });
});

describe('fields cannot disguise a line', () => {
  it('keeps the real msg, level and time in json, and redacts nested secrets', () => {
    const { log, json } = capture({ format: 'json' });
    log.info('real message', { msg: 'fake', level: 'debug', config: { apiKey: 'sk-nested', region: 'eu' } });
    const [line] = json();
    expect(line).toMatchObject({
      msg: 'real message',
      level: 'info',
      config: { apiKey: '[redacted]', region: 'eu' },
    });
    expect(JSON.stringify(line)).not.toContain('sk-nested');
  });
});
