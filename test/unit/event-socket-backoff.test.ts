import { customerTopics, reconnectDelay, SOCKET_BACKOFF } from '../../src/ingress/event-socket';

describe('reconnectDelay', () => {
  it('starts at 1 s, doubles, and stops growing at 30 s', () => {
    const middle = () => 0.5; // no jitter
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((n) => reconnectDelay(n, SOCKET_BACKOFF, middle))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('spreads each delay within ±20%', () => {
    expect(reconnectDelay(0, SOCKET_BACKOFF, () => 0)).toBe(800);
    expect(reconnectDelay(0, SOCKET_BACKOFF, () => 0.999_999)).toBe(1200);
    expect(reconnectDelay(9, SOCKET_BACKOFF, () => 0)).toBe(24_000);
    expect(reconnectDelay(9, SOCKET_BACKOFF, () => 0.999_999)).toBe(36_000);
  });
});

it('subscribes to the customer-wide call, transcript and transcribe topics (prefixes, no wildcard)', () => {
  expect(customerTopics('c1')).toEqual([
    'customer_id:c1:call',
    'customer_id:c1:transcript',
    'customer_id:c1:transcribe',
  ]);
});
