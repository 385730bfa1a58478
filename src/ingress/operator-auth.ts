// Who may read the operator routes (the call pages show transcripts). With ADMIN_TOKEN set: the
// bearer of that token, or of a call's view token for that call's live data. Unset: loopback
// clients only, judged by the socket's address: X-Forwarded-For is whatever the client wrote.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from '../logger';
import { verifyViewToken } from './view-token';

/** 127.0.0.0/8 and ::1, as IPv4 or as IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  if (address === '::1') return true;
  return /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(address);
}

/** Compared in constant time: the digests are of equal length whatever was sent. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token of `Authorization: Bearer <token>`, if the request has one. */
export function bearerToken(req: Request): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '');
  return match?.[1];
}

export interface OperatorAuthOptions {
  adminToken?: string;
  /**
   * For a request a view token may make (a call's live data): the workflow id of that call.
   * Undefined: only ADMIN_TOKEN itself is accepted.
   */
  viewOf?: (req: Request) => string | undefined;
  log: Logger;
}

const REALM = 'Bearer realm="voipbin-agent"';

export function operatorAuth(opts: OperatorAuthOptions): RequestHandler {
  const { adminToken, log } = opts;
  return (req, res, next) => {
    if (!adminToken) {
      if (isLoopback(req.socket.remoteAddress)) return next();
      log.info('operator route refused: no ADMIN_TOKEN and not a loopback client', { path: req.path });
      res.status(403).json({
        error:
          'this route answers loopback clients only while ADMIN_TOKEN is unset: set ADMIN_TOKEN on the ingress and send Authorization: Bearer <ADMIN_TOKEN>',
      });
      return;
    }
    const bearer = bearerToken(req);
    if (bearer !== undefined) {
      if (sameSecret(bearer, adminToken)) return next();
      const call = opts.viewOf?.(req);
      if (call !== undefined && verifyViewToken(adminToken, call, bearer)) return next();
    }
    log.info('operator route refused: no valid bearer token', { path: req.path, sent: bearer !== undefined });
    res.set('WWW-Authenticate', bearer === undefined ? REALM : `${REALM}, error="invalid_token"`);
    res.status(401).json({
      error:
        bearer === undefined
          ? 'authorization required: send Authorization: Bearer <ADMIN_TOKEN>'
          : 'invalid or expired bearer token',
    });
  };
}
