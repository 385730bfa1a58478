import {
  VoipbinAbortError,
  VoipbinApiError,
  VoipbinNetworkError,
  VoipbinResponseError,
  isRetryable,
  isRetryableStatus,
  parseRetryAfter,
  redactSecret,
  stripQuery,
} from '../../src/voipbin/errors';

const KEY = 'sekret-accesskey-1234';

describe('isRetryableStatus', () => {
  it.each([408, 429, 500, 502, 503, 504])('%i is retryable', (status) => {
    expect(isRetryableStatus(status)).toBe(true);
  });
  it.each([400, 401, 402, 403, 404, 409, 422])('%i is permanent', (status) => {
    expect(isRetryableStatus(status)).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-15T09:30:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
  });

  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter('Thu, 15 Jan 2026 09:30:10 GMT', now)).toBe(10_000);
  });

  it('clamps a date in the past to 0', () => {
    expect(parseRetryAfter('Thu, 15 Jan 2026 09:29:00 GMT', now)).toBe(0);
  });

  it('ignores absent or unparsable values', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-3', now)).toBeUndefined();
  });
});

describe('stripQuery and redactSecret', () => {
  it('drops the query string and fragment', () => {
    expect(stripQuery(`/calls/abc?accesskey=${KEY}&x=1`)).toBe('/calls/abc');
    expect(stripQuery('/calls/abc#frag')).toBe('/calls/abc');
    expect(stripQuery('/calls/abc')).toBe('/calls/abc');
  });

  it('removes the key and any accesskey parameter from free text', () => {
    const text = `GET http://h/v1.0/calls?page_size=1&accesskey=${KEY}&x=2 failed; key ${KEY}`;
    const out = redactSecret(text, KEY);
    expect(out).not.toContain(KEY);
    expect(out).toBe('GET http://h/v1.0/calls?page_size=1&accesskey=***&x=2 failed; key ***');
    expect(redactSecret('ACCESSKEY=abc', undefined)).toBe('accesskey=***');
  });
});

describe('VoipbinApiError', () => {
  const base = { method: 'POST', path: `/speakings/s1/say?accesskey=${KEY}`, route: '/speakings/{id}/say' };

  it('formats the message from the route, status and envelope codes, without the query', () => {
    const err = new VoipbinApiError({
      ...base,
      httpStatus: 404,
      status: 'NOT_FOUND',
      reason: 'RESOURCE_NOT_FOUND',
      serverMessage: 'The requested resource was not found.',
      requestId: 'req_1',
    });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('VoipbinApiError');
    expect(err.message).toBe('VoIPBIN POST /speakings/{id}/say answered 404 NOT_FOUND/RESOURCE_NOT_FOUND');
    expect(err.path).toBe('/speakings/s1/say');
    expect(err.route).toBe('/speakings/{id}/say');
    expect(err.serverMessage).toBe('The requested resource was not found.');
    expect(err.requestId).toBe('req_1');
    expect(err.retryable).toBe(false);
    expect(`${err.message} ${err.stack} ${JSON.stringify(err)}`).not.toContain(KEY);
    expect(String(err)).toMatch(/^VoipbinApiError: /);
  });

  it('uses the path as the route when none is given, and omits an empty reason', () => {
    const err = new VoipbinApiError({
      method: 'GET',
      path: '/customer?accesskey=k',
      httpStatus: 502,
      status: 'UNKNOWN',
      reason: '',
    });
    expect(err.message).toBe('VoIPBIN GET /customer answered 502 UNKNOWN');
    expect(err.path).toBe('/customer');
    expect(err.retryable).toBe(true);
  });

  it('derives retryability from the HTTP status and keeps retryAfterMs', () => {
    const limited = new VoipbinApiError({
      ...base,
      httpStatus: 429,
      status: 'RESOURCE_EXHAUSTED',
      reason: 'RATE_LIMIT_EXCEEDED',
      retryAfterMs: 2000,
    });
    expect(limited.retryable).toBe(true);
    expect(limited.retryAfterMs).toBe(2000);
    expect(isRetryable(limited)).toBe(true);
    const conflict = new VoipbinApiError({
      ...base,
      httpStatus: 409,
      status: 'ALREADY_EXISTS',
      reason: 'TRANSCRIBE_ALREADY_PROGRESSING',
    });
    expect(isRetryable(conflict)).toBe(false);
  });
});

describe('VoipbinNetworkError', () => {
  it('is always retryable and names the transport code', () => {
    const err = new VoipbinNetworkError({
      method: 'GET',
      path: `/calls/c1?accesskey=${KEY}`,
      route: '/calls/{id}',
      code: 'ECONNREFUSED',
      detail: 'connect ECONNREFUSED 127.0.0.1:9',
    });
    expect(err.name).toBe('VoipbinNetworkError');
    expect(err.retryable).toBe(true);
    expect(isRetryable(err)).toBe(true);
    expect(err.path).toBe('/calls/c1');
    expect(err.message).toBe(
      'VoIPBIN GET /calls/{id} failed (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:9',
    );
  });

  it('says "timed out" for TIMEOUT', () => {
    const err = new VoipbinNetworkError({ method: 'POST', path: '/speakings', code: 'TIMEOUT' });
    expect(err.message).toBe('VoIPBIN POST /speakings timed out');
  });
});

describe('VoipbinResponseError', () => {
  it('is permanent and lists issue paths', () => {
    const err = new VoipbinResponseError({
      method: 'GET',
      path: '/speakings/s1?accesskey=x',
      route: '/speakings/{id}',
      httpStatus: 200,
      issues: ['status (invalid_value)', 'tm_create (invalid_type)'],
    });
    expect(err.name).toBe('VoipbinResponseError');
    expect(err.retryable).toBe(false);
    expect(isRetryable(err)).toBe(false);
    expect(err.path).toBe('/speakings/s1');
    expect(err.message).toBe(
      'VoIPBIN GET /speakings/{id} answered 200 with an unexpected body: status (invalid_value); tm_create (invalid_type)',
    );
  });
});

describe('isRetryable', () => {
  it('is false for aborts, plain errors and non-errors', () => {
    const abort = new VoipbinAbortError('GET', '/calls/{id}?accesskey=x', 'cancelled');
    expect(abort.name).toBe('AbortError');
    expect(abort.message).not.toContain('accesskey');
    expect(abort.cause).toBe('cancelled');
    expect(isRetryable(abort)).toBe(false);
    expect(isRetryable(new Error('boom'))).toBe(false);
    expect(isRetryable('boom')).toBe(false);
    expect(isRetryable(undefined)).toBe(false);
    expect(isRetryable({ retryable: true })).toBe(false);
  });
});
