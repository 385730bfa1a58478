import {
  Clock,
  formatOffset,
  formatPageToken,
  formatTime,
  isUuid,
  newRequestId,
  parsePageToken,
} from '../../src/sandbox/simulator/clock';

describe('simulator time formats', () => {
  const micros = Date.UTC(2026, 0, 15, 9, 30, 0) * 1000 + 123_400;

  it('writes times like Go RFC3339Nano: microseconds, trailing zeros trimmed', () => {
    expect(formatTime(micros)).toBe('2026-01-15T09:30:00.1234Z');
    expect(formatTime(Date.UTC(2026, 0, 15) * 1000)).toBe('2026-01-15T00:00:00Z');
  });

  it('writes page tokens with six digits and reads them back', () => {
    expect(formatPageToken(micros)).toBe('2026-01-15T09:30:00.123400Z');
    expect(parsePageToken(formatPageToken(micros))).toBe(micros);
    expect(parsePageToken('2026-01-15T09:30:00.1234Z')).toBe(micros);
    expect(parsePageToken('yesterday')).toBeUndefined();
  });

  it('writes tm_transcript as an offset from year 0001', () => {
    expect(formatOffset(8991.84)).toBe('0001-01-01T00:00:08.99184Z');
    expect(formatOffset(61_000)).toBe('0001-01-01T00:01:01Z');
  });

  it('hands out strictly increasing timestamps', () => {
    const clock = new Clock();
    const seen = Array.from({ length: 50 }, () => clock.nowMicros());
    expect(seen.every((m, i) => i === 0 || m > (seen[i - 1] ?? 0))).toBe(true);
  });

  it('makes request ids and checks uuids', () => {
    expect(newRequestId()).toMatch(/^req_[0-9A-Z]{26}$/);
    expect(isUuid('3f1e6a8e-0000-4000-8000-000000000001')).toBe(true);
    expect(isUuid('00000000-0000-0000-0000-000000000000')).toBe(false);
    expect(isUuid('nope')).toBe(false);
  });
});
