import { createHmac } from 'node:crypto';
import { signBody, verifySignature } from '../../src/ingress/signature';

const SECRET = 'Jq3Vx8Lk2Rz7Tn5Wm1Pd9Hs4Gb6Yc0Fa';
const body = Buffer.from(JSON.stringify({ type: 'call_progressing', data: { id: 'abc' } }));

describe('signBody', () => {
  it('is sha256=<hex HMAC-SHA256(secret, raw body)>', () => {
    const hex = createHmac('sha256', SECRET).update(body).digest('hex');
    expect(signBody(SECRET, body)).toBe(`sha256=${hex}`);
    expect(signBody(SECRET, body)).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('signs a string the same as its UTF-8 bytes', () => {
    const text = '{"message":"café ☕"}';
    expect(signBody(SECRET, text)).toBe(signBody(SECRET, Buffer.from(text, 'utf8')));
  });
});

describe('verifySignature', () => {
  it('accepts what signBody produced', () => {
    expect(verifySignature(SECRET, body, signBody(SECRET, body))).toBe(true);
  });

  it('accepts an empty body signed correctly', () => {
    const empty = Buffer.alloc(0);
    expect(verifySignature(SECRET, empty, signBody(SECRET, empty))).toBe(true);
  });

  it('rejects a signature made with another secret', () => {
    expect(verifySignature(SECRET, body, signBody('another-secret', body))).toBe(false);
  });

  it('rejects a tampered body', () => {
    const header = signBody(SECRET, body);
    const tampered = Buffer.from(body.toString().replace('abc', 'abd'));
    expect(verifySignature(SECRET, tampered, header)).toBe(false);
    expect(verifySignature(SECRET, Buffer.concat([body, Buffer.from(' ')]), header)).toBe(false);
  });

  it('rejects a missing or empty header', () => {
    expect(verifySignature(SECRET, body, undefined)).toBe(false);
    expect(verifySignature(SECRET, body, '')).toBe(false);
  });

  it('rejects a wrong or missing prefix', () => {
    const hex = signBody(SECRET, body).slice('sha256='.length);
    expect(verifySignature(SECRET, body, hex)).toBe(false);
    expect(verifySignature(SECRET, body, `sha1=${hex}`)).toBe(false);
    expect(verifySignature(SECRET, body, `sha512=${hex}`)).toBe(false);
    expect(verifySignature(SECRET, body, `sha256:${hex}`)).toBe(false);
  });

  it('rejects a truncated, extended or non-hex signature', () => {
    const header = signBody(SECRET, body);
    expect(verifySignature(SECRET, body, header.slice(0, -1))).toBe(false);
    expect(verifySignature(SECRET, body, `${header}0`)).toBe(false);
    expect(verifySignature(SECRET, body, `sha256=${'z'.repeat(64)}`)).toBe(false);
    expect(verifySignature(SECRET, body, 'sha256=')).toBe(false);
  });

  it('accepts uppercase hex, an uppercase prefix and surrounding whitespace', () => {
    const hex = signBody(SECRET, body).slice('sha256='.length);
    expect(verifySignature(SECRET, body, `sha256=${hex.toUpperCase()}`)).toBe(true);
    expect(verifySignature(SECRET, body, `SHA256=${hex.toUpperCase()}`)).toBe(true);
    expect(verifySignature(SECRET, body, `  sha256=${hex}\t`)).toBe(true);
  });

  it('does not throw on a header whose bytes differ in length from its characters', () => {
    // Non-ASCII: the same character count as a real signature, a different byte count.
    expect(verifySignature(SECRET, body, `sha256=${'é'.repeat(64)}`)).toBe(false);
  });
});
