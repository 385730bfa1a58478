// The event WebSocket against the simulator's, which behaves as VoIPBIN's (API-NOTES §6): bare or
// wrapped frames, each event twice on a customer-wide subscription, connections refused for a
// while. What reaches the call workflows is recorded (RecordingWorkflows).
import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import { EventRouter } from '../../src/ingress/event-router';
import { customerTopics, EventSocket, SOCKET_BACKOFF } from '../../src/ingress/event-socket';
import { Counters } from '../../src/ingress/metrics';
import { RefusedEvents } from '../../src/ingress/refused-events';
import { lookupTranscribeCall } from '../../src/ingress/transcribe-lookup';
import { silentLogger } from '../../src/logger';
import { startSimulator, type Simulator } from '../../src/sandbox/simulator';
import { VoipbinClient } from '../../src/voipbin/client';
import { RecordingWorkflows, type Recorded } from '../helpers/recording-workflows';
import { waitFor } from '../helpers/wait-for';

const CALLER = '+15550003333';
const AGENT = '+15550004444';

interface Setup {
  simulator: Simulator;
  workflows: RecordingWorkflows;
  counters: Counters;
  socket: EventSocket;
  reconnected: number[];
  close: () => Promise<void>;
}

async function setup(frames: 'bare' | 'wrapped'): Promise<Setup> {
  // No webhook URI: the socket is the only way in, as for an agent on a laptop.
  const simulator = await startSimulator({ accessKey: 'socket-key', wsFrames: frames });
  const workflows = new RecordingWorkflows();
  // Temporal takes a while to accept a signal: the socket's second copy of an event arrives meanwhile.
  workflows.respond = () => new Promise((resolve) => setTimeout(() => resolve('delivered'), 30));
  const counters = new Counters();
  const refused = new RefusedEvents({ workflows, counters, log: silentLogger });
  const voipbin = new VoipbinClient({ baseUrl: simulator.baseUrl, apiKey: simulator.accessKey });
  const router = new EventRouter({
    workflows,
    agent: DEFAULT_AGENT_CONFIG,
    lookupTranscribe: lookupTranscribeCall(voipbin),
    refused,
    counters,
    log: silentLogger,
  });
  const reconnected: number[] = [];
  const socket = new EventSocket({
    url: simulator.wsUrl,
    accessKey: simulator.accessKey,
    customerId: async () => simulator.customer.id,
    route: (event) => router.route(event),
    onReconnected: () => reconnected.push(performance.now()),
    counters,
    log: silentLogger,
  });
  socket.start();
  await waitFor(() => simulator.socketSubscribes.length === 1, 'the subscription');
  return {
    simulator,
    workflows,
    counters,
    socket,
    reconnected,
    close: async () => {
      await socket.close();
      await refused.close();
      await simulator.close();
    },
  };
}

/** What the workflows were told, one line each. */
function told(calls: Recorded[]): string[] {
  return calls.map((c) => {
    if (c.method === 'runningCalls') return c.method;
    if (c.method === 'reconcile') return `${c.method} ${c.request.reason}`;
    if (c.method === 'speech') return `speech ${c.speech.text ?? `(${c.speech.eventType})`}`;
    const e = c.event;
    return `${c.method} ${e.kind === 'call' ? e.status : `${e.direction} ${e.text}`}`;
  });
}

/** A call answered, a transcribe session on it, the caller saying something, then hanging up. */
async function callWithWords(s: Setup): Promise<string> {
  const call = s.simulator.startInboundCall({
    from: CALLER,
    to: AGENT,
    script: { steps: [{ pause: 60_000 }] },
  });
  // As the call workflow does: the transcribe session once the call is known to be answered.
  await waitFor(() => told(s.workflows.calls).includes('signalWithStart progressing'), 'the answer');
  const voipbin = new VoipbinClient({ baseUrl: s.simulator.baseUrl, apiKey: s.simulator.accessKey });
  await voipbin.createTranscribe({
    reference_type: 'call',
    reference_id: call.id,
    language: 'en-US',
    direction: 'both',
  });
  call.speak('Where is my parcel?');
  await waitFor(() => told(s.workflows.calls).includes('signal in Where is my parcel?'), 'the transcript');
  call.hangup();
  await call.ended;
  await waitFor(() => told(s.workflows.calls).includes('signal hangup'), 'the hangup');
  return call.id;
}

describe.each(['bare', 'wrapped'] as const)('%s frames', (frames) => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup(frames);
  });
  afterEach(() => s.close());

  it("a call's events reach its workflow in order, each once though the socket sent it twice", async () => {
    expect(s.simulator.socketSubscribes[0]!.topics).toEqual(customerTopics(s.simulator.customer.id));
    const callId = await callWithWords(s);
    await s.socket.close(); // every frame read is handed over
    // (A call not yet answered may start its workflow: a status is a signal-with-start, but a
    // `ringing` after a start this ingress delivered, which keeps the start's delay going.)
    const started = s.workflows.calls.filter((c) => c.method === 'signalWithStart');
    expect(started.map((c) => c.method === 'signalWithStart' && c.input.callId)).toEqual([callId, callId]);
    expect(told(s.workflows.calls)).toEqual([
      'signalWithStart dialing',
      'signal ringing',
      'signalWithStart progressing',
      // (The caller's words came with their final at once: the final says it all, no speech signal.)
      'signal in Where is my parcel?',
      'signal hangup',
    ]);
    // Every one of those came twice (old and new topic); the second was dropped as a duplicate.
    expect(s.counters.get('events_duplicate')).toBeGreaterThanOrEqual(5);
    expect(s.counters.get('socket_frames_rejected')).toBe(0);
  });
});

describe('a socket refused for a while', () => {
  let s: Setup;
  beforeEach(async () => {
    s = await setup('bare');
  });
  afterEach(() => s.close());

  it('reconnects after 1, 2, 4 s (±20%), subscribes again, and has the running calls reconcile', async () => {
    const refusedAt = performance.now();
    s.simulator.refuseSockets(true);
    await waitFor(() => s.socket.state === 'waiting', 'the drop');
    // Two attempts refused (about 1 s and 3 s after the drop), the third (about 7 s) let in.
    await waitFor(() => s.simulator.socketAttempts.length >= 3, 'two refused attempts', 8000);
    s.simulator.refuseSockets(false);
    await waitFor(() => s.simulator.socketSubscribes.length === 2, 'the second subscription', 10_000);

    const attempts = s.simulator.socketAttempts.slice(1); // the first is the one that was dropped
    expect(attempts.map((a) => a.accepted)).toEqual([false, false, true]);
    const times = [refusedAt, ...attempts.map((a) => a.at)];
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const { initialMs, jitter } = SOCKET_BACKOFF;
    gaps.forEach((gap, i) => {
      const base = initialMs * 2 ** i;
      expect(gap).toBeGreaterThanOrEqual(base * (1 - jitter) - 20);
      expect(gap).toBeLessThanOrEqual(base * (1 + jitter) + 250);
    });
    expect(s.simulator.socketSubscribes[1]!.topics).toEqual(customerTopics(s.simulator.customer.id));
    expect(s.reconnected).toHaveLength(1);
    expect(s.counters.get('socket_reconnects')).toBe(1);

    // Events flow again over the new connection.
    await callWithWords(s);
  }, 30_000);
});

it('asks for the customer again until VoIPBIN answers, then subscribes and has the calls reconcile', async () => {
  const simulator = await startSimulator({ accessKey: 'socket-key' });
  const reconnected: number[] = [];
  let asked = 0;
  const socket = new EventSocket({
    url: simulator.wsUrl,
    accessKey: simulator.accessKey,
    customerId: async () => {
      if (++asked < 3) throw new Error('GET /customer failed (ECONNREFUSED)');
      return simulator.customer.id;
    },
    route: async () => undefined,
    onReconnected: () => reconnected.push(performance.now()),
    counters: new Counters(),
    log: silentLogger,
    backoff: { initialMs: 50, maxMs: 200, jitter: 0.2 },
  });
  try {
    socket.start();
    await waitFor(() => simulator.socketSubscribes.length === 1, 'the subscription');
    expect(asked).toBe(3);
    expect(simulator.socketAttempts).toHaveLength(1);
    // Events published while it could not connect never reached it: the calls reconcile.
    expect(reconnected).toHaveLength(1);
  } finally {
    await socket.close();
    await simulator.close();
  }
});
