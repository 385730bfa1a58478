import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ClientOptions, WebSocket } from 'ws';
import { type SimCall, type Simulator, startSimulator } from '../../src/sandbox/simulator';
import { WebSocketHub, eventTopics } from '../../src/sandbox/simulator/websocket-hub';
import { waitFor } from '../helpers/wait-for';

const KEY = 'k';
type Frame = Record<string, unknown>;

interface Feed {
  ws: WebSocket;
  frames: Frame[];
  /** Resolves with the close code. */
  closed: Promise<number>;
}

/** The close code, or 'open' when the socket is still open after 2 s (so a kept socket fails fast). */
function closeCode(feed: Feed): Promise<number | 'open'> {
  return Promise.race([
    feed.closed,
    new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 2000).unref()),
  ]);
}

/** Every client socket; dropped before each teardown, so a socket the server kept cannot hang it. */
const clients: WebSocket[] = [];
function dropClients(): void {
  for (const ws of clients.splice(0)) ws.terminate();
}

async function connect(url: string, opts?: ClientOptions): Promise<Feed> {
  const ws = new WebSocket(url, opts);
  clients.push(ws);
  const frames: Frame[] = [];
  ws.on('message', (raw: Buffer) => frames.push(JSON.parse(raw.toString('utf8')) as Frame));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await once(ws, 'open');
  return { ws, frames, closed };
}

/** An upgrade answered with an HTTP error instead: its status, X-Request-Id and JSON body. */
function refused(url: string): Promise<{ status: number; requestId: unknown; body: Frame }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => reject(new Error('upgraded')));
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          requestId: res.headers['x-request-id'],
          body: JSON.parse(text) as Frame,
        }),
      );
    });
  });
}

/** Every frame the server sent before this returns has arrived (a pong follows them on the wire). */
async function roundTrip(feed: Feed): Promise<void> {
  feed.ws.ping();
  await once(feed.ws, 'pong');
}

/** Sends a subscribe frame and waits until the simulator processed it (there is no ack). */
async function subscribe(sim: Simulator, feed: Feed, topics: string[]): Promise<void> {
  const before = sim.socketSubscribes.length;
  feed.ws.send(JSON.stringify({ type: 'subscribe', topics }));
  await waitFor(() => sim.socketSubscribes.length > before, 'subscribe processed', 2000);
}

function webhookData(sim: Simulator): Frame[] {
  return sim.webhooks.map((w) => (JSON.parse(w.body) as { data: Frame }).data);
}

function hangupCall(sim: Simulator): SimCall {
  return sim.startInboundCall({
    from: '+15550001111',
    to: '+15550002222',
    script: { steps: [{ hangup: true, afterMs: 100 }] },
  });
}

async function silentCall(sim: Simulator): Promise<SimCall> {
  const call = sim.startInboundCall({ from: '+15550001111', to: '+15550002222' });
  await waitFor(() => call.status() === 'progressing', 'progressing', 2000);
  return call;
}

describe('VoIPBIN simulator WebSocket feed', () => {
  let sim: Simulator;
  let cid: string;
  let url: string;

  beforeEach(async () => {
    sim = await startSimulator({ accessKey: KEY });
    cid = sim.customer.id;
    url = `${sim.wsUrl}?accesskey=${KEY}`;
  });
  afterEach(async () => {
    dropClients();
    await sim.close();
  });

  it('answers 401 or 404 with the error envelope before the upgrade, and accepts the cookie', async () => {
    expect(sim.wsUrl).toBe(`ws://127.0.0.1:${sim.port}/v1.0/ws`);

    const missing = await refused(sim.wsUrl);
    expect(missing.status).toBe(401);
    expect(missing.body).toEqual({
      error: {
        status: 'UNAUTHENTICATED',
        reason: 'AUTHENTICATION_REQUIRED',
        message: expect.any(String) as unknown,
        request_id: missing.requestId,
      },
    });
    expect(missing.requestId).toMatch(/^req_[0-9A-Z]{26}$/);

    const wrong = await refused(`${sim.wsUrl}?accesskey=nope`);
    expect(wrong.status).toBe(401);
    expect(wrong.body['error']).toMatchObject({ reason: 'INVALID_CREDENTIALS' });

    const path = await refused(`ws://127.0.0.1:${sim.port}/v1.0/websocket?accesskey=${KEY}`);
    expect(path.status).toBe(404);
    expect(path.body['error']).toMatchObject({ reason: 'ROUTE_NOT_FOUND' });

    const feed = await connect(sim.wsUrl, { headers: { Cookie: `accesskey=${KEY}` } });
    expect(sim.openSockets()).toBe(1);
    feed.ws.close();
    await feed.closed;
    await waitFor(() => sim.openSockets() === 0, 'socket gone', 2000);

    expect(sim.socketAttempts.map((a) => a.accepted)).toEqual([false, false, false, true]);
    const times = sim.socketAttempts.map((a) => a.at);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('sends a 3-part subscriber every call event twice (old and new topic), as the bare call object', async () => {
    const feed = await connect(url);
    await subscribe(sim, feed, [`customer_id:${cid}:call`]);
    expect(sim.socketSubscribes).toEqual([
      { at: expect.any(Number) as unknown, topics: [`customer_id:${cid}:call`] },
    ]);

    const call = hangupCall(sim);
    await call.ended;
    await roundTrip(feed);
    await sim.webhooksIdle();

    const events = webhookData(sim);
    expect(events.map((e) => e['status'])).toEqual(['dialing', 'ringing', 'progressing', 'hangup']);
    expect(feed.frames).toEqual(events.flatMap((e) => [e, e]));
    for (const frame of feed.frames) {
      expect(frame).toMatchObject({ id: call.id, customer_id: cid, type: 'flow' }); // the call's type
      expect(frame).not.toHaveProperty('data');
    }
  });

  it('sends a 4-part subscriber on a call id each event once, and dedupes only per topic', async () => {
    const call = await silentCall(sim);
    const exact = await connect(url);
    await subscribe(sim, exact, [`customer_id:${cid}:call:${call.id}`]);
    const both = await connect(url);
    await subscribe(sim, both, [`customer_id:${cid}:call`, `customer_id:${cid}:call:${call.id}`]);

    call.hangup();
    await roundTrip(exact);
    await roundTrip(both);

    // customer_id:<cid>:call:call_hangup:<id> does not start with customer_id:<cid>:call:<id>.
    expect(exact.frames).toEqual([expect.objectContaining({ id: call.id, status: 'hangup' })]);
    // Two subscriptions match the old topic: one frame for it, one for the new topic.
    expect(both.frames).toEqual([exact.frames[0], exact.frames[0]]);
  });

  it('puts transcripts under the transcript resource, and speech events under ids of their own', async () => {
    const call = await silentCall(sim);
    const res = await fetch(`${sim.baseUrl}/transcribes?accesskey=${KEY}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        reference_type: 'call',
        reference_id: call.id,
        language: 'en-US',
        direction: 'both',
      }),
    });
    const transcribeId = ((await res.json()) as { id: string }).id;
    const transcripts = await connect(url);
    await subscribe(sim, transcripts, [`customer_id:${cid}:transcript`]);
    const transcribe = await connect(url);
    await subscribe(sim, transcribe, [`customer_id:${cid}:transcribe:${transcribeId}`]);

    call.speak('hello');
    call.hangup();
    await roundTrip(transcripts);
    await roundTrip(transcribe);

    const transcript = { transcribe_id: transcribeId, direction: 'in', message: 'hello' };
    expect(transcripts.frames).toEqual([
      expect.objectContaining(transcript),
      expect.objectContaining(transcript),
    ]);
    // transcribe_speech_* carry a random id of their own: only transcribe_done reaches this one.
    expect(transcribe.frames).toEqual([expect.objectContaining({ id: transcribeId, status: 'done' })]);
  });

  it('keeps the socket on invalid JSON, and drops it on an invalid topic or a binary frame', async () => {
    const feed = await connect(url);
    feed.ws.send('not json');
    feed.ws.send(JSON.stringify({ type: 'subscribe', topics: 'not a list' }));
    await subscribe(sim, feed, [`customer_id:${cid.toUpperCase()}:call`]);
    expect(feed.ws.readyState).toBe(WebSocket.OPEN);

    const invalid = [
      `customer_id:${randomUUID()}:call`,
      `agent_id:${cid}:call`,
      `customer:${cid}:call`,
      `customer_id:not-a-uuid:call`,
      'customer_id',
    ];
    for (const topic of invalid) {
      const bad = await connect(url);
      bad.ws.send(JSON.stringify({ type: 'subscribe', topics: [`customer_id:${cid}:call`, topic] }));
      expect(await closeCode(bad)).toBe(1006);
    }
    const unsubscribing = await connect(url);
    unsubscribing.ws.send(JSON.stringify({ type: 'unsubscribe', topics: [`agent_id:${cid}`] }));
    expect(await closeCode(unsubscribing)).toBe(1006);
    const binary = await connect(url);
    binary.ws.send(Buffer.from(JSON.stringify({ type: 'subscribe', topics: [] })));
    expect(await closeCode(binary)).toBe(1006);

    // Only the one valid frame was taken: the failing ones subscribed nothing.
    expect(sim.socketSubscribes).toHaveLength(1);
    expect(sim.openSockets()).toBe(1);
  });

  it('unsubscribes exactly the string that was subscribed', async () => {
    const feed = await connect(url);
    const topic = `customer_id:${cid}:call`;
    await subscribe(sim, feed, [topic]);
    // Neither a longer string nor a prefix of the subscribed one removes it.
    feed.ws.send(JSON.stringify({ type: 'unsubscribe', topics: [`${topic}:`, `customer_id:${cid}`] }));
    await subscribe(sim, feed, [`customer_id:${cid}:speaking`]); // processed after the unsubscribe

    const kept = sim.startInboundCall({ from: '+15550001111', to: '+15550002222' });
    await roundTrip(feed);
    expect(feed.frames.filter((f) => f['id'] === kept.id)).not.toHaveLength(0);

    feed.ws.send(JSON.stringify({ type: 'unsubscribe', topics: [topic] }));
    await subscribe(sim, feed, [`customer_id:${cid}:transcribe`]);
    const dropped = hangupCall(sim);
    await dropped.ended;
    await roundTrip(feed);
    expect(feed.frames.filter((f) => f['id'] === dropped.id)).toEqual([]);
  });

  it('refuseSockets closes open sockets and answers 503 until lifted', async () => {
    const feed = await connect(url);
    expect(sim.openSockets()).toBe(1);

    sim.refuseSockets(true);
    expect(sim.openSockets()).toBe(0);
    expect(await closeCode(feed)).toBe(1012);
    const down = await refused(url);
    expect(down.status).toBe(503);
    expect(down.body['error']).toMatchObject({ status: 'UNAVAILABLE', reason: 'SERVICE_UNAVAILABLE' });

    sim.refuseSockets(false);
    await connect(url);
    expect(sim.openSockets()).toBe(1);
    expect(sim.socketAttempts.map((a) => a.accepted)).toEqual([true, false, true]);
  });

  it('close() drops the open sockets', async () => {
    const feed = await connect(url);
    const closing = sim.close();
    expect(await closeCode(feed)).toBe(1006);
    await closing;
  });
});

describe('VoIPBIN simulator WebSocket frames', () => {
  it('wraps frames as {type, data} when asked', async () => {
    const sim = await startSimulator({ accessKey: KEY, wsFrames: 'wrapped' });
    try {
      const feed = await connect(`${sim.wsUrl}?accesskey=${KEY}`);
      await subscribe(sim, feed, [`customer_id:${sim.customer.id}:call`]);
      const call = hangupCall(sim);
      await call.ended;
      await roundTrip(feed);
      await sim.webhooksIdle();

      const bodies = sim.webhooks.map((w) => JSON.parse(w.body) as Frame);
      expect(bodies.map((b) => b['type'])).toEqual([
        'call_created',
        'call_ringing',
        'call_progressing',
        'call_hangup',
      ]);
      expect(feed.frames).toEqual(bodies.flatMap((b) => [b, b]));
    } finally {
      dropClients();
      await sim.close();
    }
  });
});

describe('WebSocketHub', () => {
  const cid = randomUUID();

  it('publishes under customer_id:<cid>:<resource>:<id> and customer_id:<cid>:<resource>:<type>:<id>', () => {
    const id = randomUUID();
    expect(eventTopics('transcript_created', { id, customer_id: cid })).toEqual([
      `customer_id:${cid}:transcript:${id}`,
      `customer_id:${cid}:transcript:transcript_created:${id}`,
    ]);
    expect(eventTopics('transcribe_speech_started', { id, customer_id: cid })[0]).toBe(
      `customer_id:${cid}:transcribe:${id}`,
    );
    expect(eventTopics('nounderscore', { id, customer_id: cid })).toEqual([]);
    expect(eventTopics('call_created', { id })).toEqual([]);
  });

  describe('keepalive', () => {
    let server: Server;
    let hub: WebSocketHub;
    let url: string;

    beforeEach(async () => {
      hub = new WebSocketHub({
        accessKey: KEY,
        customerId: cid,
        frames: 'bare',
        pingIntervalMs: 20,
        pongTimeoutMs: 150,
      });
      server = createServer();
      hub.attach(server);
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0/ws?accesskey=${KEY}`;
    });
    afterEach(async () => {
      dropClients();
      hub.close();
      server.close();
      await once(server, 'close');
    });

    it('pings every interval, and drops a socket that stopped answering pongs', async () => {
      const answering = await connect(url);
      const silent = await connect(url, { autoPong: false });
      let pings = 0;
      answering.ws.on('ping', () => (pings += 1));

      expect(await closeCode(silent)).toBe(1006);
      expect(pings).toBeGreaterThanOrEqual(3);
      expect(answering.ws.readyState).toBe(WebSocket.OPEN);
      expect(hub.openSockets()).toBe(1);
    });
  });
});
