import { log } from '@temporalio/workflow';
import { voipbin } from './activities';
import { estimatePlaybackMs } from './playback';

/**
 * The speaking session, seen from the workflow: every `/say` and `/flush` goes through one
 * ordered queue, so a flush is always sent after the say in flight, and a sentence queued
 * before an interruption is dropped (its generation is stale), never said after the flush.
 */
export class Speaker {
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private generation = 0;
  /** Workflow time at which the last sentence sent should have finished playing. */
  playbackEndsAt = 0;

  constructor(private readonly speakingId: string) {}

  /** Something is queued or in flight. */
  get busy(): boolean {
    return this.queued > 0;
  }

  /** The caller would hear the agent now. */
  isSpeaking(now: number): boolean {
    return this.busy || now < this.playbackEndsAt;
  }

  /** Queues a sentence; `onSent` runs once VoIPBIN has accepted it. */
  say(text: string, onSent?: () => void): void {
    const generation = this.generation;
    this.enqueue(async () => {
      if (generation !== this.generation) return;
      await voipbin.say({ speakingId: this.speakingId, text });
      this.playbackEndsAt = Math.max(this.playbackEndsAt, Date.now()) + estimatePlaybackMs(text);
      onSent?.();
    });
  }

  /** Drops everything queued and flushes what VoIPBIN is playing. */
  interrupt(): void {
    this.generation++;
    this.enqueue(async () => {
      await voipbin.flush({ speakingId: this.speakingId });
      this.playbackEndsAt = Date.now();
    });
  }

  /** Drops everything queued without a request: the call is gone. */
  abandon(): void {
    this.generation++;
  }

  private enqueue(op: () => Promise<void>): void {
    this.queued++;
    this.tail = this.tail
      .then(op)
      .catch((err: unknown) => log.warn('speaking request failed', { error: (err as Error).message }))
      .finally(() => this.queued--);
  }
}
