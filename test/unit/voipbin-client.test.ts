import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { VoipbinClient } from '../../src/voipbin/client';
import {
  VoipbinApiError,
  VoipbinNetworkError,
  VoipbinResponseError,
  isRetryable,
} from '../../src/voipbin/errors';

const KEY = 'sekret-accesskey-9f8e7d';
const CUSTOMER = '7c4d2f3a-1b8e-4f5c-9a6d-3e2f1a0b4c5d';
const CALL = 'a1b2c3d4-e5f6-7890-abcd-ef1234567890';
const SPEAKING = '550e8400-e29b-41d4-a716-446655440000';
const TRANSCRIBE = '8c5a9e2a-2a7f-4a6f-9f1d-debd72c279ce';
const NIL = '00000000-0000-0000-0000-000000000000';

const speaking = {
  id: SPEAKING,
  customer_id: CUSTOMER,
  reference_type: 'call',
  reference_id: CALL,
  language: 'en-US',
  provider: 'elevenlabs',
  status: 'active',
  tm_create: '2026-01-15T09:30:00.123456Z',
};
const transcribe = {
  id: TRANSCRIBE,
  customer_id: CUSTOMER,
  activeflow_id: NIL,
  on_end_flow_id: NIL,
  reference_type: 'call',
  reference_id: CALL,
  status: 'progressing',
  language: 'en-US',
  direction: 'both',
  provider: '',
  tm_create: '2026-01-15T09:30:00.123456Z',
  tm_update: null,
  tm_delete: null,
};
const transcript = {
  id: '9d59e7f0-7bdc-4c52-bb8c-bab718952050',
  customer_id: CUSTOMER,
  transcribe_id: TRANSCRIBE,
  direction: 'in',
  message: 'Hi, I need help with my account balance.',
  tm_transcript: '0001-01-01T00:00:08.99184Z',
  tm_create: '2026-01-15T09:30:15.233415Z',
};
const call = {
  id: CALL,
  customer_id: CUSTOMER,
  owner_type: '',
  owner_id: NIL,
  flow_id: '4553c074-c88d-49e5-9d47-5c01598ac099',
  activeflow_id: '6f18ae1c-ddf8-413b-9572-ad30574604ef',
  type: 'flow',
  master_call_id: NIL,
  recording_id: NIL,
  groupcall_id: NIL,
  source: { type: 'tel', target: '+15551234567', target_name: '', name: '', detail: '' },
  destination: { type: 'tel', target: '+15559876543', target_name: '', name: '', detail: '' },
  status: 'terminating',
  action: { id: NIL, next_id: NIL, type: 'talk', option: { text: 'Hello', language: 'en-US' } },
  direction: 'outgoing',
  tm_ringing: '2026-01-15T09:30:03.3Z',
  tm_progressing: '2026-01-15T09:30:05.02Z',
  tm_create: '2026-01-15T09:30:00.414798Z',
  tm_update: '2026-01-15T09:30:05.13019Z',
};
const customer = {
  id: CUSTOMER,
  name: 'Acme',
  webhook_method: 'POST',
  webhook_uri: 'https://example.com/hook',
  webhook_secret: 'abcdefghijklmnopqrstuvwxyz012345',
  tm_create: '2026-01-15T09:30:00Z',
};
const envelope = (status: string, reason: string, message = 'Something happened.') => ({
  error: { status, reason, message, request_id: 'req_ABCDEF0123456789ABCDEF0123' },
});

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}
type Handler = (req: Seen, res: ServerResponse) => void;

let server: Server;
let baseUrl: string;
let handler: Handler;
let seen: Seen[];

function reply(status: number, body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

function client(extra: Partial<ConstructorParameters<typeof VoipbinClient>[0]> = {}): VoipbinClient {
  return new VoipbinClient({ baseUrl, apiKey: KEY, ...extra });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    expectNoKey(err as Error);
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

function expectNoKey(err: Error): void {
  const everything = [err.message, String(err.stack), JSON.stringify(err), inspect(err, { depth: 5 })].join(
    '\n',
  );
  expect(everything).not.toContain(KEY);
  expect(everything).not.toMatch(/accesskey=(?!\*\*\*)/i);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const s: Seen = {
        method: req.method ?? '',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(parts).toString('utf8'),
      };
      seen.push(s);
      handler(s, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
  handler = reply(500, { error: 'no handler set' });
});

function only(): Seen {
  expect(seen).toHaveLength(1);
  return seen[0] as Seen;
}

describe('VoipbinClient requests', () => {
  it('creates a speaking: POST /speakings with a JSON body and the accesskey', async () => {
    handler = reply(201, { ...speaking, brand_new_server_field: { x: 1 } });
    const s = await client().createSpeaking({
      reference_type: 'call',
      reference_id: CALL,
      language: 'en-US',
      direction: 'out',
    });
    expect(s.id).toBe(SPEAKING);
    expect(s.status).toBe('active');
    expect(s.voice_id).toBeUndefined();
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1.0/speakings');
    expect(req.query.get('accesskey')).toBe(KEY);
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.body)).toEqual({
      reference_type: 'call',
      reference_id: CALL,
      language: 'en-US',
      direction: 'out',
    });
  });

  it('accepts an initiating speaking from a 200', async () => {
    handler = reply(200, { ...speaking, status: 'initiating' });
    await expect(
      client().createSpeaking({ reference_type: 'call', reference_id: CALL }),
    ).resolves.toMatchObject({
      status: 'initiating',
    });
  });

  it('says text: POST /speakings/{id}/say with {text} and an encoded id', async () => {
    handler = reply(200, speaking);
    await client().say('a/b c', 'Hello there.');
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1.0/speakings/a%2Fb%20c/say');
    expect(JSON.parse(req.body)).toEqual({ text: 'Hello there.' });
    expect(req.query.get('accesskey')).toBe(KEY);
  });

  it.each([
    ['flush', (c: VoipbinClient) => c.flush(SPEAKING), 'POST', `/v1.0/speakings/${SPEAKING}/flush`, speaking],
    [
      'stopSpeaking',
      (c: VoipbinClient) => c.stopSpeaking(SPEAKING),
      'POST',
      `/v1.0/speakings/${SPEAKING}/stop`,
      speaking,
    ],
    [
      'getSpeaking',
      (c: VoipbinClient) => c.getSpeaking(SPEAKING),
      'GET',
      `/v1.0/speakings/${SPEAKING}`,
      speaking,
    ],
    [
      'stopTranscribe',
      (c: VoipbinClient) => c.stopTranscribe(TRANSCRIBE),
      'POST',
      `/v1.0/transcribes/${TRANSCRIBE}/stop`,
      { ...transcribe, status: 'done' },
    ],
    [
      'getTranscribe',
      (c: VoipbinClient) => c.getTranscribe(TRANSCRIBE),
      'GET',
      `/v1.0/transcribes/${TRANSCRIBE}`,
      transcribe,
    ],
    ['getCall', (c: VoipbinClient) => c.getCall(CALL), 'GET', `/v1.0/calls/${CALL}`, call],
    ['hangupCall', (c: VoipbinClient) => c.hangupCall(CALL), 'POST', `/v1.0/calls/${CALL}/hangup`, call],
    ['getCustomer', (c: VoipbinClient) => c.getCustomer(), 'GET', '/v1.0/customer', customer],
  ])('%s sends %s without a body', async (_name, run, method, path, body) => {
    handler = reply(200, body);
    const result = await run(client());
    expect(result).toEqual(body);
    const req = only();
    expect(req.method).toBe(method);
    expect(req.path).toBe(path);
    expect(req.body).toBe('');
    expect(req.headers['content-type']).toBeUndefined();
    expect(req.query.get('accesskey')).toBe(KEY);
  });

  it('exposes the customer webhook_secret', async () => {
    handler = reply(200, customer);
    const c = await client().getCustomer();
    expect(c.webhook_secret).toBe('abcdefghijklmnopqrstuvwxyz012345');
  });

  it('lists speakings with paging params and defaults a missing next_page_token', async () => {
    handler = reply(200, { result: [speaking] });
    const page = await client().listSpeakings({ pageSize: 10, pageToken: '2026-01-15T09:30:00.000000Z' });
    expect(page).toEqual({ result: [speaking], next_page_token: '' });
    const req = only();
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/v1.0/speakings');
    expect(req.query.get('page_size')).toBe('10');
    expect(req.query.get('page_token')).toBe('2026-01-15T09:30:00.000000Z');
    expect(req.query.get('accesskey')).toBe(KEY);
  });

  it('lists speakings with no params: only the accesskey is sent', async () => {
    handler = reply(200, { result: [], next_page_token: '' });
    await client().listSpeakings();
    expect([...only().query.keys()]).toEqual(['accesskey']);
  });

  it('creates a transcribe from a 200', async () => {
    handler = reply(200, transcribe);
    const t = await client().createTranscribe({
      reference_type: 'call',
      reference_id: CALL,
      language: 'en-US',
      direction: 'in',
    });
    expect(t.status).toBe('progressing');
    expect(t.tm_update).toBeNull();
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1.0/transcribes');
    expect(JSON.parse(req.body)).toEqual({
      reference_type: 'call',
      reference_id: CALL,
      language: 'en-US',
      direction: 'in',
    });
  });

  it('lists transcribes by reference', async () => {
    handler = reply(200, { result: [transcribe], next_page_token: 'tok' });
    const page = await client().listTranscribes({ referenceType: 'call', referenceId: CALL, pageSize: 5 });
    expect(page.next_page_token).toBe('tok');
    expect(page.result[0]?.id).toBe(TRANSCRIBE);
    const q = only().query;
    expect(q.get('reference_type')).toBe('call');
    expect(q.get('reference_id')).toBe(CALL);
    expect(q.get('page_size')).toBe('5');
    expect(q.get('page_token')).toBeNull();
  });

  it('lists transcripts by transcribe id', async () => {
    handler = reply(200, { result: [transcript], next_page_token: '' });
    const page = await client().listTranscripts({ transcribeId: TRANSCRIBE, pageToken: 'p' });
    expect(page.result[0]?.message).toBe(transcript.message);
    const req = only();
    expect(req.path).toBe('/v1.0/transcripts');
    expect(req.query.get('transcribe_id')).toBe(TRANSCRIBE);
    expect(req.query.get('page_token')).toBe('p');
    expect(req.query.get('accesskey')).toBe(KEY);
  });

  it('creates a call and returns {calls, groupcalls}', async () => {
    handler = reply(200, { calls: [{ ...call, status: 'dialing' }], groupcalls: [] });
    const res = await client().createCall({
      source: { type: 'tel', target: '+15551234567' },
      destinations: [{ type: 'tel', target: '+15559876543' }],
      actions: [{ type: 'talk', option: { text: 'Hello', language: 'en-US' } }],
      variables: { campaign_id: 'summer-2026' },
    });
    expect(res.calls[0]?.status).toBe('dialing');
    expect(res.groupcalls).toEqual([]);
    const req = only();
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/v1.0/calls');
    expect(JSON.parse(req.body)).toMatchObject({ destinations: [{ type: 'tel', target: '+15559876543' }] });
  });

  it('handles a base URL with a trailing slash', async () => {
    handler = reply(200, call);
    await client({ baseUrl: `${baseUrl}/` }).getCall(CALL);
    expect(only().path).toBe(`/v1.0/calls/${CALL}`);
  });

  it('uses an injected fetch', async () => {
    const calls: string[] = [];
    const fake: typeof fetch = async (input) => {
      calls.push(urlOf(input));
      return new Response(JSON.stringify(call), { status: 200 });
    };
    await client({ fetch: fake }).getCall(CALL);
    expect(calls).toEqual([`${baseUrl}/calls/${CALL}?accesskey=${KEY}`]);
    expect(seen).toHaveLength(0);
  });
});

describe('VoipbinClient failures', () => {
  it('maps a 2xx body that fails the schema to VoipbinResponseError, naming paths not values', async () => {
    handler = reply(200, { ...speaking, status: 'weird-status-value', customer_id: 42 });
    const err = await failure(client().getSpeaking(SPEAKING));
    expect(err).toBeInstanceOf(VoipbinResponseError);
    const e = err as VoipbinResponseError;
    expect(e.name).toBe('VoipbinResponseError');
    expect(e.retryable).toBe(false);
    expect(isRetryable(e)).toBe(false);
    expect(e.httpStatus).toBe(200);
    expect(e.path).toBe(`/speakings/${SPEAKING}`);
    expect(e.message).toContain('GET /speakings/{id}');
    expect(e.message).toContain('status');
    expect(e.message).toContain('customer_id');
    expect(e.message).not.toContain('weird-status-value');
    expect(e.message).not.toContain('42');
  });

  it('maps a 2xx body that is not JSON to VoipbinResponseError', async () => {
    handler = reply(200, '<html>oops</html>');
    const err = await failure(client().getCall(CALL));
    expect(err).toBeInstanceOf(VoipbinResponseError);
  });

  it('maps a 404 error envelope to a permanent VoipbinApiError', async () => {
    handler = reply(404, envelope('NOT_FOUND', 'RESOURCE_NOT_FOUND'), { 'X-Request-Id': 'req_header' });
    const err = await failure(client().say(SPEAKING, 'Hi.'));
    expect(err).toBeInstanceOf(VoipbinApiError);
    const e = err as VoipbinApiError;
    expect(e.name).toBe('VoipbinApiError');
    expect(e.httpStatus).toBe(404);
    expect(e.status).toBe('NOT_FOUND');
    expect(e.reason).toBe('RESOURCE_NOT_FOUND');
    expect(e.requestId).toBe('req_ABCDEF0123456789ABCDEF0123');
    expect(e.retryable).toBe(false);
    expect(e.method).toBe('POST');
    expect(e.path).toBe(`/speakings/${SPEAKING}/say`);
    expect(e.message).toBe('VoIPBIN POST /speakings/{id}/say answered 404 NOT_FOUND/RESOURCE_NOT_FOUND');
  });

  it.each([
    [408, 'INTERNAL', 'REQUEST_TIMEOUT'],
    [429, 'RESOURCE_EXHAUSTED', 'RATE_LIMIT_EXCEEDED'],
    [500, 'INTERNAL', 'INTERNAL'],
    [503, 'UNAVAILABLE', 'SERVICE_UNAVAILABLE'],
  ])('treats %i as retryable', async (status, envStatus, reason) => {
    handler = reply(status, envelope(envStatus, reason));
    const err = await failure(client().getCall(CALL));
    expect(err).toBeInstanceOf(VoipbinApiError);
    expect((err as VoipbinApiError).retryable).toBe(true);
    expect(isRetryable(err)).toBe(true);
    expect((err as VoipbinApiError).reason).toBe(reason);
  });

  it.each([400, 401, 402, 403, 409])('treats %i as permanent', async (status) => {
    handler = reply(status, envelope('INVALID_ARGUMENT', 'INVALID_ARGUMENT'));
    const err = await failure(client().createSpeaking({ reference_type: 'call', reference_id: CALL }));
    expect(isRetryable(err)).toBe(false);
  });

  it('honours Retry-After seconds on a 429', async () => {
    handler = reply(429, envelope('RESOURCE_EXHAUSTED', 'RATE_LIMIT_EXCEEDED'), { 'Retry-After': '2' });
    const err = (await failure(client().getCall(CALL))) as VoipbinApiError;
    expect(err.retryAfterMs).toBe(2000);
    expect(err.retryable).toBe(true);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const at = new Date(Date.now() + 30_000).toUTCString();
    handler = reply(503, envelope('UNAVAILABLE', 'SERVICE_UNAVAILABLE'), { 'Retry-After': at });
    const err = (await failure(client().getCall(CALL))) as VoipbinApiError;
    expect(err.retryAfterMs).toBeGreaterThan(25_000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('maps a non-envelope error body to status UNKNOWN and keeps the header request id', async () => {
    handler = (_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html', 'X-Request-Id': 'req_from_header' });
      res.end('<html>Bad gateway</html>');
    };
    const err = (await failure(client().getCall(CALL))) as VoipbinApiError;
    expect(err).toBeInstanceOf(VoipbinApiError);
    expect(err.status).toBe('UNKNOWN');
    expect(err.reason).toBe('');
    expect(err.requestId).toBe('req_from_header');
    expect(err.retryable).toBe(true);
    expect(err.message).toBe('VoIPBIN GET /calls/{id} answered 502 UNKNOWN');
  });

  it('maps connection refused to a retryable VoipbinNetworkError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure(client({ baseUrl: `http://127.0.0.1:${port}/v1.0` }).getCall(CALL));
    expect(err).toBeInstanceOf(VoipbinNetworkError);
    const e = err as VoipbinNetworkError;
    expect(e.name).toBe('VoipbinNetworkError');
    expect(e.code).toBe('ECONNREFUSED');
    expect(e.retryable).toBe(true);
    expect(isRetryable(e)).toBe(true);
    expect(e.path).toBe(`/calls/${CALL}`);
  });

  it('maps a reset connection to a retryable VoipbinNetworkError', async () => {
    handler = (_req, res) => res.socket?.destroy();
    const err = await failure(client().getCall(CALL));
    expect(err).toBeInstanceOf(VoipbinNetworkError);
    expect(isRetryable(err)).toBe(true);
  });

  it('maps its own timeout to a retryable VoipbinNetworkError with code TIMEOUT', async () => {
    handler = () => undefined; // never answers
    const started = Date.now();
    const err = await failure(client({ timeoutMs: 150 }).getCall(CALL));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(err).toBeInstanceOf(VoipbinNetworkError);
    expect((err as VoipbinNetworkError).code).toBe('TIMEOUT');
    expect(err.message).toBe('VoIPBIN GET /calls/{id} timed out');
    expect(isRetryable(err)).toBe(true);
  });

  it('surfaces a caller abort as AbortError, not a network error', async () => {
    const controller = new AbortController();
    handler = () => controller.abort(); // aborts once the request is in flight, never answers
    const err = await failure(client().say(SPEAKING, 'Hi.', { signal: controller.signal }));
    expect(err.name).toBe('AbortError');
    expect(seen).toHaveLength(1);
    expect(err).not.toBeInstanceOf(VoipbinNetworkError);
    expect(isRetryable(err)).toBe(false);
  });

  it('surfaces an already-aborted signal as AbortError without sending', async () => {
    handler = reply(200, call);
    const err = await failure(client().getCall(CALL, { signal: AbortSignal.abort() }));
    expect(err.name).toBe('AbortError');
    expect(seen).toHaveLength(0);
  });

  it('never puts the accesskey in an error, even when the transport error text holds the URL', async () => {
    const leaky: typeof fetch = async (input) => {
      throw new TypeError('fetch failed', { cause: new Error(`could not reach ${urlOf(input)}`) });
    };
    const err = await failure(client({ fetch: leaky }).getCall(CALL));
    expect(err).toBeInstanceOf(VoipbinNetworkError);
    expect(err.message).toContain('accesskey=***');
  });

  it('rejects an unparsable base URL at construction', () => {
    expect(() => new VoipbinClient({ baseUrl: 'not a url', apiKey: KEY })).toThrow();
  });
});

function urlOf(input: Parameters<typeof fetch>[0]): string {
  if (typeof input === 'string') return input;
  return input instanceof URL ? input.href : input.url;
}
