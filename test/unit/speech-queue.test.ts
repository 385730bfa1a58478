import { SPEECH_CHARS_PER_SECOND, estimatePlaybackMs } from '../../workflows/playback';
import * as speech from '../../workflows/speech-queue';
import type { SpeechOp, SpeechQueue, Utterance } from '../../workflows/speech-queue';

const utterance = (kind: Utterance['kind'] = 'reply'): Utterance => ({ kind, interrupted: false });
const describeOp = (op: SpeechOp | undefined) => (op ? (op.kind === 'say' ? op.text : 'flush') : undefined);

/** Sends every request in turn, each completed at `now`; returns what went out. */
function drain(q: SpeechQueue, now: number): string[] {
  const sent: string[] = [];
  for (let op = speech.next(q, now); op; op = speech.next(q, now)) {
    sent.push(describeOp(op)!);
    speech.done(q, op.id, 'done', now);
  }
  return sent;
}

describe('playback estimate', () => {
  it('is the text at about 150 words a minute', () => {
    expect(SPEECH_CHARS_PER_SECOND).toBe(15);
    expect(estimatePlaybackMs('')).toBe(0);
    expect(estimatePlaybackMs('a'.repeat(15))).toBe(1000);
    expect(estimatePlaybackMs('a'.repeat(16))).toBe(1067);
  });
});

describe('speech queue', () => {
  it('sends one request at a time, in order', () => {
    const q = speech.newSpeechQueue();
    const u = utterance();
    speech.say(q, 'One.', u);
    speech.say(q, 'Two.', u);
    const first = speech.next(q, 0);
    expect(describeOp(first)).toBe('One.');
    expect(speech.next(q, 0)).toBeUndefined(); // not while One. is in flight
    expect(speech.isBusy(q)).toBe(true);
    speech.done(q, first!.id, 'done', 0);
    expect(describeOp(speech.next(q, 0))).toBe('Two.');
  });

  it('ignores the completion of a request that is not in flight', () => {
    const q = speech.newSpeechQueue();
    speech.say(q, 'One.', utterance());
    const op = speech.next(q, 0)!;
    expect(speech.done(q, op.id + 1, 'done', 0)).toBeUndefined();
    expect(q.inFlight).toBe(op);
  });

  it('estimates when playback ends: back to back from the later of now and the end of the last', () => {
    const q = speech.newSpeechQueue();
    const u = utterance();
    speech.say(q, 'a'.repeat(30), u); // 2 s
    speech.say(q, 'b'.repeat(15), u); // 1 s
    drain(q, 1000);
    expect(q.playbackEndsAt).toBe(4000);
    expect(speech.isSpeaking(q, 3999)).toBe(true);
    expect(speech.isSpeaking(q, 4000)).toBe(false);
    speech.say(q, 'c'.repeat(15), u);
    drain(q, 10_000);
    expect(q.playbackEndsAt).toBe(11_000);
  });

  it('counts playback from when a say was sent: VoIPBIN plays it on arrival', () => {
    const q = speech.newSpeechQueue();
    speech.say(q, 'a'.repeat(15), utterance()); // 1 s
    const op = speech.next(q, 1000)!;
    speech.done(q, op.id, 'done', 1400); // its answer took 400 ms
    expect(q.playbackEndsAt).toBe(2000);
  });

  it('interrupt: drops what is queued, flushes after the say in flight, marks both cut utterances', () => {
    const q = speech.newSpeechQueue();
    const greeting = utterance('greeting');
    const reply = utterance();
    speech.say(q, 'Hello.', greeting);
    drain(q, 0); // playing until about 400 ms
    speech.say(q, 'Sure.', reply);
    speech.say(q, 'Queued.', reply);
    const inFlight = speech.next(q, 0)!;
    speech.interrupt(q, 100);
    expect(greeting.interrupted).toBe(true);
    expect(reply.interrupted).toBe(true);
    expect(q.queued.map(describeOp)).toEqual(['flush']);
    speech.done(q, inFlight.id, 'done', 120);
    expect(drain(q, 150)).toEqual(['flush']);
    expect(q.playbackEndsAt).toBe(150);
    expect(speech.isSpeaking(q, 150)).toBe(false);
  });

  it('interrupt: no flush when nothing can be playing, one flush however often interrupted', () => {
    const q = speech.newSpeechQueue();
    speech.interrupt(q, 0);
    expect(q.queued).toEqual([]);
    speech.say(q, 'Hello there, how are you?', utterance());
    drain(q, 0);
    speech.interrupt(q, 10);
    speech.interrupt(q, 20);
    expect(q.queued.map(describeOp)).toEqual(['flush']);
    const flush = speech.next(q, 0)!;
    speech.interrupt(q, 30); // a flush in flight covers it
    expect(q.queued).toEqual([]);
    speech.done(q, flush.id, 'done', 40);
    expect(q.playbackEndsAt).toBe(40);
  });

  it('a say to a session that is gone goes out again first, unless it was cut off meanwhile', () => {
    const q = speech.newSpeechQueue();
    const u = utterance();
    speech.say(q, 'One.', u);
    speech.say(q, 'Two.', u);
    const one = speech.next(q, 0)!;
    speech.done(q, one.id, 'gone', 0);
    expect(q.queued.map(describeOp)).toEqual(['One.', 'Two.']);
    expect(q.playbackEndsAt).toBe(0);
    const again = speech.next(q, 0)!;
    speech.interrupt(q, 5);
    speech.done(q, again.id, 'gone', 10);
    expect(q.queued.map(describeOp)).toEqual(['flush']);
  });

  it('interrupt at the very moment playback ends cuts nothing', () => {
    const q = speech.newSpeechQueue();
    const u = utterance();
    speech.say(q, 'a'.repeat(15), u); // 1 s
    drain(q, 0);
    speech.interrupt(q, 1000);
    expect(u.interrupted).toBe(false);
    expect(q.queued).toEqual([]);
  });

  it('a say to a session that is gone: nothing plays on it any more', () => {
    const q = speech.newSpeechQueue();
    speech.say(q, 'a'.repeat(150), utterance()); // 10 s
    drain(q, 0);
    speech.say(q, 'b', utterance());
    const op = speech.next(q, 1000)!;
    speech.done(q, op.id, 'gone', 1000);
    expect(q.playbackEndsAt).toBe(1000);
  });

  it('a refused say is not played', () => {
    const q = speech.newSpeechQueue();
    speech.say(q, 'x', utterance());
    const op = speech.next(q, 0)!;
    speech.done(q, op.id, 'rejected', 0);
    expect(q.playbackEndsAt).toBe(0);
    expect(q.lastSaid).toBeUndefined();
  });

  it('abandon: nothing more is sent', () => {
    const q = speech.newSpeechQueue();
    speech.say(q, 'One.', utterance());
    speech.say(q, 'Two.', utterance());
    speech.next(q, 0);
    speech.abandon(q);
    expect(q.queued).toEqual([]);
  });

  it('markInterrupted marks the message already in the conversation', () => {
    const u = utterance();
    u.message = { role: 'agent', text: 'Hi.', at: 0, kind: 'reply' };
    speech.markInterrupted(u);
    expect(u.message.interrupted).toBe(true);
  });
});
