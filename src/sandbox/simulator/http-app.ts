import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError, errors, type InjectedStatus } from './api-error';
import { authenticate } from './auth';
import { requestIdFor } from './clock';
import type { RouteContext, RouteDef } from './route';
import type { RecordedRequest, SimLog } from './types';

/**
 * The express app: X-Request-Id on every response, accesskey auth on every /v1.0 route, the error
 * envelope, every request recorded. Handlers receive plain data (see route.ts).
 */

export interface SimAppOptions {
  accessKey: string;
  routes: RouteDef[];
  requests: RecordedRequest[];
  /** Faults injected on purpose (faults.ts): an error status instead of the route, or a delay. */
  faults?: (path: string) => { status?: InjectedStatus; delayMs: number };
  log?: SimLog;
}

interface Locals {
  requestId: string;
  record: RecordedRequest;
  rawBody: string | undefined;
}

function locals(res: Response): Locals {
  return res.locals as Locals;
}

function reply(res: Response, status: number, body: unknown): void {
  locals(res).record.status = status;
  res.status(status).json(body);
}

function replyError(res: Response, err: ApiError): void {
  reply(res, err.httpStatus, err.envelope(locals(res).requestId));
}

function parseRaw(raw: string | undefined): unknown {
  if (raw === undefined || raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Assigns the request id and records the request. */
function begin(opts: SimAppOptions, req: Request, res: Response, rawBody: string | undefined): void {
  const requestId = requestIdFor(req.header('x-request-id'));
  res.setHeader('X-Request-Id', requestId);
  const url = new URL(req.originalUrl, 'http://sim');
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (k !== 'accesskey' && !(k in query)) query[k] = v;
  const path = url.pathname.startsWith('/v1.0/') ? url.pathname.slice('/v1.0'.length) : url.pathname;
  const record: RecordedRequest = {
    method: req.method,
    path,
    query,
    body: parseRaw(rawBody),
    status: 0,
    at: performance.now(),
  };
  opts.requests.push(record);
  Object.assign(res.locals, { requestId, record, rawBody } satisfies Locals);
}

export function createSimApp(opts: SimAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.text({ type: () => true, limit: '1mb' }));

  app.use((req: Request, res: Response, next: NextFunction) => {
    begin(opts, req, res, typeof req.body === 'string' ? req.body : undefined);
    next();
  });

  const auth = (req: Request, res: Response, next: NextFunction) => {
    const failure = authenticate(opts.accessKey, req.headers, req.originalUrl);
    if (failure) replyError(res, failure);
    else next();
  };

  // After auth, before the route: a fault answers in its place, or holds it back.
  const faulty = (_req: Request, res: Response, next: NextFunction) => {
    const fault = opts.faults?.(locals(res).record.path) ?? { delayMs: 0 };
    const go = () => (fault.status ? replyError(res, errors.injected(fault.status)) : next());
    if (fault.delayMs > 0) setTimeout(go, fault.delayMs);
    else go();
  };

  const router = express.Router();
  for (const route of opts.routes) {
    router[route.method](route.path, auth, faulty, (req: Request, res: Response) => {
      const rawBody = locals(res).rawBody;
      const ctx: RouteContext = {
        params: req.params as Record<string, string>,
        query: new URL(req.originalUrl, 'http://sim').searchParams,
        json: () => {
          if (rawBody === undefined || rawBody.trim() === '') throw errors.invalidJson();
          try {
            return JSON.parse(rawBody) as unknown;
          } catch {
            throw errors.invalidJson();
          }
        },
      };
      const result = route.handler(ctx);
      reply(res, result.status, result.body);
    });
  }
  app.use('/v1.0', router);

  app.use((_req: Request, res: Response) => replyError(res, errors.routeNotFound()));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    // A body parser failure comes before the recorder ran.
    if (!res.locals['record']) begin(opts, req, res, undefined);
    if (err instanceof ApiError) {
      replyError(res, err);
      return;
    }
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      replyError(res, errors.invalidJson());
      return;
    }
    opts.log?.('simulator request failed', { method: req.method, path: req.path, err });
    replyError(res, errors.internal());
  });

  return app;
}
