import WebSocket from 'ws';
import type { Logger } from '../logger';
import type { AgentMetrics } from '../metrics';
import { EventShapeError, parseSocketFrame, type VoipbinEvent } from '../voipbin/events';
import type { Counters } from './metrics';

/** Reconnect delays: 1 s, doubling, at most 30 s, each within ±20% (SPEC §4). */
export const SOCKET_BACKOFF = { initialMs: 1000, maxMs: 30_000, jitter: 0.2 };
/** VoIPBIN pings every 10 s: a minute without a frame or a ping means the connection is dead. */
const SILENT_CONNECTION_MS = 60_000;

export interface EventSocketOptions {
  /** ws(s)://host/v1.0/ws; the access key is added as `?accesskey=`. */
  url: string;
  accessKey: string;
  /**
   * The customer whose events to subscribe to (from `GET /customer`): asked before the first
   * connection, and again before each attempt until it answers (VoIPBIN may be down at start).
   */
  customerId: () => Promise<string>;
  /** Hands an event to the call workflows, as a webhook's would be. */
  route: (event: VoipbinEvent, path: 'websocket') => Promise<unknown>;
  /**
   * Called once connected after any failed attempt (a reconnect, or a late first connection): what
   * was published meanwhile never reached this socket.
   */
  onReconnected: () => void;
  counters: Counters;
  /** Connection state, connects, drops and frames, for `GET /metrics`. */
  metrics?: AgentMetrics;
  log: Logger;
  backoff?: typeof SOCKET_BACKOFF;
  /** For tests: the jitter's randomness. */
  random?: () => number;
}

/** The topics for every call, transcript and transcribe event of a customer (API-NOTES §6). */
export function customerTopics(customerId: string): string[] {
  return ['call', 'transcript', 'transcribe'].map((resource) => `customer_id:${customerId}:${resource}`);
}

/** The delay before reconnect attempt `attempt` (0 for the first after a drop). */
export function reconnectDelay(
  attempt: number,
  backoff = SOCKET_BACKOFF,
  random: () => number = Math.random,
): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** attempt);
  return Math.round(base * (1 - backoff.jitter + 2 * backoff.jitter * random()));
}

/** Events of one call (or one transcribe session) are handed over in the order they arrived. */
function orderKey(event: VoipbinEvent): string {
  switch (event.kind) {
    case 'call':
      return event.call.id;
    case 'transcript':
      return event.transcript.transcribe_id;
    case 'transcribe':
      return event.transcribe.id;
    case 'speech':
      // Its own line: speech waits a moment before it is signalled, never holding up the final.
      return `speech:${event.speech.transcribe_id}`;
    case 'unknown':
      return '';
  }
}

/**
 * VoIPBIN's event WebSocket: subscribes to the customer's call, transcript and transcribe topics,
 * reads both frame shapes, and hands each event to the router, which drops what it already
 * delivered (VoIPBIN may send an event twice on one socket, and again by webhook). It never gives
 * up: after a drop it reconnects with backoff, subscribes again, and has every running call
 * reconcile, since nothing replays what was published while it was down.
 */
export class EventSocket {
  private socket?: WebSocket;
  private attempt = 0;
  private everConnected = false;
  private closed = false;
  private retryTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private readonly chains = new Map<string, Promise<void>>();
  private customerId?: string;
  /** `connected` once subscribed; else `connecting` or `waiting` (for a reconnect). */
  state: 'connecting' | 'connected' | 'waiting' | 'closed' = 'connecting';

  constructor(private readonly opts: EventSocketOptions) {}

  start(): void {
    this.connect();
  }

  /** Stops reconnecting, closes the socket, and waits for the events already read to be handed over. */
  async close(): Promise<void> {
    this.closed = true;
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchdog);
    this.socket?.terminate();
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  private connect(): void {
    if (this.closed) return;
    this.state = 'connecting';
    if (this.customerId === undefined) {
      this.opts.customerId().then(
        (id) => {
          this.customerId = id;
          this.connect();
        },
        (err: unknown) => {
          this.opts.log.warn('event socket: the customer id is unknown (GET /customer failed)', {
            error: err instanceof Error ? err.message : String(err),
          });
          this.retry();
        },
      );
      return;
    }
    const { log, counters } = this.opts;
    const customerId = this.customerId;
    const url = new URL(this.opts.url);
    url.searchParams.set('accesskey', this.opts.accessKey);
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.on('open', () => {
      const reconnected = this.everConnected;
      // After a drop, or a first connection that took several attempts: events were missed.
      const missed = this.attempt > 0;
      this.everConnected = true;
      this.attempt = 0;
      this.state = 'connected';
      socket.send(JSON.stringify({ type: 'subscribe', topics: customerTopics(customerId) }));
      counters.inc(reconnected ? 'socket_reconnects' : 'socket_connects');
      this.opts.metrics?.socketConnects.inc({ kind: reconnected ? 'reconnect' : 'first' });
      this.opts.metrics?.socketConnected.set(1);
      log.info(reconnected ? 'event socket reconnected' : 'event socket connected', { url: this.opts.url });
      this.keepAlive();
      if (missed) this.opts.onReconnected();
    });
    socket.on('ping', () => this.keepAlive());
    socket.on('message', (data, isBinary) => {
      this.keepAlive();
      // Text frames only, as VoIPBIN sends them: a Buffer (one fragment) or its fragments.
      if (!isBinary)
        this.receive(
          Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(toBuffers(data)).toString('utf8'),
        );
    });
    socket.on('unexpected-response', (_req, res) => {
      log.warn('event socket refused', { status: res.statusCode });
      res.resume();
      socket.terminate();
    });
    socket.on('error', (err) => {
      log.warn('event socket error', { error: err.message });
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      clearTimeout(this.watchdog);
      this.socket = undefined;
      if (this.closed) return;
      counters.inc('socket_drops');
      this.opts.metrics?.socketDrops.inc();
      this.opts.metrics?.socketConnected.set(0);
      this.retry();
    });
  }

  /** The next attempt, after the backoff's delay. */
  private retry(): void {
    if (this.closed) return;
    const delay = reconnectDelay(this.attempt++, this.opts.backoff, this.opts.random);
    this.state = 'waiting';
    this.opts.log.warn('event socket down, reconnecting', { inMs: delay, attempt: this.attempt });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** A frame or a ping arrived: the connection is alive for another minute. */
  private keepAlive(): void {
    clearTimeout(this.watchdog);
    const socket = this.socket;
    this.watchdog = setTimeout(() => {
      this.opts.log.warn('event socket silent for a minute: dropping it');
      socket?.terminate();
    }, SILENT_CONNECTION_MS);
    this.watchdog.unref();
  }

  private receive(text: string): void {
    const { log, counters } = this.opts;
    let event: VoipbinEvent;
    try {
      event = parseSocketFrame(JSON.parse(text));
    } catch (err) {
      counters.inc('socket_frames_rejected');
      this.opts.metrics?.socketFrames.inc({ result: 'rejected' });
      const reason = err instanceof EventShapeError ? err.message : 'frame is not valid JSON';
      log.warn('event socket frame ignored', { reason });
      return;
    }
    counters.inc('socket_frames');
    this.opts.metrics?.socketFrames.inc({ result: 'event' });
    const key = orderKey(event);
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.handOver(event));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  private async handOver(event: VoipbinEvent): Promise<void> {
    try {
      await this.opts.route(event, 'websocket');
    } catch (err) {
      // No one retries a socket frame: the router has remembered the call when Temporal refused
      // it, and that call reconciles once Temporal is back.
      this.opts.counters.inc('socket_events_failed');
      this.opts.log.warn('event from the socket not handed over', { type: event.type, error: err });
    }
  }
}

function toBuffers(data: ArrayBuffer | Buffer[]): Buffer[] {
  return Array.isArray(data) ? data : [Buffer.from(data)];
}
