import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../logger';
import type { AgentMetrics } from '../metrics';
import { metricsRoute } from '../runtime/metrics-server';
import { isRetryable } from '../voipbin/errors';
import { EventShapeError, parseWebhookEvent } from '../voipbin/events';
import { callPagesRouter } from './call-pages';
import type { CallReads } from './call-reads';
import { TemporalUnavailableError } from './call-workflows';
import type { EventRouter } from './event-router';
import type { Counters } from './metrics';
import { verifySignature } from './signature';

export interface IngressOptions {
  /** False (VOIPBIN_EVENTS=websocket): no webhook route; events come by the WebSocket only. */
  webhooks?: boolean;
  /** Every webhook must carry a valid `X-VoIPBIN-Signature` of this secret. */
  webhookSecret?: string;
  /**
   * With no secret, webhooks are refused (401): anyone reaching the ingress could otherwise put
   * words in a caller's mouth or hang a call up. True (VOIPBIN_WEBHOOK_ALLOW_UNSIGNED) accepts them.
   */
  allowUnsigned?: boolean;
  /** Larger bodies are refused with 413. */
  maxBodyBytes: number;
  /** ADMIN_TOKEN: the call pages' bearer token. Unset, they answer loopback clients only. */
  adminToken?: string;
  /** How often a running call's page refreshes itself (default 1500 ms). */
  callPageRefreshMs?: number;
}

export interface IngressDeps {
  router: EventRouter;
  /** True when Temporal answers: the ingress can accept events. */
  ready: () => Promise<boolean>;
  counters: Counters;
  /** Served at `GET /metrics`; webhook answers are counted by status. */
  metrics?: AgentMetrics;
  /** What the call pages (`GET /calls`, `GET /calls/<id>`) read; without it, there are none. */
  calls?: CallReads;
  log: Logger;
}

/**
 * The ingress: VoIPBIN webhooks in, workflow signals out. A webhook is answered 200 only once
 * Temporal has accepted its signal, so VoIPBIN retries anything that was not kept.
 */
export function createApp(options: IngressOptions, deps: IngressDeps): express.Express {
  const { counters, metrics, log } = deps;
  const reject = (res: Response, status: number, error: string): void => {
    counters.inc(`webhooks_rejected_${status}`);
    metrics?.webhookResponses.inc({ status: String(status) });
    res.status(status).json({ error });
  };
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const ready = await deps.ready().catch(() => false);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'temporal unreachable' });
  });

  if (metrics) {
    // The agent's own metrics and, in the same scrape, the Temporal SDK's worker metrics.
    app.get('/metrics', metricsRoute(metrics, log));
  }

  if (deps.calls) {
    app.use(
      callPagesRouter(
        { adminToken: options.adminToken, refreshMs: options.callPageRefreshMs },
        { reads: deps.calls, log },
      ),
    );
  }

  if (options.webhooks === false) {
    // Registered first, it answers before the route below is reached.
    app.post('/webhooks/voipbin', (_req, res) =>
      reject(res, 404, 'webhooks are off here: events come by the WebSocket (VOIPBIN_EVENTS)'),
    );
  }

  app.post(
    '/webhooks/voipbin',
    express.raw({ type: () => true, limit: options.maxBodyBytes }),
    async (req: Request, res: Response) => {
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      if (!options.webhookSecret && !options.allowUnsigned) {
        log.warn('webhook refused: no webhook secret is configured');
        return reject(
          res,
          401,
          'webhooks are refused: no webhook secret is configured (VOIPBIN_WEBHOOK_SECRET)',
        );
      }
      if (
        options.webhookSecret &&
        !verifySignature(options.webhookSecret, raw, req.get('x-voipbin-signature'))
      ) {
        log.warn('webhook refused: bad or missing signature');
        return reject(res, 401, 'invalid or missing X-VoIPBIN-Signature');
      }
      // VoIPBIN always sends JSON as such (API-NOTES §5).
      if (!req.is('application/json')) {
        log.warn('webhook refused: not JSON', { contentType: req.get('content-type') });
        return reject(res, 415, 'Content-Type must be application/json');
      }
      let event;
      try {
        event = parseWebhookEvent(JSON.parse(raw.toString('utf8')));
      } catch (err) {
        const message = err instanceof EventShapeError ? err.message : 'body is not valid JSON';
        log.warn('webhook refused: malformed body', { reason: message });
        return reject(res, 400, message);
      }
      try {
        const outcome = await deps.router.route(event, 'webhook');
        counters.inc('webhooks_accepted');
        metrics?.webhookResponses.inc({ status: '200' });
        log.debug('webhook accepted', { type: event.type, outcome });
        res.json({ result: outcome });
      } catch (err) {
        if (err instanceof TemporalUnavailableError || isRetryable(err)) {
          log.warn('webhook not accepted: a dependency is unreachable', { type: event.type, error: err });
          return reject(res, 503, 'temporarily unavailable, retry');
        }
        log.error('webhook failed', { type: event.type, error: err });
        return reject(res, 500, 'internal error');
      }
    },
  );

  // Errors from the body parser (oversized, aborted) and anything unexpected.
  app.use((err: { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.status === 413) return reject(res, 413, 'body too large');
    if (err.status && err.status >= 400 && err.status < 500) return reject(res, err.status, 'bad request');
    log.error('ingress error', { error: err as unknown as Error });
    reject(res, 500, 'internal error');
  });

  return app;
}
