import { createLogger, silentLogger, type LoggerOptions, type LogLevel } from '../../src/logger';

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

  it('redacts even when the value is not a string', () => {
    const { log, json } = capture({ format: 'json' });
    log.info('x', { token: { value: 'nested' }, apiKey: 12345 });
    expect(json()[0]).toMatchObject({ token: '[redacted]', apiKey: '[redacted]' });
  });
});

describe('errors', () => {
  it('writes an Error field as {name, message}, without its stack', () => {
    const { log, lines, json } = capture({ format: 'json' });
    const err = new TypeError('bad thing');
    log.error('failed', { error: err });
    expect(json()[0]?.['error']).toEqual({ name: 'TypeError', message: 'bad thing' });
    expect(lines[0]).not.toContain('at ');
  });

  it('keeps the name of a custom error', () => {
    class TemporalUnavailableError extends Error {
      override name = 'TemporalUnavailableError';
    }
    const { log, json } = capture({ format: 'json' });
    log.warn('x', { err: new TemporalUnavailableError('down') });
    expect(json()[0]?.['err']).toEqual({ name: 'TemporalUnavailableError', message: 'down' });
  });

  it('writes an Error in text format as JSON', () => {
    const { log, lines } = capture();
    log.error('failed', { error: new Error('boom') });
    expect(lines[0]).toContain('error={"name":"Error","message":"boom"}');
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
  it('writes lines to stderr', () => {
    const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      createLogger({ format: 'json' }).warn('to stderr', { callId: 'c-1' });
      expect(write).toHaveBeenCalledTimes(1);
      const line = String(write.mock.calls[0]?.[0]);
      expect(line.endsWith('\n')).toBe(true);
      expect(JSON.parse(line)).toMatchObject({ level: 'warn', msg: 'to stderr', callId: 'c-1' });
    } finally {
      write.mockRestore();
    }
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
