import { createHmac } from 'node:crypto';
import { type Simulator, startSimulator } from '../../src/sandbox/simulator';
import { type WebhookReceiver, startWebhookReceiver } from '../helpers/webhook-receiver';
import { waitFor } from '../helpers/wait-for';

const KEY = 'test-access-key';
const NIL = '00000000-0000-0000-0000-000000000000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const anyString: unknown = expect.any(String);
const matching = (re: RegExp): unknown => expect.stringMatching(re);

interface ApiResult {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function api(
  sim: Simulator,
  method: string,
  path: string,
  body?: unknown,
  opts: { key?: string | null; raw?: string; headers?: Record<string, string> } = {},
): Promise<ApiResult> {
  const key = opts.key === undefined ? KEY : opts.key;
  const sep = path.includes('?') ? '&' : '?';
  const url = `${sim.baseUrl}${path}${key === null ? '' : `${sep}accesskey=${encodeURIComponent(key)}`}`;
  const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const res = await fetch(url, {
    method,
    headers: { ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }), ...opts.headers },
    body: payload,
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

function errorOf(r: ApiResult): Record<string, unknown> {
  return r.body['error'] as Record<string, unknown>;
}

async function progressingCall(sim: Simulator): Promise<string> {
  const call = sim.startInboundCall({ from: '+15551230001', to: '+15559870001' });
  await waitFor(() => call.status() === 'progressing', 'progressing', 2000);
  return call.id;
}

describe('VoIPBIN simulator REST', () => {
  let sim: Simulator;

  beforeEach(async () => {
    sim = await startSimulator({ accessKey: KEY, webhookRetryDelayMs: 10, speechCharsPerSecond: 1000 });
  });
  afterEach(async () => {
    await sim.close();
  });

  it('answers 401 without or with a wrong accesskey, and accepts the cookie', async () => {
    const missing = await api(sim, 'GET', '/calls', undefined, { key: null });
    expect(missing.status).toBe(401);
    expect(errorOf(missing)).toEqual({
      status: 'UNAUTHENTICATED',
      reason: 'AUTHENTICATION_REQUIRED',
      message: anyString,
      request_id: missing.headers.get('x-request-id'),
    });
    expect(missing.headers.get('x-request-id')).toMatch(/^req_[0-9A-Z]{26}$/);

    const wrong = await api(sim, 'GET', '/calls', undefined, { key: 'nope' });
    expect(wrong.status).toBe(401);
    expect(errorOf(wrong)['reason']).toBe('INVALID_CREDENTIALS');

    const bearer = await api(sim, 'GET', '/calls', undefined, {
      headers: { Authorization: `Bearer ${KEY}` },
    });
    expect(errorOf(bearer)['reason']).toBe('INVALID_CREDENTIALS');

    const cookie = await api(sim, 'GET', '/calls', undefined, {
      key: null,
      headers: { Cookie: `accesskey=${KEY}` },
    });
    expect(cookie.status).toBe(200);
    expect(cookie.body).toEqual({ result: [], next_page_token: '' });

    const unknown = await api(sim, 'GET', '/nothing-here');
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown)['reason']).toBe('ROUTE_NOT_FOUND');

    expect(sim.requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', '/calls', 401],
      ['GET', '/calls', 401],
      ['GET', '/calls', 401],
      ['GET', '/calls', 200],
      ['GET', '/nothing-here', 404],
    ]);
    expect(sim.requests[1]?.query).toEqual({});
  });

  it('echoes a safe X-Request-Id and serves the customer with its webhook secret', async () => {
    sim.setWebhookUri('http://127.0.0.1:9/hooks');
    const r = await api(sim, 'GET', '/customer', undefined, { headers: { 'X-Request-Id': 'abc_123' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBe('abc_123');
    expect(r.body).toMatchObject({
      id: sim.customer.id,
      webhook_method: 'POST',
      webhook_uri: 'http://127.0.0.1:9/hooks',
      webhook_secret: sim.customer.webhookSecret,
    });
    expect(sim.customer.webhookSecret).toHaveLength(32);

    // PUT /customer replaces the editable fields: an omitted one becomes empty (and so absent).
    const put = await api(sim, 'PUT', '/customer', {
      webhook_method: 'POST',
      webhook_uri: 'http://127.0.0.1:8/x',
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ webhook_uri: 'http://127.0.0.1:8/x', webhook_method: 'POST' });
    expect(put.body).not.toHaveProperty('name');
    expect((await api(sim, 'GET', '/customer')).body['webhook_uri']).toBe('http://127.0.0.1:8/x');
  });

  it('creates a speaking session (201, active, omitempty) and refuses a second one with 500', async () => {
    const callId = await progressingCall(sim);
    const created = await api(sim, 'POST', '/speakings', { reference_type: 'call', reference_id: callId });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: matching(UUID),
      customer_id: sim.customer.id,
      reference_type: 'call',
      reference_id: callId,
      provider: 'elevenlabs',
      status: 'active',
      tm_create: matching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/),
      tm_update: anyString,
    });

    const dup = await api(sim, 'POST', '/speakings', { reference_type: 'call', reference_id: callId });
    expect(dup.status).toBe(500);
    expect(errorOf(dup)).toMatchObject({ status: 'INTERNAL', reason: 'INTERNAL' });

    const badType = await api(sim, 'POST', '/speakings', {
      reference_type: 'conference',
      reference_id: callId,
    });
    expect(errorOf(badType)).toMatchObject({ status: 'INVALID_ARGUMENT', reason: 'INVALID_ARGUMENT' });
    const badDir = await api(sim, 'POST', '/speakings', {
      reference_type: 'call',
      reference_id: callId,
      direction: 'sideways',
    });
    expect(badDir.status).toBe(400);
    const badRef = await api(sim, 'POST', '/speakings', { reference_type: 'call', reference_id: 'x' });
    expect(badRef.status).toBe(400);
    const unknown = await api(sim, 'POST', '/speakings', {
      reference_type: 'call',
      reference_id: '3f1e6a8e-0000-4000-8000-000000000001',
    });
    expect(unknown.status).toBe(404);
    expect(errorOf(unknown)['reason']).toBe('CALL_NOT_FOUND');
    const malformed = await api(sim, 'POST', '/speakings', undefined, { raw: '{"reference_type":' });
    expect(errorOf(malformed)['reason']).toBe('INVALID_JSON_BODY');
    const badId = await api(sim, 'GET', '/speakings/not-a-uuid');
    expect(errorOf(badId)['reason']).toBe('INVALID_ID');
  });

  it('validates /say, stops idempotently, and answers 404 to say and flush on a stopped session', async () => {
    const callId = await progressingCall(sim);
    const created = await api(sim, 'POST', '/speakings', {
      reference_type: 'call',
      reference_id: callId,
      direction: 'both',
      voice_id: 'v1',
    });
    const id = created.body['id'] as string;
    expect(created.body).toMatchObject({ direction: 'both', voice_id: 'v1' });

    const said = await api(sim, 'POST', `/speakings/${id}/say`, { text: 'Hello there.' });
    expect(said.status).toBe(200);
    expect(said.body['id']).toBe(id);
    expect((await api(sim, 'POST', `/speakings/${id}/say`, { text: '' })).status).toBe(400);
    expect((await api(sim, 'POST', `/speakings/${id}/say`, {})).status).toBe(400);
    const long = await api(sim, 'POST', `/speakings/${id}/say`, { text: 'a'.repeat(5001) });
    expect(errorOf(long)['message']).toMatch(/5000/);
    expect((await api(sim, 'POST', `/speakings/${id}/flush`)).status).toBe(200);

    const stopped = await api(sim, 'POST', `/speakings/${id}/stop`);
    expect(stopped.body['status']).toBe('stopped');
    const again = await api(sim, 'POST', `/speakings/${id}/stop`);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(stopped.body);

    const say404 = await api(sim, 'POST', `/speakings/${id}/say`, { text: 'anyone?' });
    expect(say404.status).toBe(404);
    expect(errorOf(say404)).toMatchObject({ status: 'NOT_FOUND', reason: 'RESOURCE_NOT_FOUND' });
    const flush404 = await api(sim, 'POST', `/speakings/${id}/flush`);
    expect(errorOf(flush404)['reason']).toBe('RESOURCE_NOT_FOUND');
    const unknownSay = await api(sim, 'POST', '/speakings/3f1e6a8e-0000-4000-8000-000000000001/say', {
      text: 'x',
    });
    expect(unknownSay.status).toBe(404);

    // A stopped session no longer blocks a new one on the same call.
    const second = await api(sim, 'POST', '/speakings', { reference_type: 'call', reference_id: callId });
    expect(second.status).toBe(201);
    const list = await api(sim, 'GET', '/speakings?page_size=1');
    expect(list.body['result']).toEqual([second.body]);
    const token = list.body['next_page_token'] as string;
    expect(token).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const next = await api(sim, 'GET', `/speakings?page_size=1&page_token=${encodeURIComponent(token)}`);
    expect((next.body['result'] as Array<{ id: string }>)[0]?.id).toBe(id);

    const deleted = await api(sim, 'DELETE', `/speakings/${second.body['id'] as string}`);
    expect(deleted.body).toMatchObject({ status: 'stopped', tm_delete: anyString });
    expect(sim.calls.get(callId)?.agentSaid()).toEqual(['Hello there.']);
  });

  it('starts a transcribe (200, progressing, nil uuids, null times) and refuses a duplicate with 409', async () => {
    const callId = await progressingCall(sim);
    const body = { reference_type: 'call', reference_id: callId, language: 'en-US', direction: 'both' };
    const created = await api(sim, 'POST', '/transcribes', body);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: matching(UUID),
      customer_id: sim.customer.id,
      activeflow_id: NIL,
      on_end_flow_id: NIL,
      reference_type: 'call',
      reference_id: callId,
      status: 'progressing',
      language: 'en-US',
      direction: 'both',
      provider: '',
      tm_create: anyString,
      tm_update: null,
      tm_delete: null,
    });
    const dup = await api(sim, 'POST', '/transcribes', body);
    expect(dup.status).toBe(409);
    expect(errorOf(dup)).toMatchObject({
      status: 'ALREADY_EXISTS',
      reason: 'TRANSCRIBE_ALREADY_PROGRESSING',
    });
    const other = await api(sim, 'POST', '/transcribes', { ...body, language: 'ko-KR', direction: 'weird' });
    expect(other.status).toBe(200);
    expect(other.body['direction']).toBe('both');

    expect((await api(sim, 'POST', '/transcribes', { ...body, reference_type: 'confbridge' })).status).toBe(
      400,
    );
    const unknown = await api(sim, 'POST', '/transcribes', {
      ...body,
      reference_id: '3f1e6a8e-0000-4000-8000-000000000001',
    });
    expect(errorOf(unknown)['reason']).toBe('CALL_NOT_FOUND');

    const filterErr = await api(sim, 'GET', '/transcribes?reference_type=call');
    expect(errorOf(filterErr)['reason']).toBe('INVALID_REFERENCE_FILTER');
    const filtered = await api(sim, 'GET', `/transcribes?reference_type=call&reference_id=${callId}`);
    expect((filtered.body['result'] as unknown[]).map((t) => (t as { id: string }).id)).toEqual([
      other.body['id'],
      created.body['id'],
    ]);

    const id = created.body['id'] as string;
    const stopped = await api(sim, 'POST', `/transcribes/${id}/stop`);
    expect(stopped.body).toMatchObject({ status: 'done', tm_update: anyString });
    expect((await api(sim, 'POST', `/transcribes/${id}/stop`)).body).toEqual(stopped.body);
    expect((await api(sim, 'GET', `/transcribes/${id}`)).body['status']).toBe('done');

    expect((await api(sim, 'GET', '/transcripts')).status).toBe(400);
    expect((await api(sim, 'GET', `/transcripts?transcribe_id=${id}`)).body).toEqual({
      result: [],
      next_page_token: '',
    });

    // A hung-up call is no valid reference: transcribe-manager's plain error, 500.
    await api(sim, 'POST', `/calls/${callId}/hangup`);
    await sim.calls.get(callId)?.ended;
    expect((await api(sim, 'POST', '/transcribes', body)).status).toBe(500);
  });

  it('dials out with POST /calls and hangs up: terminating at once, hangup later', async () => {
    expect((await api(sim, 'POST', '/calls', { destinations: [] })).status).toBe(400);
    const r = await api(sim, 'POST', '/calls', {
      source: { type: 'tel', target: '+15550000001' },
      destinations: [{ type: 'tel', target: '+15550000002' }],
      actions: [{ type: 'answer' }],
    });
    expect(r.status).toBe(200);
    const calls = r.body['calls'] as Array<Record<string, unknown>>;
    expect(r.body['groupcalls']).toEqual([]);
    expect(calls).toHaveLength(1);
    const call = calls[0] ?? {};
    expect(call).toMatchObject({ direction: 'outgoing', status: 'dialing', owner_id: NIL });
    expect(call).not.toHaveProperty('hangup_by');
    const id = call['id'] as string;
    const sc = sim.calls.get(id);
    expect(sc?.from).toBe('+15550000002');
    await waitFor(() => sc?.status() === 'progressing', 'progressing', 2000);

    const hung = await api(sim, 'POST', `/calls/${id}/hangup`);
    expect(hung.body['status']).toBe('terminating');
    expect((await api(sim, 'POST', `/calls/${id}/hangup`)).body['status']).toBe('terminating');
    await sc?.ended;
    const final = await api(sim, 'GET', `/calls/${id}`);
    expect(final.body).toMatchObject({ status: 'hangup', hangup_by: 'local', hangup_reason: 'normal' });
    expect(final.body['tm_hangup']).toEqual(anyString);
    await sim.webhooksIdle();
    expect(sim.webhooks.map((w) => w.type)).toEqual([
      'call_created',
      'call_ringing',
      'call_progressing',
      'call_terminating',
      'call_hangup',
    ]);
  });
});

describe('VoIPBIN simulator webhooks', () => {
  let receiver: WebhookReceiver;
  let sim: Simulator | undefined;

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
  });
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
    await receiver.close();
  });

  it('signs every body with HMAC-SHA256 of the customer secret', async () => {
    sim = await startSimulator({ accessKey: KEY, webhookUri: receiver.url, webhookRetryDelayMs: 10 });
    const call = sim.startInboundCall({ from: '+1555', to: '+1666' });
    await waitFor(() => receiver.received.length >= 3, 'three events', 2000);
    const secret = sim.customer.webhookSecret;
    for (const hook of receiver.received) {
      expect(hook.method).toBe('POST');
      expect(hook.headers['content-type']).toBe('application/json');
      const expected = `sha256=${createHmac('sha256', secret).update(hook.body).digest('hex')}`;
      expect(hook.headers['x-voipbin-signature']).toBe(expected);
    }
    expect(receiver.received.slice(0, 3).map((h) => h.type)).toEqual([
      'call_created',
      'call_ringing',
      'call_progressing',
    ]);
    expect(receiver.received[2]?.data).toMatchObject({
      id: call.id,
      status: 'progressing',
      direction: 'incoming',
    });
    await sim.webhooksIdle();
    expect(sim.webhooks.map((w) => [w.type, w.attempts, w.finalStatus])).toEqual([
      ['call_created', 1, 200],
      ['call_ringing', 1, 200],
      ['call_progressing', 1, 200],
    ]);
    expect(sim.webhooks.map((w) => w.body)).toEqual(receiver.received.map((h) => h.body));
  });

  it('retries 3 times on 500 then gives up, and does not retry on 400', async () => {
    sim = await startSimulator({ accessKey: KEY, webhookUri: receiver.url, webhookRetryDelayMs: 20 });
    receiver.respond = (hook) => (hook.type === 'call_created' ? 500 : 400);
    sim.startInboundCall({ from: '+1555', to: '+1666' });
    await waitFor(() => sim?.webhooks.length === 3, 'three deliveries', 3000);
    expect(sim.webhooks.map((w) => [w.type, w.attempts, w.finalStatus])).toEqual([
      ['call_created', 3, 500],
      ['call_ringing', 1, 400],
      ['call_progressing', 1, 400],
    ]);
    expect(receiver.received.map((h) => h.type)).toEqual([
      'call_created',
      'call_created',
      'call_created',
      'call_ringing',
      'call_progressing',
    ]);
  });

  it('retries a transport error, sends unsigned without a secret, and records undelivered events', async () => {
    sim = await startSimulator({ accessKey: KEY, webhookSecret: '', webhookRetryDelayMs: 5 });
    const first = sim.startInboundCall({ from: '+1555', to: '+1666' });
    await waitFor(() => sim?.webhooks.length === 3, 'undelivered events', 2000);
    expect(sim.webhooks.every((w) => w.attempts === 0 && w.finalStatus === 'error')).toBe(true);

    sim.setWebhookUri('http://127.0.0.1:1/unreachable');
    first.hangup();
    await waitFor(() => sim?.webhooks.length === 4, 'transport failure', 3000);
    expect(sim.webhooks[3]).toMatchObject({ type: 'call_hangup', attempts: 3, finalStatus: 'error' });

    sim.setWebhookUri(receiver.url);
    sim.startInboundCall({ from: '+1555', to: '+1666' });
    await waitFor(() => receiver.received.length >= 1, 'delivery', 2000);
    expect(receiver.received[0]?.headers['x-voipbin-signature']).toBeUndefined();
  });
});
