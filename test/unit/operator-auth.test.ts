// Who may read the operator routes: the ADMIN_TOKEN bearer, a call's view token for that call's
// data, and, with no token set, loopback clients only (by the socket's address, whatever the headers say).
import type { Request, Response } from 'express';
import { isLoopback, operatorAuth, sameSecret } from '../../src/ingress/operator-auth';
import { mintViewToken, verifyViewToken } from '../../src/ingress/view-token';
import { silentLogger } from '../../src/logger';

const TOKEN = 'op-7c1d2e9f4a8b3c6d5e0f';
const CALL = 'call-6f1c9b0e-3d2a-4c5b-9e8f-7a6b5c4d3e2f';
const OTHER_CALL = 'call-0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d';

interface Answer {
  passed: boolean;
  status?: number;
  body?: unknown;
  headers: Record<string, string>;
}

/** The guard on one request from `remoteAddress` with `headers`, as Express hands it over. */
function ask(
  guard: ReturnType<typeof operatorAuth>,
  remoteAddress: string | undefined,
  headers: Record<string, string> = {},
): Answer {
  const answer: Answer = { passed: false, headers: {} };
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const req = {
    socket: { remoteAddress },
    path: '/calls',
    get: (name: string) => lower[name.toLowerCase()],
    header: (name: string) => lower[name.toLowerCase()],
  } as unknown as Request;
  const res = {
    status(code: number) {
      answer.status = code;
      return this;
    },
    json(body: unknown) {
      answer.body = body;
      return this;
    },
    set(name: string, value: string) {
      answer.headers[name.toLowerCase()] = value;
      return this;
    },
  } as unknown as Response;
  void guard(req, res, () => {
    answer.passed = true;
  });
  return answer;
}

describe('isLoopback', () => {
  it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.1'])('%s is', (a) => {
    expect(isLoopback(a)).toBe(true);
  });

  it.each([
    '10.0.0.5',
    '192.168.1.20',
    '::ffff:10.0.0.5',
    '0.0.0.0',
    '::',
    'fe80::1',
    '128.0.0.1',
    '1127.0.0.1',
    '127.0.0.1.example.com',
    '',
    undefined,
  ])('%s is not', (a) => {
    expect(isLoopback(a)).toBe(false);
  });
});

describe('sameSecret', () => {
  it('is true only for the same text, whatever the lengths', () => {
    expect(sameSecret(TOKEN, TOKEN)).toBe(true);
    expect(sameSecret(`${TOKEN}x`, TOKEN)).toBe(false);
    expect(sameSecret(TOKEN.slice(0, -1), TOKEN)).toBe(false);
    expect(sameSecret('', TOKEN)).toBe(false);
  });
});

describe('with no ADMIN_TOKEN', () => {
  const guard = operatorAuth({ log: silentLogger });

  it.each(['127.0.0.1', '::1', '::ffff:127.0.0.1'])('answers a loopback client (%s)', (address) => {
    expect(ask(guard, address).passed).toBe(true);
  });

  it('refuses any other client with 403, saying to set ADMIN_TOKEN', () => {
    for (const address of ['10.0.0.5', '::ffff:192.168.1.20', '2001:db8::7', undefined]) {
      const answer = ask(guard, address);
      expect(answer).toMatchObject({ passed: false, status: 403 });
      expect((answer.body as { error: string }).error).toContain('set ADMIN_TOKEN');
    }
  });

  it('goes by the socket, not by X-Forwarded-For or X-Real-IP', () => {
    const answer = ask(guard, '203.0.113.5', {
      'X-Forwarded-For': '127.0.0.1',
      'X-Real-IP': '127.0.0.1',
      Forwarded: 'for=127.0.0.1',
    });
    expect(answer).toMatchObject({ passed: false, status: 403 });
  });

  it('takes no bearer token in place of a loopback address', () => {
    expect(ask(guard, '10.0.0.5', { Authorization: `Bearer ${TOKEN}` })).toMatchObject({ status: 403 });
  });
});

describe('with ADMIN_TOKEN', () => {
  const guard = operatorAuth({ adminToken: TOKEN, log: silentLogger });
  const withViews = operatorAuth({ adminToken: TOKEN, viewOf: () => CALL, log: silentLogger });

  it('answers the bearer of the token, from any address', () => {
    for (const address of ['10.0.0.5', '127.0.0.1']) {
      expect(ask(guard, address, { Authorization: `Bearer ${TOKEN}` }).passed).toBe(true);
    }
    expect(ask(guard, '10.0.0.5', { Authorization: `bearer  ${TOKEN}` }).passed).toBe(true);
  });

  it('refuses a request without it with 401 and WWW-Authenticate: Bearer, loopback clients too', () => {
    for (const address of ['10.0.0.5', '127.0.0.1']) {
      const answer = ask(guard, address);
      expect(answer).toMatchObject({ passed: false, status: 401 });
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="voipbin-agent"');
      expect((answer.body as { error: string }).error).toContain('Authorization: Bearer');
    }
  });

  it.each([
    ['a wrong token', `Bearer ${TOKEN.replace(/.$/, 'X')}`],
    ['the token with a character more', `Bearer ${TOKEN}0`],
    ['a prefix of it', `Bearer ${TOKEN.slice(0, 8)}`],
    ['another scheme', `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`],
    ['the bare token', TOKEN],
    ['an empty bearer', 'Bearer '],
  ])('refuses %s with 401', (_what, header) => {
    const answer = ask(guard, '127.0.0.1', { Authorization: header });
    expect(answer).toMatchObject({ passed: false, status: 401 });
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="voipbin-agent"/);
  });

  it("takes a call's view token only where the route allows one, for that call only", () => {
    const view = mintViewToken(TOKEN, CALL);
    expect(ask(withViews, '10.0.0.5', { Authorization: `Bearer ${view}` }).passed).toBe(true);
    expect(ask(guard, '10.0.0.5', { Authorization: `Bearer ${view}` })).toMatchObject({ status: 401 });
    const other = mintViewToken(TOKEN, OTHER_CALL);
    expect(ask(withViews, '10.0.0.5', { Authorization: `Bearer ${other}` })).toMatchObject({ status: 401 });
  });
});

describe('view tokens', () => {
  const now = Date.parse('2026-11-24T12:00:00Z');

  it('hold for an hour, for one call, under one ADMIN_TOKEN', () => {
    const view = mintViewToken(TOKEN, CALL, now);
    expect(view).toMatch(/^view\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyViewToken(TOKEN, CALL, view, now)).toBe(true);
    expect(verifyViewToken(TOKEN, CALL, view, now + 59 * 60_000)).toBe(true);
    expect(verifyViewToken(TOKEN, CALL, view, now + 60 * 60_000)).toBe(false);
    expect(verifyViewToken(TOKEN, OTHER_CALL, view, now)).toBe(false);
    expect(verifyViewToken(`${TOKEN}-rotated`, CALL, view, now)).toBe(false);
  });

  it('cannot be stretched: a later expiry breaks the signature', () => {
    const [prefix, expires, mac] = mintViewToken(TOKEN, CALL, now).split('.');
    const stretched = [prefix, String(Number(expires) + 86_400), mac].join('.');
    expect(verifyViewToken(TOKEN, CALL, stretched, now)).toBe(false);
  });

  it('refuses what is not one', () => {
    for (const token of ['', 'view', 'view..', `view.${now}.`, TOKEN, 'view.9999999999.abc']) {
      expect(verifyViewToken(TOKEN, CALL, token, now)).toBe(false);
    }
  });
});
