import { createHmac, timingSafeEqual } from 'node:crypto';

/** `X-VoIPBIN-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>` (API-NOTES §5). */
export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function verifySignature(secret: string, body: Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signBody(secret, body));
  const given = Buffer.from(header.trim().toLowerCase());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
