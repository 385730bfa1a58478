import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal local webhook receiver for tests: records every request, answers with a
 * status chosen per request (200 by default).
 */

export interface ReceivedWebhook {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** `type` of the `{type, data}` body; '' when the body is not such JSON. */
  type: string;
  data: unknown;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Decides the answer to each request (default 200). */
  respond: (hook: ReceivedWebhook, index: number) => number;
  close(): Promise<void>;
}

function parse(body: string): { type: string; data: unknown } {
  try {
    const parsed = JSON.parse(body) as { type?: unknown; data?: unknown };
    return { type: typeof parsed.type === 'string' ? parsed.type : '', data: parsed.data };
  } catch {
    return { type: '', data: undefined };
  }
}

export async function startWebhookReceiver(host = '127.0.0.1'): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = {
    url: '',
    received: [],
    respond: () => 200,
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const hook: ReceivedWebhook = { method: req.method ?? '', headers: req.headers, body, ...parse(body) };
      receiver.received.push(hook);
      res.statusCode = receiver.respond(hook, receiver.received.length - 1);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://${host}:${port}/hooks`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}
