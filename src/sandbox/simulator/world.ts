import { Clock, formatTime } from './clock';
import type { CallRecord, SpeakingRecord, TranscribeRecord, TranscriptRecord } from './resources';
import { Timers } from './timers';
import type { PlaybackEvent, SimLog } from './types';

/** Everything the simulator knows: resources, the caller side of each call, clock and timers. */

export interface WorldConfig {
  customerId: string;
  speechCharsPerSecond: number;
  echoAgentSpeech: boolean;
  hangupDelayMs: number;
  log?: SimLog;
}

/** What a call looks like from the caller's phone, beside the VoIPBIN call record. */
export interface CallState {
  record: CallRecord;
  agentSaid: string[];
  heard: string[];
  callerSaid: string[];
  playback: {
    current?: { text: string; cancel: () => void };
    queue: string[];
    /** How many items started playing, ever. */
    starts: number;
  };
  /** Playback counters when the caller last spoke: "the agent said something new" is relative to it. */
  mark: { heard: number; starts: number };
  /** Called on every change a script may be waiting for. */
  waiters: Set<() => void>;
  /** Told as each text starts playing and on each /flush (SimCall.onPlayback). */
  playbackListeners: Set<(event: PlaybackEvent) => void>;
  ended: Promise<void>;
  resolveEnded: () => void;
}

export type Emit = (type: string, data: unknown, callId: string) => void;

export class World {
  readonly clock = new Clock();
  readonly timers = new Timers();
  readonly calls = new Map<string, CallState>();
  readonly speakings = new Map<string, SpeakingRecord>();
  readonly transcribes = new Map<string, TranscribeRecord>();
  readonly transcripts: TranscriptRecord[] = [];

  constructor(
    readonly config: WorldConfig,
    private readonly emitter: Emit,
  ) {}

  get customerId(): string {
    return this.config.customerId;
  }

  /** A new timestamp, as microseconds (for ordering) and as the server's text. */
  now(): { micros: number; text: string } {
    const micros = this.clock.nowMicros();
    return { micros, text: formatTime(micros) };
  }

  /** Publishes an event as a webhook and on the WebSocket feed; events of one call stay in order. */
  emit(type: string, data: unknown, callId: string): void {
    this.emitter(type, data, callId);
  }

  log(msg: string, fields?: Record<string, unknown>): void {
    this.config.log?.(msg, fields);
  }

  /** Wakes whatever waits on this call (scripts). */
  notify(call: CallState): void {
    for (const waiter of [...call.waiters]) waiter();
  }

  /** Resolves when pred() holds (checked now and on each notify) or the call has ended. */
  waitFor(call: CallState, pred: () => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => call.record.status === 'hangup' || pred();
      if (done()) {
        resolve();
        return;
      }
      if (this.timers.closed) {
        reject(new Error('simulator closed'));
        return;
      }
      const onAbort = () => {
        call.waiters.delete(check);
        reject(new Error('simulator closed'));
      };
      const check = () => {
        if (!done()) return;
        call.waiters.delete(check);
        this.timers.signal.removeEventListener('abort', onAbort);
        resolve();
      };
      call.waiters.add(check);
      this.timers.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  progressingTranscribes(callId: string): TranscribeRecord[] {
    return [...this.transcribes.values()].filter(
      (t) => t.referenceType === 'call' && t.referenceId === callId && t.status === 'progressing',
    );
  }
}
