import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { z } from 'zod';
import { type ApiError, errors } from './api-error';
import { authenticate } from './auth';
import { NIL_UUID, isUuid, requestIdFor } from './clock';
import type { SimLog, SocketAttempt, SocketSubscribe, WsFrames } from './types';

/**
 * The event feed at /v1.0/ws, as api-manager serves it (API-NOTES §6): REST auth before the
 * upgrade, subscribe/unsubscribe by topic prefix, every event published under each of its topics.
 */

export const WS_PATH = '/v1.0/ws';

export interface WebSocketHubOptions {
  accessKey: string;
  customerId: string;
  frames: WsFrames;
  /** api-manager: a ping every 10 s, and the socket dropped when no pong came for 60 s. */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  log?: SimLog;
}

/** What api-manager unmarshals a client frame into (hook.Hook); a frame that does not fit is ignored. */
const ClientFrame = z.object({ type: z.string().nullish(), topics: z.array(z.string()).nullish() });

/**
 * The topics api-manager publishes an event under (createTopics): `customer_id:<cid>:<resource>:<id>`
 * (old format), then `customer_id:<cid>:<resource>:<type>:<id>` (new format), where resource is
 * the type up to its first `_` and cid and id come from the event's data. The simulator has no
 * agents (no agent_id topics) and none of the resources that get special topics (aimessage, chat).
 */
export function eventTopics(type: string, data: unknown): string[] {
  const cut = type.indexOf('_');
  const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const customerId = fields['customer_id'];
  if (cut < 0 || !isUuid(customerId)) return [];
  const id = typeof fields['id'] === 'string' ? fields['id'] : NIL_UUID;
  const resource = type.slice(0, cut);
  return [
    `customer_id:${customerId}:${resource}:${id}`,
    `customer_id:${customerId}:${resource}:${type}:${id}`,
  ];
}

/** An HTTP error answered on the raw socket instead of the upgrade, then the socket closed. */
function rejectUpgrade(socket: Duplex, err: ApiError, requestId: string): void {
  const body = JSON.stringify(err.envelope(requestId));
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${err.httpStatus} ${STATUS_CODES[err.httpStatus]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `X-Request-Id: ${requestId}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

interface Subscriber {
  /** Subscribed topic prefixes; subscribing twice is a no-op, as in api-manager. */
  topics: Set<string>;
  lastPong: number;
}

export class WebSocketHub {
  readonly attempts: SocketAttempt[] = [];
  readonly subscribes: SocketSubscribe[] = [];
  private readonly wss = new WebSocketServer({ noServer: true, clientTracking: false });
  private readonly sockets = new Map<WebSocket, Subscriber>();
  private readonly customerId: string;
  private readonly pinger: NodeJS.Timeout;
  private refusing = false;

  constructor(private readonly opts: WebSocketHubOptions) {
    this.customerId = opts.customerId.toLowerCase();
    this.pinger = setInterval(() => this.keepalive(), opts.pingIntervalMs ?? 10_000);
    this.pinger.unref();
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  /** Sends the event to every socket with a subscription that prefixes the topic, once per topic. */
  publish(type: string, data: unknown): void {
    const topics = eventTopics(type, data);
    if (topics.length === 0 || this.sockets.size === 0) return;
    const frame = JSON.stringify(this.opts.frames === 'wrapped' ? { type, data } : data);
    for (const topic of topics) {
      for (const [ws, sub] of this.sockets) {
        if (ws.readyState !== WebSocket.OPEN) continue;
        if ([...sub.topics].some((prefix) => topic.startsWith(prefix))) ws.send(frame);
      }
    }
  }

  refuse(refuse: boolean): void {
    this.refusing = refuse;
    if (refuse) for (const ws of this.sockets.keys()) ws.close(1012, 'service restart');
  }

  openSockets(): number {
    return [...this.sockets.keys()].filter((ws) => ws.readyState === WebSocket.OPEN).length;
  }

  /** Drops every socket at once; an upgrade racing the shutdown is refused. */
  close(): void {
    this.refusing = true;
    clearInterval(this.pinger);
    for (const ws of this.sockets.keys()) ws.terminate();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const attempt: SocketAttempt = { at: performance.now(), accepted: false };
    this.attempts.push(attempt);
    const url = req.url ?? '/';
    const failure = this.refusing
      ? errors.unavailable()
      : new URL(url, 'http://sim').pathname !== WS_PATH
        ? errors.routeNotFound()
        : authenticate(this.opts.accessKey, req.headers, url);
    if (failure) {
      const given = req.headers['x-request-id'];
      rejectUpgrade(socket, failure, requestIdFor(typeof given === 'string' ? given : undefined));
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      attempt.accepted = true;
      this.accept(ws);
    });
  }

  private accept(ws: WebSocket): void {
    const sub: Subscriber = { topics: new Set(), lastPong: performance.now() };
    this.sockets.set(ws, sub);
    ws.on('pong', () => {
      sub.lastPong = performance.now();
    });
    ws.on('message', (raw, isBinary) => this.receive(ws, sub, raw, isBinary));
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('error', (err) => this.opts.log?.('simulator socket error', { err }));
  }

  /**
   * api-manager reads text frames only (a binary one ends the connection), ignores what does not
   * unmarshal, and drops the connection when any topic fails validation, whatever the type. It
   * drops the TCP connection without a close frame, so the client sees 1006.
   */
  private receive(ws: WebSocket, sub: Subscriber, raw: RawData, isBinary: boolean): void {
    if (isBinary) {
      ws.terminate();
      return;
    }
    let parsed: unknown;
    try {
      // binaryType is the default nodebuffer, so a message is one Buffer.
      parsed = JSON.parse((raw as Buffer).toString('utf8'));
    } catch {
      return;
    }
    const frame = ClientFrame.safeParse(parsed);
    if (!frame.success) return;
    const topics = frame.data.topics ?? [];
    if (!topics.every((t) => this.validTopic(t))) {
      ws.terminate();
      return;
    }
    if (frame.data.type === 'subscribe') {
      for (const t of topics) sub.topics.add(t);
      this.subscribes.push({ at: performance.now(), topics: [...topics] });
    } else if (frame.data.type === 'unsubscribe') {
      for (const t of topics) sub.topics.delete(t);
    }
  }

  /**
   * validateTopics for an accesskey (customer admin): `customer_id:<uuid>[:…]` with the customer's
   * own id (compared as a uuid, so case-insensitively). agent_id topics need an agent, which an
   * accesskey is not.
   */
  private validTopic(topic: string): boolean {
    const [scope, scopeId] = topic.split(':');
    return scope === 'customer_id' && isUuid(scopeId) && scopeId.toLowerCase() === this.customerId;
  }

  /** Pings every open socket; drops the ones whose last pong is older than pongTimeoutMs. */
  private keepalive(): void {
    const now = performance.now();
    for (const [ws, sub] of this.sockets) {
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (now - sub.lastPong > (this.opts.pongTimeoutMs ?? 60_000)) ws.terminate();
      else ws.ping();
    }
  }
}
