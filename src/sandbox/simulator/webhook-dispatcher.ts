import { setMaxListeners } from 'node:events';
import { signBody } from '../../ingress/signature';
import type { DeliveredWebhook, SimLog } from './types';

const MAX_ATTEMPTS = 3;
const ATTEMPT_TIMEOUT_MS = 30_000;

export interface WebhookDispatcherOptions {
  getUri(): string | undefined;
  secret: string;
  retryDelayMs: number;
  record(webhook: DeliveredWebhook): void;
  log?: SimLog;
}

/**
 * Delivers events like VoIPBIN's webhook-manager: body `{"type","data"}`, POST, signed when the
 * customer has a secret, up to 3 attempts `retryDelayMs` apart, retried only on a transport error
 * or HTTP >= 500 (any other status counts as delivered), 30 s per attempt.
 *
 * Unlike VoIPBIN (fire-and-forget, one goroutine per event), deliveries that share a key (the call
 * id) are serialized, so a test sees one call's events in a deterministic order. A simplification
 * follows: an event being retried holds back the later events of the same call.
 */
export class WebhookDispatcher {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly controller = new AbortController();

  constructor(private readonly opts: WebhookDispatcherOptions) {
    setMaxListeners(0, this.controller.signal);
  }

  send(type: string, data: unknown, key: string): void {
    if (this.controller.signal.aborted) return;
    const body = JSON.stringify({ type, data });
    const at = performance.now();
    const previous = this.chains.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.deliver(type, body, at));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Resolves once nothing is queued or in flight. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.idle();
  }

  private async deliver(type: string, body: string, at: number): Promise<void> {
    const signal = this.controller.signal;
    if (signal.aborted) return;
    const uri = this.opts.getUri();
    if (!uri) {
      this.opts.record({ type, body, attempts: 0, finalStatus: 'error', at });
      return;
    }
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (this.opts.secret !== '') headers['X-VoIPBIN-Signature'] = signBody(this.opts.secret, body);

    let attempts = 0;
    let finalStatus: number | 'error' = 'error';
    let sentAt: number | undefined;
    let answeredAt: number | undefined;
    while (attempts < MAX_ATTEMPTS) {
      if (attempts > 0 && !(await this.pause(this.opts.retryDelayMs))) return;
      attempts += 1;
      sentAt = performance.now();
      answeredAt = undefined;
      try {
        const res = await fetch(uri, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        answeredAt = performance.now();
        finalStatus = res.status;
        if (res.status < 500) break;
      } catch {
        if (signal.aborted) return;
        finalStatus = 'error';
      }
      this.opts.log?.('webhook attempt failed', { type, attempt: attempts, status: finalStatus });
    }
    this.opts.record({ type, body, attempts, finalStatus, at, sentAt, answeredAt });
  }

  /** Waits ms; false when the dispatcher was closed meanwhile. */
  private pause(ms: number): Promise<boolean> {
    const signal = this.controller.signal;
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve(false);
        return;
      }
      const onAbort = () => {
        clearTimeout(handle);
        resolve(false);
      };
      const handle = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
