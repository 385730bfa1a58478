import type { IncomingMessage, ServerResponse } from 'node:http';

// The plain Node HTTP plumbing of the fake LLM server.

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (b: Buffer) => parts.push(b));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

export function writable(res: ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded;
}

export function sendJson(res: ServerResponse, status: number, body: object): void {
  if (!writable(res)) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// setTimeout fires at once for anything longer (about 24.8 days): such a wait is as good as forever.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolves true after `ms`, or false as soon as `signal` aborts (the client went away). An infinite
 * wait ends only then.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      resolve(false);
    };
    const timer =
      ms <= LONGEST_TIMER_MS
        ? setTimeout(() => {
            signal.removeEventListener('abort', onAbort);
            resolve(true);
          }, ms)
        : undefined;
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
