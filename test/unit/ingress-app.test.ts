import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { parseAgentConfig } from '../../src/agent-config';
import { createApp, type IngressOptions } from '../../src/ingress/app';
import { TemporalUnavailableError } from '../../src/ingress/call-workflows';
import { EventRouter } from '../../src/ingress/event-router';
import { Counters } from '../../src/ingress/metrics';
import { RefusedEvents } from '../../src/ingress/refused-events';
import { signBody } from '../../src/ingress/signature';
import { lookupTranscribeCall } from '../../src/ingress/transcribe-lookup';
import { silentLogger } from '../../src/logger';
import { AgentMetrics } from '../../src/metrics';
import { VoipbinClient } from '../../src/voipbin/client';
import {
  AGENT_NUMBER,
  CALL_ID,
  TRANSCRIBE_ID,
  TRANSCRIPT_ID,
  TRANSCRIPT_TEXT,
  callPayload,
  envelope,
  hungUpCallPayload,
  speechPayload,
  transcribePayload,
  transcriptPayload,
  uuidFor,
} from '../fixtures/voipbin-payloads';
import { ManualSchedule } from '../helpers/manual-schedule';
import { metricValue, scrape } from '../helpers/metrics';
import { RecordingWorkflows, type Recorded } from '../helpers/recording-workflows';

const SECRET = 'Jq3Vx8Lk2Rz7Tn5Wm1Pd9Hs4Gb6Yc0Fa';
const MAX_BODY = 16 * 1024;
const OTHER_NUMBER = '+15550001111';
const NAMED_NUMBER = '+15550003333';

const AGENT = parseAgentConfig(
  JSON.stringify({
    profiles: {
      default: {},
      sales: { greeting: 'Sales, how can I help?', model: 'sales-model' },
      named: { systemPrompt: 'The caller is {{caller}}.', greeting: 'Hello from {{profile}}.' },
    },
    routes: [
      { to: AGENT_NUMBER, profile: 'sales' },
      { to: NAMED_NUMBER, profile: 'named' },
      { to: OTHER_NUMBER, profile: 'default' },
    ],
  }),
  'test-agents.json',
);

function voipbinError(httpStatus: number, status: string, reason: string): Response {
  const body = { error: { status, reason, message: 'x', request_id: 'req_01JABCDEF0123456789ABCDEFG' } };
  return new Response(JSON.stringify(body), {
    status: httpStatus,
    headers: { 'content-type': 'application/json' },
  });
}

/**
 * VoIPBIN's side of `GET /transcribes/{id}`, under the real lookup and the real client: by default
 * the transcribe is on CALL_ID; `queued` answers (or transport failures) are used first, in order.
 */
class FakeVoipbin {
  /** The transcribe ids asked for, in order. */
  readonly asked: string[] = [];
  readonly queued: ((transcribeId: string) => Response)[] = [];
  answer: (transcribeId: string) => Response = (id) =>
    new Response(JSON.stringify(transcribePayload({ id })), { status: 200 });
  readonly fetch: typeof fetch = async (input) => {
    const id = decodeURIComponent(
      new URL(input instanceof Request ? input.url : input).pathname.split('/').pop() ?? '',
    );
    this.asked.push(id);
    return (this.queued.shift() ?? this.answer)(id);
  };
}

/** The connection refused, as Node's fetch reports it. */
function connectionRefused(): never {
  const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  throw new TypeError('fetch failed', { cause });
}

interface Harness {
  base: string;
  workflows: RecordingWorkflows;
  voipbin: FakeVoipbin;
  counters: Counters;
  metrics: AgentMetrics;
  router: EventRouter;
  refused: RefusedEvents;
  /** The retry rounds the refused events asked for, not yet run. */
  timers: ManualSchedule;
  ready: { value: boolean | Error };
  server: Server;
}

let h: Harness;

async function start(options: Partial<IngressOptions> = {}): Promise<Harness> {
  const workflows = new RecordingWorkflows();
  const voipbin = new FakeVoipbin();
  const client = new VoipbinClient({
    baseUrl: 'http://voipbin.invalid/v1.0',
    apiKey: 'k',
    fetch: voipbin.fetch,
  });
  const counters = new Counters();
  const metrics = new AgentMetrics();
  const timers = new ManualSchedule();
  const refused = new RefusedEvents({ workflows, counters, log: silentLogger, schedule: timers.schedule });
  const router = new EventRouter({
    workflows,
    agent: AGENT,
    lookupTranscribe: lookupTranscribeCall(client),
    refused,
    counters,
    metrics,
    log: silentLogger,
  });
  const ready: Harness['ready'] = { value: true };
  const app = createApp(
    { webhookSecret: SECRET, maxBodyBytes: MAX_BODY, ...options },
    {
      router,
      counters,
      metrics,
      log: silentLogger,
      ready: async () => {
        if (ready.value instanceof Error) throw ready.value;
        return ready.value;
      },
    },
  );
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  h = {
    base: `http://127.0.0.1:${port}`,
    workflows,
    voipbin,
    counters,
    metrics,
    router,
    refused,
    timers,
    ready,
    server,
  };
  return h;
}

afterEach(async () => {
  h.server.closeAllConnections();
  await new Promise<void>((resolve) => h.server.close(() => resolve()));
  await h.refused.close();
});

/** Runs the retry round the refused events scheduled (as its timer would), to its end. */
async function retryRound(): Promise<void> {
  expect(h.timers.pending).toEqual([{ run: expect.any(Function) as unknown, delayMs: 1000 }]);
  h.timers.fire();
  await h.refused.runRound();
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function post(
  raw: string | Buffer,
  opts: { sign?: boolean | string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
  const sign = opts.sign ?? true;
  if (sign !== false)
    headers['x-voipbin-signature'] = typeof sign === 'string' ? sign : signBody(SECRET, raw);
  const res = await fetch(`${h.base}/webhooks/voipbin`, { method: 'POST', headers, body: raw });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

function postEvent(type: string, data: unknown, opts: Parameters<typeof post>[1] = {}): Promise<Reply> {
  return post(JSON.stringify(envelope(type, data)), opts);
}

/** On a rejected request nothing downstream ran: no workflow call, no lookup, no event counted. */
async function expectNothingDownstream(status: number): Promise<void> {
  expect(h.workflows.calls).toEqual([]);
  expect(h.voipbin.asked).toEqual([]);
  expect(h.timers.pending).toEqual([]);
  expect(h.counters.snapshot()).toEqual({ [`webhooks_rejected_${status}`]: 1 });
  const metrics = await scrape(`${h.base}/metrics`);
  expect(metricValue(metrics, 'voipbin_agent_webhook_responses_total')).toBe(1);
  expect(metricValue(metrics, 'voipbin_agent_webhook_responses_total', { status: String(status) })).toBe(1);
  expect(metricValue(metrics, 'voipbin_agent_events_total')).toBeUndefined();
}

const SALES_PROFILE = AGENT.profiles['sales'];

describe('POST /webhooks/voipbin: calls', () => {
  beforeEach(async () => {
    await start();
  });

  it("passes the call's details the profile's prompts use, and only those", async () => {
    const payload = callPayload({
      source: { type: 'tel', target: '+15550001234' },
      destination: { type: 'tel', target: NAMED_NUMBER },
    });
    expect((await postEvent('call_progressing', payload)).status).toBe(200);
    expect(h.workflows.calls).toEqual([
      expect.objectContaining({
        method: 'signalWithStart',
        input: expect.objectContaining({
          profileName: 'named',
          variables: { caller: '+15550001234', profile: 'named' },
        }) as unknown,
      }),
    ]);
  });

  it('starts the workflow of an incoming progressing call with the route profile', async () => {
    const reply = await postEvent('call_progressing', callPayload());
    expect(reply).toEqual({ status: 200, body: { result: 'delivered' } });
    expect(h.workflows.calls).toEqual([
      {
        method: 'signalWithStart',
        input: { callId: CALL_ID, profileName: 'sales', profile: SALES_PROFILE },
        event: { kind: 'call', eventType: 'call_progressing', callId: CALL_ID, status: 'progressing' },
      },
    ]);
    expect(h.voipbin.asked).toEqual([]);
    expect(h.counters.get('webhooks_accepted')).toBe(1);
    expect(h.counters.get('events_delivered')).toBe(1);
    const metrics = await scrape(`${h.base}/metrics`);
    expect(metricValue(metrics, 'voipbin_agent_webhook_responses_total', { status: '200' })).toBe(1);
    expect(
      metricValue(metrics, 'voipbin_agent_events_total', {
        type: 'call_progressing',
        path: 'webhook',
        outcome: 'delivered',
      }),
    ).toBe(1);
    expect(metricValue(metrics, 'voipbin_agent_event_ack_seconds_count', { path: 'webhook' })).toBe(1);
  });

  it('routes by the number called', async () => {
    const reply = await postEvent(
      'call_ringing',
      callPayload({ status: 'ringing', destination: { type: 'tel', target: OTHER_NUMBER } }),
    );
    expect(reply.status).toBe(200);
    expect(h.workflows.calls).toEqual([
      {
        method: 'signalWithStart',
        input: { callId: CALL_ID, profileName: 'default', profile: AGENT.profiles['default'] },
        event: { kind: 'call', eventType: 'call_ringing', callId: CALL_ID, status: 'ringing' },
      },
    ]);
  });

  it('also starts on dialing, and passes the outcome through', async () => {
    h.workflows.outcome = 'call-ended';
    const reply = await postEvent('call_dialing', callPayload({ status: 'dialing' }));
    expect(reply).toEqual({ status: 200, body: { result: 'call-ended' } });
    expect(h.workflows.calls.map((c) => c.method)).toEqual(['signalWithStart']);
    expect(h.counters.get('events_call-ended')).toBe(1);
  });

  it('only signals for an outgoing call', async () => {
    const reply = await postEvent('call_progressing', callPayload({ direction: 'outgoing' }));
    expect(reply).toEqual({ status: 200, body: { result: 'delivered' } });
    expect(h.workflows.calls).toEqual([
      {
        method: 'signal',
        callId: CALL_ID,
        event: { kind: 'call', eventType: 'call_progressing', callId: CALL_ID, status: 'progressing' },
      },
    ]);
  });

  it('only signals for a call event without a direction', async () => {
    await postEvent('call_updated', callPayload({ direction: undefined }));
    expect(h.workflows.calls.map((c) => c.method)).toEqual(['signal']);
  });

  it.each(['terminating', 'canceling'])('only signals for an incoming call that is %s', async (status) => {
    await postEvent(`call_${status}`, callPayload({ status }));
    expect(h.workflows.calls).toEqual([
      { method: 'signal', callId: CALL_ID, event: expect.objectContaining({ status }) as unknown },
    ]);
  });

  it('only signals on hangup, and reports a workflow that is gone', async () => {
    h.workflows.outcome = 'no-workflow';
    const reply = await postEvent('call_hangup', hungUpCallPayload());
    expect(reply).toEqual({ status: 200, body: { result: 'no-workflow' } });
    expect(h.workflows.calls).toEqual([
      {
        method: 'signal',
        callId: CALL_ID,
        event: { kind: 'call', eventType: 'call_hangup', callId: CALL_ID, status: 'hangup' },
      },
    ]);
  });

  it('leaves alone an incoming call whose number matches no route', async () => {
    const reply = await postEvent(
      'call_progressing',
      callPayload({ destination: { type: 'tel', target: '+15553334444' } }),
    );
    expect(reply).toEqual({ status: 200, body: { result: 'unrouted' } });
    expect(h.workflows.calls).toEqual([]);
    expect(h.counters.get('events_unrouted')).toBe(1);
    expect(h.counters.get('webhooks_accepted')).toBe(1);
  });

  const progressing = {
    kind: 'call',
    eventType: 'call_progressing',
    callId: CALL_ID,
    status: 'progressing',
  } as const;
  const salesStart = { callId: CALL_ID, profileName: 'sales', profile: SALES_PROFILE };

  it('answers 503 when Temporal is unreachable on start, and starts the call late once it is back', async () => {
    h.workflows.error = new TemporalUnavailableError('Temporal is unreachable');
    const reply = await postEvent('call_progressing', callPayload());
    expect(reply).toEqual({ status: 503, body: { error: 'temporarily unavailable, retry' } });
    expect(h.counters.get('webhooks_rejected_503')).toBe(1);
    expect(h.counters.get('webhooks_accepted')).toBe(0);
    const metrics = await scrape(`${h.base}/metrics`);
    expect(metricValue(metrics, 'voipbin_agent_signal_failures_total', { reason: 'unavailable' })).toBe(1);
    expect(
      metricValue(metrics, 'voipbin_agent_events_total', {
        type: 'call_progressing',
        outcome: 'unavailable',
      }),
    ).toBe(1);
    expect(metricValue(metrics, 'voipbin_agent_webhook_responses_total', { status: '503' })).toBe(1);

    h.workflows.error = undefined;
    await retryRound();
    expect(h.workflows.calls).toEqual([
      { method: 'signalWithStart', input: salesStart, event: progressing },
      { method: 'signalWithStart', input: salesStart, event: progressing },
      { method: 'reconcile', callId: CALL_ID, request: { reason: 'events-refused' } },
    ]);
    expect(h.timers.pending).toEqual([]);
  });

  it('answers 503 when Temporal is unreachable on a signal, and asks the call to reconcile later', async () => {
    h.workflows.error = new TemporalUnavailableError('Temporal is unreachable');
    const reply = await postEvent('call_hangup', hungUpCallPayload());
    expect(reply.status).toBe(503);

    h.workflows.error = undefined;
    await retryRound();
    expect(h.workflows.calls).toEqual([
      {
        method: 'signal',
        callId: CALL_ID,
        event: { kind: 'call', eventType: 'call_hangup', callId: CALL_ID, status: 'hangup' },
      },
      { method: 'reconcile', callId: CALL_ID, request: { reason: 'events-refused' } },
    ]);
  });

  it('signals a call snapshot once: a repeat, or one no further than what was delivered, is acknowledged without a signal', async () => {
    expect(await postEvent('call_progressing', callPayload())).toEqual({
      status: 200,
      body: { result: 'delivered' },
    });
    // VoIPBIN sends call_updated for every change of the call, most with the status unchanged.
    expect(await postEvent('call_updated', callPayload())).toEqual({
      status: 200,
      body: { result: 'duplicate' },
    });
    expect(await postEvent('call_ringing', callPayload({ status: 'ringing' }))).toEqual({
      status: 200,
      body: { result: 'duplicate' },
    });
    await postEvent('call_hangup', hungUpCallPayload());
    await postEvent('call_hangup', hungUpCallPayload());
    expect(h.workflows.calls.map((c) => `${c.method} ${'event' in c ? c.event.eventType : ''}`)).toEqual([
      'signalWithStart call_progressing',
      'signal call_hangup',
    ]);
    expect(h.counters.get('events_duplicate')).toBe(3);
  });

  it('signals a snapshot again when the first was not delivered (Temporal down, no workflow yet)', async () => {
    h.workflows.error = new TemporalUnavailableError('Temporal is unreachable');
    expect((await postEvent('call_hangup', hungUpCallPayload())).status).toBe(503);
    h.workflows.error = undefined;
    h.workflows.outcome = 'no-workflow';
    expect(await postEvent('call_hangup', hungUpCallPayload())).toEqual({
      status: 200,
      body: { result: 'no-workflow' },
    });
    h.workflows.outcome = 'delivered';
    expect(await postEvent('call_hangup', hungUpCallPayload())).toEqual({
      status: 200,
      body: { result: 'delivered' },
    });
    expect(h.workflows.calls.filter((c) => c.method === 'signal')).toHaveLength(3);
  });

  it('answers 500 on any other error, and remembers nothing', async () => {
    h.workflows.error = new Error('boom');
    const reply = await postEvent('call_progressing', callPayload());
    expect(reply).toEqual({ status: 500, body: { error: 'internal error' } });
    expect(h.counters.get('webhooks_rejected_500')).toBe(1);
    expect(h.counters.get('webhooks_accepted')).toBe(0);
    expect(h.workflows.calls).toEqual([{ method: 'signalWithStart', input: salesStart, event: progressing }]);
    expect(h.timers.pending).toEqual([]);
  });
});

describe('POST /webhooks/voipbin: transcripts', () => {
  beforeEach(async () => {
    await start();
  });

  const expectedSignal = (id: string, direction: 'in', text: string): Recorded => ({
    method: 'signal',
    callId: CALL_ID,
    event: {
      kind: 'transcript',
      eventType: 'transcript_created',
      id,
      transcribeId: TRANSCRIBE_ID,
      direction,
      text,
      createdAt: '2026-01-15T09:30:15.233415Z',
    },
  });

  it('maps a transcribe session to its call, then signals its transcripts without a lookup', async () => {
    const mapped = await postEvent('transcribe_progressing', transcribePayload());
    expect(mapped).toEqual({ status: 200, body: { result: 'mapped' } });
    expect(h.workflows.calls).toEqual([]);

    const reply = await postEvent('transcript_created', transcriptPayload());
    expect(reply).toEqual({ status: 200, body: { result: 'delivered' } });
    expect(h.workflows.calls).toEqual([expectedSignal(TRANSCRIPT_ID, 'in', TRANSCRIPT_TEXT)]);
    expect(h.voipbin.asked).toEqual([]);
  });

  it('acknowledges our own speech transcribed back (`out`) without a signal: the workflow never uses it', async () => {
    await postEvent('transcribe_progressing', transcribePayload());
    const out = await postEvent(
      'transcript_created',
      transcriptPayload({ id: uuidFor('t-2'), direction: 'out', message: 'Hi.' }),
    );
    expect(out).toEqual({ status: 200, body: { result: 'unused' } });
    expect(h.workflows.calls).toEqual([]);
    // Not even while Temporal is down: there is nothing to lose.
    h.workflows.error = new TemporalUnavailableError('Temporal is unreachable');
    const refused = await postEvent(
      'transcript_created',
      transcriptPayload({ id: uuidFor('t-3'), direction: 'out', message: 'Hello.' }),
    );
    expect(refused).toEqual({ status: 200, body: { result: 'unused' } });
  });

  it('signals a transcript once: VoIPBIN repeating it (a retry after a timeout) costs no signal', async () => {
    await postEvent('transcribe_progressing', transcribePayload());
    h.workflows.error = new TemporalUnavailableError('Temporal is unreachable');
    expect((await postEvent('transcript_created', transcriptPayload())).status).toBe(503);
    h.workflows.error = undefined;
    expect(await postEvent('transcript_created', transcriptPayload())).toEqual({
      status: 200,
      body: { result: 'delivered' },
    });
    expect(await postEvent('transcript_created', transcriptPayload())).toEqual({
      status: 200,
      body: { result: 'duplicate' },
    });
    expect(h.workflows.calls.filter((c) => c.method === 'signal')).toEqual([
      expectedSignal(TRANSCRIPT_ID, 'in', TRANSCRIPT_TEXT),
      expectedSignal(TRANSCRIPT_ID, 'in', TRANSCRIPT_TEXT),
    ]);
  });

  it('learns the call from transcribe_created and transcribe_done too', async () => {
    await postEvent(
      'transcribe_created',
      transcribePayload({ id: uuidFor('tr-created'), reference_id: uuidFor('call-a') }),
    );
    await postEvent(
      'transcribe_done',
      transcribePayload({ id: uuidFor('tr-done'), reference_id: uuidFor('call-b'), status: 'done' }),
    );
    await postEvent(
      'transcript_created',
      transcriptPayload({ id: uuidFor('t-a'), transcribe_id: uuidFor('tr-created') }),
    );
    await postEvent(
      'transcript_created',
      transcriptPayload({ id: uuidFor('t-b'), transcribe_id: uuidFor('tr-done') }),
    );
    expect(h.workflows.calls.map((c) => (c.method === 'signal' ? c.callId : ''))).toEqual([
      uuidFor('call-a'),
      uuidFor('call-b'),
    ]);
    expect(h.voipbin.asked).toEqual([]);
  });

  it('looks up an unknown transcribe session once, then uses the cache', async () => {
    const first = await postEvent('transcript_created', transcriptPayload());
    const second = await postEvent(
      'transcript_created',
      transcriptPayload({ id: uuidFor('t-2'), message: 'And my bill.' }),
    );
    expect(first).toEqual({ status: 200, body: { result: 'delivered' } });
    expect(second).toEqual({ status: 200, body: { result: 'delivered' } });
    expect(h.voipbin.asked).toEqual([TRANSCRIBE_ID]);
    expect(h.workflows.calls).toEqual([
      expectedSignal(TRANSCRIPT_ID, 'in', TRANSCRIPT_TEXT),
      expectedSignal(uuidFor('t-2'), 'in', 'And my bill.'),
    ]);
  });

  it.each([
    [
      'on a recording (200)',
      () => new Response(JSON.stringify(transcribePayload({ reference_type: 'recording' }))),
    ],
    ['VoIPBIN does not know (404)', () => voipbinError(404, 'NOT_FOUND', 'TRANSCRIBE_NOT_FOUND')],
    ["of another customer's (403)", () => voipbinError(403, 'PERMISSION_DENIED', 'PERMISSION_DENIED')],
  ])('ignores transcripts of a session %s, and remembers that', async (_, answer) => {
    h.voipbin.answer = answer;
    const first = await postEvent('transcript_created', transcriptPayload());
    const second = await postEvent('transcript_created', transcriptPayload({ id: uuidFor('t-2') }));
    expect(first).toEqual({ status: 200, body: { result: 'not-a-call' } });
    expect(second).toEqual({ status: 200, body: { result: 'not-a-call' } });
    expect(h.voipbin.asked).toEqual([TRANSCRIBE_ID]);
    expect(h.workflows.calls).toEqual([]);
    expect(h.counters.get('events_not-a-call')).toBe(2);
  });

  it('ignores transcripts of a transcribe on a recording, without a lookup', async () => {
    await postEvent('transcribe_progressing', transcribePayload({ reference_type: 'recording' }));
    const reply = await postEvent('transcript_created', transcriptPayload());
    expect(reply).toEqual({ status: 200, body: { result: 'not-a-call' } });
    expect(h.voipbin.asked).toEqual([]);
    expect(h.workflows.calls).toEqual([]);
  });

  it('answers 503 when the lookup cannot reach VoIPBIN, and does not cache the failure', async () => {
    h.voipbin.queued.push(connectionRefused);
    const failed = await postEvent('transcript_created', transcriptPayload());
    expect(failed).toEqual({ status: 503, body: { error: 'temporarily unavailable, retry' } });
    expect(h.workflows.calls).toEqual([]);
    // The call is unknown, so there is nothing to reconcile later: only VoIPBIN's retry can help.
    expect(h.timers.pending).toEqual([]);

    const retried = await postEvent('transcript_created', transcriptPayload());
    expect(retried).toEqual({ status: 200, body: { result: 'delivered' } });
    expect(h.voipbin.asked).toEqual([TRANSCRIBE_ID, TRANSCRIBE_ID]);
    expect(h.workflows.calls).toEqual([expectedSignal(TRANSCRIPT_ID, 'in', TRANSCRIPT_TEXT)]);
  });

  it.each([
    [503, 'UNAVAILABLE', 'SERVICE_UNAVAILABLE'],
    [500, 'INTERNAL', 'INTERNAL'],
    [429, 'RESOURCE_EXHAUSTED', 'RATE_LIMIT_EXCEEDED'],
  ])('answers 503 when the lookup gets a retryable VoIPBIN status (%i)', async (status, name, reason) => {
    h.voipbin.queued.push(() => voipbinError(status, name, reason));
    expect(await postEvent('transcript_created', transcriptPayload())).toEqual({
      status: 503,
      body: { error: 'temporarily unavailable, retry' },
    });
    expect(h.workflows.calls).toEqual([]);
  });

  it('answers 500 when the lookup fails for good (the access key is refused)', async () => {
    h.voipbin.queued.push(() => voipbinError(401, 'UNAUTHENTICATED', 'INVALID_CREDENTIALS'));
    expect(await postEvent('transcript_created', transcriptPayload())).toEqual({
      status: 500,
      body: { error: 'internal error' },
    });
    expect(h.workflows.calls).toEqual([]);
    expect(h.voipbin.asked).toEqual([TRANSCRIBE_ID]);
  });

  it('answers 503 when Temporal is unreachable for a transcript, and asks its call to reconcile later', async () => {
    h.workflows.error = new TemporalUnavailableError('Temporal is unreachable');
    expect((await postEvent('transcript_created', transcriptPayload())).status).toBe(503);

    h.workflows.error = undefined;
    await retryRound();
    expect(h.workflows.calls).toEqual([
      expectedSignal(TRANSCRIPT_ID, 'in', TRANSCRIPT_TEXT),
      { method: 'reconcile', callId: CALL_ID, request: { reason: 'events-refused' } },
    ]);
  });

  it("hands the caller's words on, once each, for an early barge-in (the profiles cut on words)", async () => {
    const SPEECH_AT = speechPayload('transcribe_speech_started')['tm_event'];
    // No profile cuts the agent off on the start of speech alone (bargeIn: speech): no signal.
    const started = await postEvent('transcribe_speech_started', speechPayload('transcribe_speech_started'));
    expect(started).toEqual({ status: 200, body: { result: 'unused' } });
    const interim = speechPayload('transcribe_speech_interim', { id: uuidFor('interim') });
    expect(await postEvent('transcribe_speech_interim', interim)).toEqual({
      status: 200,
      body: { result: 'speech-queued' },
    });
    await h.router.settled(); // signalled a moment later, no final having come meanwhile
    // The same words again (the other path, a retry): nothing new.
    expect(await postEvent('transcribe_speech_interim', interim)).toEqual({
      status: 200,
      body: { result: 'unused' },
    });
    expect(
      await postEvent(
        'transcribe_speech_ended',
        speechPayload('transcribe_speech_ended', { id: uuidFor('ended') }),
      ),
    ).toEqual({ status: 200, body: { result: 'unused' } });
    await h.router.settled();
    expect(h.workflows.calls).toEqual([
      {
        method: 'speech',
        callId: CALL_ID,
        speech: {
          eventType: 'transcribe_speech_interim',
          transcribeId: TRANSCRIBE_ID,
          text: 'Hello, I need',
          at: SPEECH_AT,
        },
      },
    ]);
    expect(h.voipbin.asked).toEqual([TRANSCRIBE_ID]);
  });

  it("never answers 503 for speech: the final transcript will do, and VoIPBIN's retries would be late", async () => {
    h.workflows.error = new TemporalUnavailableError('Temporal is unreachable');
    const reply = await postEvent('transcribe_speech_interim', speechPayload('transcribe_speech_interim'));
    expect(reply).toEqual({ status: 200, body: { result: 'speech-queued' } });
    await h.router.settled();
    expect(h.timers.pending).toEqual([]);
    const metrics = await scrape(`${h.base}/metrics`);
    expect(metricValue(metrics, 'voipbin_agent_speech_signals_total', { outcome: 'dropped' })).toBe(1);
  });

  it('speech whose final comes right behind it is never signalled: the final says it all', async () => {
    await postEvent('transcribe_speech_interim', speechPayload('transcribe_speech_interim'));
    await postEvent('transcript_created', transcriptPayload());
    await h.router.settled();
    expect(h.workflows.calls.map((c) => c.method)).toEqual(['signal']);
    const metrics = await scrape(`${h.base}/metrics`);
    expect(metricValue(metrics, 'voipbin_agent_speech_signals_total', { outcome: 'superseded' })).toBe(1);
  });

  it("the agent's own side is never speech of the caller", async () => {
    const reply = await postEvent(
      'transcribe_speech_interim',
      speechPayload('transcribe_speech_interim', { direction: 'out' }),
    );
    expect(reply).toEqual({ status: 200, body: { result: 'unused' } });
    expect(h.workflows.calls).toEqual([]);
  });
});

describe('POST /webhooks/voipbin: rejected requests', () => {
  beforeEach(async () => {
    await start();
  });

  it('answers 401 to a bad signature', async () => {
    const raw = JSON.stringify(envelope('call_progressing', callPayload()));
    const reply = await post(raw, { sign: signBody('not-the-secret', raw) });
    expect(reply).toEqual({ status: 401, body: { error: 'invalid or missing X-VoIPBIN-Signature' } });
    await expectNothingDownstream(401);
  });

  it('answers 401 to a missing signature', async () => {
    const reply = await postEvent('call_progressing', callPayload(), { sign: false });
    expect(reply.status).toBe(401);
    await expectNothingDownstream(401);
  });

  it('answers 401 to a signature of another body', async () => {
    const raw = JSON.stringify(envelope('call_progressing', callPayload()));
    const other = JSON.stringify(envelope('call_progressing', callPayload({ id: uuidFor('other') })));
    expect((await post(raw, { sign: signBody(SECRET, other) })).status).toBe(401);
    await expectNothingDownstream(401);
  });

  it('checks the signature before reading the body', async () => {
    const reply = await post('{not json', { sign: false });
    expect(reply.status).toBe(401);
    await expectNothingDownstream(401);
  });

  it('answers 415 to a body that is not sent as JSON', async () => {
    const raw = JSON.stringify(envelope('call_progressing', callPayload()));
    const reply = await post(raw, { headers: { 'content-type': 'text/plain' } });
    expect(reply).toEqual({ status: 415, body: { error: 'Content-Type must be application/json' } });
    await expectNothingDownstream(415);
  });

  it('accepts JSON with a charset', async () => {
    const raw = JSON.stringify(envelope('call_progressing', callPayload()));
    const reply = await post(raw, { headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect(reply.status).toBe(200);
  });

  it('answers 400 to malformed JSON', async () => {
    const reply = await post('{"type":"call_progressing","data":');
    expect(reply).toEqual({ status: 400, body: { error: 'body is not valid JSON' } });
    await expectNothingDownstream(400);
  });

  it('answers 400 to an empty body', async () => {
    expect((await post('')).status).toBe(400);
    await expectNothingDownstream(400);
  });

  it('answers 400 to JSON that is not an envelope', async () => {
    const reply = await post(JSON.stringify(callPayload()));
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toMatch(/not a VoIPBIN event/);
    await expectNothingDownstream(400);
  });

  it('answers 400 to a known type with malformed data, naming the field but not the values', async () => {
    const reply = await postEvent(
      'transcript_created',
      transcriptPayload({ transcribe_id: undefined, message: 'my PIN is 4321' }),
    );
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toContain('transcribe_id');
    expect(JSON.stringify(reply.body)).not.toContain('4321');
    await expectNothingDownstream(400);
  });

  it('answers 400 to a call event with malformed data', async () => {
    const reply = await postEvent('call_progressing', callPayload({ status: 'answered' }));
    expect(reply.status).toBe(400);
    expect(reply.body['error']).toContain('status');
    await expectNothingDownstream(400);
  });

  it('answers 400 to a call event whose call id is not a UUID', async () => {
    const reply = await postEvent('call_progressing', callPayload({ id: 'call-1' }));
    expect(reply).toEqual({
      status: 400,
      body: { error: 'call_progressing event data is malformed at: id (not a UUID)' },
    });
    await expectNothingDownstream(400);
  });

  it('answers 413 to a body over the limit', async () => {
    const raw = JSON.stringify(envelope('call_progressing', callPayload({ padding: 'x'.repeat(MAX_BODY) })));
    const reply = await post(raw);
    expect(reply).toEqual({ status: 413, body: { error: 'body too large' } });
    await expectNothingDownstream(413);
  });

  it('answers 413 to a chunked body over the limit', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(4096));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${h.base}/webhooks/voipbin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    });
    expect(res.status).toBe(413);
    await res.text();
    await expectNothingDownstream(413);
  });

  it('accepts a body exactly at the limit', async () => {
    const base = JSON.stringify(envelope('call_progressing', callPayload({ padding: '' })));
    const raw = JSON.stringify(
      envelope('call_progressing', callPayload({ padding: 'x'.repeat(MAX_BODY - base.length) })),
    );
    expect(Buffer.byteLength(raw)).toBe(MAX_BODY);
    expect((await post(raw)).status).toBe(200);
  });

  it('answers 200 to an unknown event type, counts it and hands nothing on', async () => {
    const reply = await postEvent('recording_started', { id: 'rec-1', anything: true });
    expect(reply).toEqual({ status: 200, body: { result: 'unknown-type' } });
    expect(h.counters.get('events_unknown-type')).toBe(1);
    expect(h.workflows.calls).toEqual([]);
    expect(h.voipbin.asked).toEqual([]);
  });

  it('answers 404 to another path or method', async () => {
    expect((await fetch(`${h.base}/webhooks/voipbin`)).status).toBe(404);
    expect((await fetch(`${h.base}/webhooks/other`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect(h.workflows.calls).toEqual([]);
  });
});

describe('POST /webhooks/voipbin without a secret: fail closed', () => {
  beforeEach(async () => {
    await start({ webhookSecret: undefined });
  });

  it('refuses every webhook, signed or not, and says why', async () => {
    const reply = await postEvent('call_progressing', callPayload(), { sign: false });
    expect(reply).toEqual({
      status: 401,
      body: { error: 'webhooks are refused: no webhook secret is configured (VOIPBIN_WEBHOOK_SECRET)' },
    });
    await expectNothingDownstream(401);
    expect((await postEvent('call_progressing', callPayload(), { sign: 'sha256=nonsense' })).status).toBe(
      401,
    );
  });
});

describe('POST /webhooks/voipbin without a secret, unsigned webhooks allowed', () => {
  beforeEach(async () => {
    await start({ webhookSecret: undefined, allowUnsigned: true });
  });

  it('accepts an unsigned webhook', async () => {
    const reply = await postEvent('call_progressing', callPayload(), { sign: false });
    expect(reply).toEqual({ status: 200, body: { result: 'delivered' } });
    expect(h.workflows.calls).toHaveLength(1);
  });

  it('ignores whatever signature header is sent', async () => {
    const reply = await postEvent('call_progressing', callPayload(), { sign: 'sha256=nonsense' });
    expect(reply.status).toBe(200);
  });

  it('still rejects malformed bodies', async () => {
    expect((await post('nope', { sign: false })).status).toBe(400);
    await expectNothingDownstream(400);
  });
});

describe('health routes', () => {
  beforeEach(async () => {
    await start();
  });

  it('GET /healthz answers 200', async () => {
    const res = await fetch(`${h.base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /readyz follows deps.ready', async () => {
    const ready = await fetch(`${h.base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });

    h.ready.value = false;
    const notReady = await fetch(`${h.base}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'temporal unreachable' });

    h.ready.value = new Error('connection refused');
    expect((await fetch(`${h.base}/readyz`)).status).toBe(503);

    h.ready.value = true;
    expect((await fetch(`${h.base}/readyz`)).status).toBe(200);
  });

  it('health routes hand nothing to a workflow', async () => {
    await fetch(`${h.base}/healthz`).then((r) => r.text());
    await fetch(`${h.base}/readyz`).then((r) => r.text());
    expect(h.workflows.calls).toEqual([]);
    expect(h.counters.snapshot()).toEqual({});
  });
});
