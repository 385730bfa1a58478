// A read-only pass for one call's live data: the call page embeds one, so that its own refreshes
// (which a browser cannot give the operator's bearer header) are let in. It grants nothing else:
// not the page itself (a pass could otherwise renew itself), not another call, not the list.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const VIEW_TOKEN_TTL_MS = 60 * 60 * 1000;
const PREFIX = 'view';

function signature(key: string, workflowId: string, expires: number): Buffer {
  // Its own label, so that this MAC of ADMIN_TOKEN means nothing anywhere else.
  return createHmac('sha256', key).update(`voipbin-agent call view v1\n${workflowId}\n${expires}`).digest();
}

/** `view.<expiry, unix seconds>.<HMAC-SHA256 of the call's workflow id and the expiry, base64url>`. */
export function mintViewToken(
  key: string,
  workflowId: string,
  nowMs = Date.now(),
  ttlMs = VIEW_TOKEN_TTL_MS,
): string {
  const expires = Math.floor((nowMs + ttlMs) / 1000);
  return `${PREFIX}.${expires}.${signature(key, workflowId, expires).toString('base64url')}`;
}

/** The token was minted with `key` for this call and has not expired. */
export function verifyViewToken(key: string, workflowId: string, token: string, nowMs = Date.now()): boolean {
  const match = /^view\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return false;
  const expires = Number(match[1]);
  if (expires * 1000 <= nowMs) return false;
  const given = Buffer.from(match[2]!, 'base64url');
  const expected = signature(key, workflowId, expires);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
