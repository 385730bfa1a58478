// The call pages: `GET /calls` (the recent and running calls, JSON) and `GET /calls/<id>` (one
// call's timeline: an HTML page that follows a running call, or JSON). They show transcripts, so
// every request passes `operatorAuth` first.
import express, { type Request, type Response } from 'express';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { formatIssues } from '../config-error';
import { callWorkflowIdOf, HistoryError } from '../histories';
import { CALL_STATUSES, SearchAttributeMissingError } from '../inspect/call-list';
import { renderCallMain, renderCallPage, renderMissingCallPage, type CallPageView } from '../inspect/page';
import type { Logger } from '../logger';
import type { CallReads } from './call-reads';
import { TemporalUnavailableError } from './call-workflows';
import { operatorAuth } from './operator-auth';
import { mintViewToken } from './view-token';

export interface CallPagesOptions {
  adminToken?: string;
  /** How often a running call's page refreshes itself. Default 1500 ms. */
  refreshMs?: number;
}

const MAX_LIMIT = 500;

const listQuery = z.strictObject({
  status: z.enum([...CALL_STATUSES, 'ended']).optional(),
  profile: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[^\p{Cc}]+$/u, 'no control characters')
    .optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(MAX_LIMIT))
    .default(50),
});

const pageQuery = z.strictObject({ format: z.enum(['html', 'json', 'fragment']).optional() });

/** A VoIPBIN call id (a UUID) or a workflow id (`call-<id>`). */
const CALL_ID = /^[\w.:-]{1,200}$/;

type Format = 'html' | 'json' | 'fragment';

function formatOf(req: Request): Format | Error {
  const parsed = pageQuery.safeParse(req.query);
  if (!parsed.success) return new Error(`invalid query:\n${formatIssues(parsed.error.issues)}`);
  return parsed.data.format ?? (req.accepts(['html', 'json']) === 'json' ? 'json' : 'html');
}

function noStore(res: Response): void {
  // Transcripts: never kept by a browser or a proxy.
  res.set('Cache-Control', 'no-store');
  res.set('X-Content-Type-Options', 'nosniff');
  res.set('Referrer-Policy', 'no-referrer');
}

export function callPagesRouter(
  options: CallPagesOptions,
  deps: { reads: CallReads; log: Logger },
): express.Router {
  const { reads, log } = deps;
  const router = express.Router();
  const refreshMs = options.refreshMs ?? 1500;

  const answerError = (res: Response, format: Format, err: unknown, callId?: string): void => {
    let status = 500;
    let message = 'internal error';
    if (err instanceof HistoryError && callId !== undefined) {
      status = 404;
      message = `no call ${callId}`;
    } else if (err instanceof SearchAttributeMissingError) {
      status = 400;
      message = err.message;
    } else if (err instanceof TemporalUnavailableError) {
      status = 503;
      message = 'Temporal is unreachable: try again';
      log.warn('call pages: Temporal is unreachable', { error: err });
    } else {
      log.error('call pages failed', { callId, error: err as Error });
    }
    if (format === 'json') {
      res.status(status).json({ error: message });
    } else if (status === 404 && format === 'html') {
      res.status(404).type('html').send(renderMissingCallPage(callId!));
    } else {
      res.status(status).type('text/plain').send(`${message}\n`);
    }
  };

  router.get('/calls', operatorAuth({ adminToken: options.adminToken, log }), async (req, res) => {
    noStore(res);
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) {
      res.status(400).json({ error: `invalid query:\n${formatIssues(parsed.error.issues)}` });
      return;
    }
    try {
      res.json({ calls: await reads.list(parsed.data) });
    } catch (err) {
      answerError(res, 'json', err);
    }
  });

  const callAuth = operatorAuth({
    adminToken: options.adminToken,
    // A view token reads its call's data; never the page, which would mint it a successor.
    viewOf: (req) => {
      const id = String(req.params['id']);
      return CALL_ID.test(id) && formatOf(req) !== 'html' ? callWorkflowIdOf(id) : undefined;
    },
    log,
  });

  router.get('/calls/:id', callAuth, async (req, res) => {
    noStore(res);
    res.vary('Accept');
    const id = String(req.params['id']);
    const format = formatOf(req);
    if (format instanceof Error) {
      res.status(400).json({ error: format.message });
      return;
    }
    if (!CALL_ID.test(id)) {
      answerError(res, format, new HistoryError('not a call id'), id.slice(0, 200));
      return;
    }
    let view: CallPageView;
    try {
      view = await reads.call(id);
    } catch (err) {
      answerError(res, format, err, id);
      return;
    }
    log.debug('call page served', { callId: view.timeline.callId, format });
    if (format === 'json') {
      res.json({ ...view.timeline, ...(view.temporalUi && { temporalUi: view.temporalUi }) });
    } else if (format === 'fragment') {
      res.type('html').send(renderCallMain(view).html);
    } else {
      const nonce = randomBytes(16).toString('base64');
      res.set(
        'Content-Security-Policy',
        `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      );
      res.type('html').send(
        renderCallPage(view, {
          refreshUrl: `/calls/${encodeURIComponent(id)}?format=fragment`,
          refreshMs,
          nonce,
          ...(options.adminToken && { viewToken: mintViewToken(options.adminToken, callWorkflowIdOf(id)) }),
        }),
      );
    }
  });

  return router;
}
