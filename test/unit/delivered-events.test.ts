import { DeliveredEvents } from '../../src/ingress/delivered-events';

describe('DeliveredEvents', () => {
  it('a status is news only when it is further than the furthest delivered for that call', () => {
    const d = new DeliveredEvents();
    expect(d.isNewStatus('c1', 'ringing')).toBe(true);
    d.statusDelivered('c1', 'progressing');
    expect(d.isNewStatus('c1', 'ringing')).toBe(false);
    expect(d.isNewStatus('c1', 'progressing')).toBe(false);
    expect(d.isNewStatus('c1', 'terminating')).toBe(true);
    expect(d.isNewStatus('c2', 'progressing')).toBe(true);
    // A late, older status delivered anyway does not lower the mark.
    d.statusDelivered('c1', 'ringing');
    expect(d.isNewStatus('c1', 'progressing')).toBe(false);
  });

  it('remembers the most recent calls and transcripts up to its capacity, forgetting the oldest', () => {
    const d = new DeliveredEvents(2);
    d.transcriptDelivered('t1');
    d.transcriptDelivered('t2');
    expect(d.isNewTranscript('t1')).toBe(false); // exactly at capacity: both kept
    d.transcriptDelivered('t1'); // used again: now the most recent
    d.transcriptDelivered('t3');
    expect([d.isNewTranscript('t1'), d.isNewTranscript('t2'), d.isNewTranscript('t3')]).toEqual([
      false,
      true,
      false,
    ]);
    d.statusDelivered('c1', 'hangup');
    d.statusDelivered('c2', 'hangup');
    expect(d.isNewStatus('c1', 'hangup')).toBe(false);
    d.statusDelivered('c3', 'hangup');
    expect([d.isNewStatus('c1', 'hangup'), d.isNewStatus('c2', 'hangup')]).toEqual([true, false]);
  });
});
