// The call pages' routes on the real ingress app, over HTTP, with the reads faked: who gets in, what
// each format answers, how errors map onto statuses, and that nothing is read for a refused request.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import { HistoryError } from '../../src/histories';
import { createApp } from '../../src/ingress/app';
import type { CallReads } from '../../src/ingress/call-reads';
import { TemporalUnavailableError } from '../../src/ingress/call-workflows';
import { EventRouter } from '../../src/ingress/event-router';
import { Counters } from '../../src/ingress/metrics';
import { RefusedEvents } from '../../src/ingress/refused-events';
import { mintViewToken, verifyViewToken } from '../../src/ingress/view-token';
import {
  SearchAttributeMissingError,
  type CallListFilters,
  type CallListing,
} from '../../src/inspect/call-list';
import type { CallPageView } from '../../src/inspect/page';
import type { CallTimeline } from '../../src/inspect/timeline';
import { silentLogger } from '../../src/logger';
import { ManualSchedule } from '../helpers/manual-schedule';
import { RecordingWorkflows } from '../helpers/recording-workflows';

const TOKEN = 'pages-3b9f1c7e5a2d8046';
const CALL_ID = '7d5e1f0a-2b3c-4d5e-8f9a-0b1c2d3e4f5a';
const WORKFLOW_ID = `call-${CALL_ID}`;

const TIMELINE: CallTimeline = {
  workflowId: WORKFLOW_ID,
  callId: CALL_ID,
  profile: 'default',
  status: 'running',
  startedAt: '2026-09-21T10:00:00.000Z',
  runs: [{ runId: 'r-1', startedAt: '2026-09-21T10:00:00.000Z' }],
  counts: { turns: 0, bargeIns: 0, reprompts: 0, callerLines: 1, agentLines: 0 },
  entries: [
    { at: '2026-09-21T10:00:02.000Z', offsetMs: 2000, run: 1, kind: 'caller', text: 'Hello <there>' },
  ],
  turns: [],
  live: { phase: 'listening', callStatus: 'progressing' },
};

const LISTING: CallListing = {
  callId: CALL_ID,
  workflowId: WORKFLOW_ID,
  runId: 'r-1',
  runs: 1,
  status: 'running',
  startedAt: '2026-09-21T10:00:00.000Z',
  closedAt: null,
  profile: 'default',
  direction: 'inbound',
  callStatus: 'progressing',
  endReason: null,
  page: `/calls/${CALL_ID}`,
};

/** Answers as told, recording what it was asked. */
class FakeReads implements CallReads {
  readonly asked: (CallListFilters | string)[] = [];
  error: Error | undefined;
  async list(filters: CallListFilters): Promise<CallListing[]> {
    this.asked.push(filters);
    if (this.error) throw this.error;
    return [LISTING];
  }
  async call(callId: string): Promise<CallPageView> {
    this.asked.push(callId);
    if (this.error) throw this.error;
    if (callId !== CALL_ID && callId !== WORKFLOW_ID) throw new HistoryError(`no call ${callId}`);
    return { timeline: TIMELINE, temporalUi: 'http://localhost:8233/namespaces/default/workflows/x' };
  }
}

let server: Server;
let base: string;
let reads: FakeReads;
let refused: RefusedEvents;

async function start(adminToken?: string): Promise<void> {
  reads = new FakeReads();
  const workflows = new RecordingWorkflows();
  const counters = new Counters();
  refused = new RefusedEvents({
    workflows,
    counters,
    log: silentLogger,
    schedule: new ManualSchedule().schedule,
  });
  const router = new EventRouter({
    workflows,
    agent: DEFAULT_AGENT_CONFIG,
    lookupTranscribe: async () => null,
    refused,
    counters,
    log: silentLogger,
  });
  const app = createApp(
    { webhookSecret: 'hook-secret-0123456789', maxBodyBytes: 16_384, adminToken },
    { router, ready: async () => true, counters, calls: reads, log: silentLogger },
  );
  server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await refused.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('with ADMIN_TOKEN', () => {
  beforeEach(() => start(TOKEN));

  it('GET /calls: 401 without the token or with a wrong one, nothing read; 200 with it', async () => {
    for (const headers of [{}, bearer('wrong-token-0123456789'), bearer(`${TOKEN}x`)]) {
      const res = await get('/calls', headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="voipbin-agent"/);
      expect(await res.json()).toEqual({ error: expect.any(String) as unknown });
    }
    expect(reads.asked).toEqual([]);
    const res = await get('/calls', bearer(TOKEN));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ calls: [LISTING] });
    expect(reads.asked).toEqual([{ limit: 50 }]);
  });

  it('GET /calls: the filters and the limit, each checked', async () => {
    const ok = await get('/calls?status=ended&profile=sales&limit=500', bearer(TOKEN));
    expect(ok.status).toBe(200);
    expect(reads.asked).toEqual([{ status: 'ended', profile: 'sales', limit: 500 }]);
    for (const query of [
      'status=bogus',
      'status=Running',
      'limit=0',
      'limit=501',
      'limit=ten',
      'limit=2.5',
      'limit=-1',
      'profile=',
      'status=running&status=ended',
      'sort=asc',
    ]) {
      const res = await get(`/calls?${query}`, bearer(TOKEN));
      expect([query, res.status]).toEqual([query, 400]);
      const { error } = (await res.json()) as { error: string };
      expect(error).toMatch(/^invalid query:\n {2}- (status|limit|profile|\(root\))/);
    }
    expect(reads.asked).toHaveLength(1);
  });

  it('GET /calls: an unregistered VoipbinProfile is 400 saying so; Temporal down is 503; else 500', async () => {
    reads.error = new SearchAttributeMissingError('VoipbinProfile', 'default');
    let res = await get('/calls?profile=sales', bearer(TOKEN));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(
      'the search attribute VoipbinProfile is not registered on the Temporal namespace default',
    );
    reads.error = new TemporalUnavailableError('Temporal is unreachable');
    res = await get('/calls', bearer(TOKEN));
    expect([res.status, await res.json()]).toEqual([503, { error: 'Temporal is unreachable: try again' }]);
    reads.error = new Error('boom');
    res = await get('/calls', bearer(TOKEN));
    expect([res.status, await res.json()]).toEqual([500, { error: 'internal error' }]);
  });

  it('GET /calls/<id>: the page, with a view token for this call and never the admin token', async () => {
    const before = Date.now();
    const res = await get(`/calls/${CALL_ID}`, bearer(TOKEN));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const page = await res.text();
    expect(page).not.toContain(TOKEN);
    expect(page).toContain('Hello &lt;there&gt;');
    const nonce = /script-src 'nonce-([^']+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
    expect(page).toContain(`<script nonce="${nonce}">`);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const view = /data-view-token="([^"]+)"/.exec(page)![1]!;
    expect(verifyViewToken(TOKEN, WORKFLOW_ID, view)).toBe(true);
    // About an hour.
    const expires = Number(view.split('.')[1]) * 1000;
    expect(expires - before).toBeGreaterThan(59 * 60_000);
    expect(expires - before).toBeLessThanOrEqual(60 * 60_000);
    expect(page).toContain(`data-refresh="/calls/${CALL_ID}?format=fragment"`);
  });

  it("a view token reads its call's data (fragment, JSON), not its page, not another call", async () => {
    const view = mintViewToken(TOKEN, WORKFLOW_ID);
    const fragment = await get(`/calls/${CALL_ID}?format=fragment`, bearer(view));
    expect(fragment.status).toBe(200);
    expect(await fragment.text()).toMatch(/^<main id="call" data-status="running">[^]*<\/main>$/);
    const json = await get(`/calls/${WORKFLOW_ID}`, { ...bearer(view), accept: 'application/json' });
    expect(json.status).toBe(200);
    expect(await json.json()).toEqual({
      ...TIMELINE,
      temporalUi: 'http://localhost:8233/namespaces/default/workflows/x',
    });
    expect((await get(`/calls/${CALL_ID}?format=json`, bearer(view))).status).toBe(200);
    const asked = reads.asked.length;
    expect((await get(`/calls/${CALL_ID}`, bearer(view))).status).toBe(401);
    expect((await get(`/calls/${CALL_ID}?format=html`, bearer(view))).status).toBe(401);
    expect((await get('/calls', bearer(view))).status).toBe(401);
    const other = mintViewToken(TOKEN, 'call-another');
    expect((await get(`/calls/${CALL_ID}?format=json`, bearer(other))).status).toBe(401);
    const expired = mintViewToken(TOKEN, WORKFLOW_ID, Date.now() - 2 * 60 * 60_000);
    expect((await get(`/calls/${CALL_ID}?format=json`, bearer(expired))).status).toBe(401);
    expect(reads.asked).toHaveLength(asked);
  });

  it('an unknown call is 404: a page, or JSON, as asked', async () => {
    const page = await get('/calls/no-such-call', bearer(TOKEN));
    expect(page.status).toBe(404);
    expect(await page.text()).toContain('No call <code>no-such-call</code>');
    const json = await get('/calls/no-such-call?format=json', bearer(TOKEN));
    expect([json.status, await json.json()]).toEqual([404, { error: 'no call no-such-call' }]);
    const odd = await get(`/calls/${encodeURIComponent('<b>x</b>')}`, bearer(TOKEN));
    expect(odd.status).toBe(404);
    expect(await odd.text()).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect((await get(`/calls/${CALL_ID}?format=xml`, bearer(TOKEN))).status).toBe(400);
  });

  it('a call page while Temporal is down: 503', async () => {
    reads.error = new TemporalUnavailableError('Temporal is unreachable');
    expect((await get(`/calls/${CALL_ID}`, bearer(TOKEN))).status).toBe(503);
    expect((await get(`/calls/${CALL_ID}?format=json`, bearer(TOKEN))).status).toBe(503);
  });
});

describe('with no ADMIN_TOKEN', () => {
  beforeEach(() => start());

  it('answers a loopback client without a token, and the page carries no view token', async () => {
    expect((await get('/calls')).status).toBe(200);
    const page = await (await get(`/calls/${CALL_ID}`)).text();
    expect(page).toContain(`data-refresh="/calls/${CALL_ID}?format=fragment"`);
    expect(page).not.toContain('data-view-token');
    expect((await get(`/calls/${CALL_ID}?format=fragment`)).status).toBe(200);
  });
});
