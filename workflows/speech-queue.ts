// The speaking session's outbox, as plain data: every `/say` and `/flush` of a call in one order,
// one request at a time. VoIPBIN plays what it receives in the order it arrives, so two requests
// in flight at once could swap; and a flush must reach VoIPBIN after the say it cuts off.
import { estimatePlaybackMs } from './playback';
import type { ConversationMessage } from './messages';

/** One thing the agent says (a greeting, a reply, ...): its sentences go out one by one. */
export interface Utterance {
  kind: NonNullable<ConversationMessage['kind']>;
  /** Created when its first sentence is sent: only what was sent is in the conversation. */
  message?: ConversationMessage;
  /** The caller talked over it. */
  interrupted: boolean;
}

export type SpeechOp =
  | {
      id: number;
      kind: 'say';
      text: string;
      utterance: Utterance;
      /** The first sentence of a reply: workflow time at which the caller's words were heard. */
      heardAt?: number;
      /** When it was sent: VoIPBIN starts playing it on arrival, not when its answer comes back. */
      sentAt?: number;
    }
  | {
      id: number;
      kind: 'flush';
      /**
       * Cuts a speaking turn's step off (`interrupt` with a turn): sent once its cancellation is recorded,
       * after the `/say` it may have in flight; `playing`: something sent before it may still play.
       */
      turn?: { turnId: number; step: number; playing: boolean };
    };

export interface SpeechQueue {
  queued: SpeechOp[];
  inFlight?: SpeechOp;
  nextId: number;
  /** Workflow time at which what was sent should have finished playing (VoIPBIN does not say). */
  playbackEndsAt: number;
  /** The utterance whose sentence was sent last: what the caller hears until `playbackEndsAt`. */
  lastSaid?: Utterance;
}

/** How a request ended, as far as the caller is concerned. */
export type SpeechOutcome =
  /** Sent; or maybe sent (a timeout, a 5xx): at most once, so it counts as said and is never resent. */
  | 'done'
  /** The speaking session is gone (404): nothing was said, the say goes out again on a new session. */
  | 'gone'
  /** VoIPBIN refused it (4xx): not said. */
  | 'rejected';

/** Something new to say, not yet cut off. */
export function utterance(kind: Utterance['kind']): Utterance {
  return { kind, interrupted: false };
}

export function newSpeechQueue(): SpeechQueue {
  return { queued: [], nextId: 1, playbackEndsAt: 0 };
}

/** A request is queued or in flight. */
export function isBusy(q: SpeechQueue): boolean {
  return q.inFlight !== undefined || q.queued.length > 0;
}

/** A flush is on its way: what was playing is being cut off already. */
export function isFlushing(q: SpeechQueue): boolean {
  return q.inFlight?.kind === 'flush' || q.queued.some((op) => op.kind === 'flush');
}

/** The caller would hear the agent now. */
export function isSpeaking(q: SpeechQueue, now: number): boolean {
  return isBusy(q) || now < q.playbackEndsAt;
}

export function say(q: SpeechQueue, text: string, utterance: Utterance, heardAt?: number): void {
  q.queued.push({ id: q.nextId++, kind: 'say', text, utterance, heardAt });
}

/**
 * The caller talks over the agent: sentences not yet sent are dropped (they belong to what was
 * interrupted), and a flush is queued behind the say in flight, unless nothing can be playing.
 * Marks what is cut off as interrupted. Over a speaking `turn` (its LLM activity sends its own
 * `/say`s, unknown to this queue) the flush always goes out, as the turn's (FlushTurnInput): it
 * waits for the turn's last `/say` and sends `/flush` if anything still plays.
 */
export function interrupt(q: SpeechQueue, now: number, turn?: { turnId: number; step: number }): void {
  if (q.inFlight?.kind === 'say') markInterrupted(q.inFlight.utterance);
  if (q.lastSaid && now < q.playbackEndsAt) markInterrupted(q.lastSaid);
  const playing = q.inFlight?.kind === 'say' || (q.inFlight === undefined && now < q.playbackEndsAt);
  if (turn) {
    q.queued = [{ id: q.nextId++, kind: 'flush', turn: { ...turn, playing } }];
    return;
  }
  const flushQueued = q.queued.some((op) => op.kind === 'flush');
  q.queued = q.queued.filter((op) => op.kind === 'flush');
  if (playing && !flushQueued) q.queued.push({ id: q.nextId++, kind: 'flush' });
}

/** The call is gone: nothing more is sent (what is in flight finishes on its own). */
export function abandon(q: SpeechQueue): void {
  q.queued = [];
}

/** The next request to send at `now`, if none is in flight. */
export function next(q: SpeechQueue, now: number): SpeechOp | undefined {
  if (q.inFlight) return undefined;
  q.inFlight = q.queued.shift();
  if (q.inFlight?.kind === 'say') q.inFlight.sentAt = now;
  return q.inFlight;
}

/** The request in flight ended. Returns the op, or undefined when `id` is not the one in flight. */
export function done(
  q: SpeechQueue,
  id: number,
  outcome: SpeechOutcome,
  now: number,
  charsPerSecond?: number,
): SpeechOp | undefined {
  const op = q.inFlight;
  if (!op || op.id !== id) return undefined;
  q.inFlight = undefined;
  if (op.kind === 'flush') {
    q.playbackEndsAt = now;
    return op;
  }
  if (outcome === 'gone') {
    // Nothing plays on a session that is gone. The say goes out again, first, once a new session
    // exists; unless the caller has cut it off meanwhile.
    q.playbackEndsAt = Math.min(q.playbackEndsAt, now);
    if (!op.utterance.interrupted) q.queued.unshift(op);
  } else if (outcome === 'done') {
    q.playbackEndsAt =
      Math.max(q.playbackEndsAt, op.sentAt ?? now) + estimatePlaybackMs(op.text, charsPerSecond);
    q.lastSaid = op.utterance;
  }
  return op;
}

export function markInterrupted(u: Utterance): void {
  u.interrupted = true;
  if (u.message) u.message.interrupted = true;
}
