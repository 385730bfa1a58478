import type { IncomingHttpHeaders } from 'node:http';
import { type ApiError, errors } from './api-error';

/** api-manager's authentication (API-NOTES §7), shared by the REST routes and the WebSocket upgrade. */

function cookies(headers: IncomingHttpHeaders): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    out.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
  }
  return out;
}

/**
 * api-manager's order: a JWT in cookie `token`, `?token=` or `Authorization: Bearer` wins, and the
 * simulator has no JWTs, so any of them is INVALID_CREDENTIALS. Then the accesskey, by cookie or
 * query. `url` is the request's path and query.
 */
export function authenticate(
  accessKey: string,
  headers: IncomingHttpHeaders,
  url: string,
): ApiError | undefined {
  const jar = cookies(headers);
  const params = new URL(url, 'http://sim').searchParams;
  const bearer = /^Bearer\s+\S/i.test(headers.authorization ?? '');
  if (jar.has('token') || params.has('token') || bearer) return errors.invalidCredentials();
  const key = jar.get('accesskey') ?? params.get('accesskey');
  if (key === null || key === undefined || key === '') return errors.authRequired();
  return key === accessKey ? undefined : errors.invalidCredentials();
}
