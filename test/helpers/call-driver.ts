// Drives the pure call-state module as the workflow would, with a clock of its own: every
// command is recorded, and speech requests are completed on demand.
import type { FlushTurnResult, ReconcileResult, ToolResult } from '../../activities/types';
import * as call from '../../workflows/call-state';
import type { CallSettings, CallState, Command, TurnOutcome } from '../../workflows/call-state';
import type { CallStatus, SentenceReady } from '../../workflows/messages';
import type { SpeechOutcome } from '../../workflows/speech-queue';
import { backchannelRule } from '../../workflows/turn-taking';

export const SETTINGS: CallSettings = {
  greeting: 'Hello, how can I help?',
  repromptText: 'Are you still there?',
  goodbyeText: 'Thank you for calling. Goodbye.',
  apologyText: 'Sorry, could you say that again?',
  silenceMs: 30_000,
  maxReprompts: 2,
  maxCallMs: 1_800_000,
  contextMessages: 40,
  language: 'en-US',
  backchannel: backchannelRule('en-US', undefined, 3),
  unfinishedWaitMs: 800,
  speechCharsPerSecond: 15,
  bargeIn: 'words',
  bargeInWords: 2,
  tools: {},
  toolFillerDelayMs: 1000,
};

/** A command as a short line, for asserting exact sequences. */
export function describeCommand(c: Command): string {
  switch (c.kind) {
    case 'speak':
      if (c.op.kind === 'say') return `say ${c.op.text} @${c.speakingId}`;
      if (c.op.turn)
        return `flushTurn ${c.op.turn.turnId}${c.op.turn.step ? ` step ${c.op.turn.step}` : ''}${c.op.turn.playing ? ' playing' : ''} @${c.speakingId}`;
      return `flush @${c.speakingId}`;
    case 'startTurn': {
      const line = c.step ? `startTurn ${c.turnId} step ${c.step}` : `startTurn ${c.turnId}`;
      return c.speakingId ? `${line} speaking @${c.speakingId}` : line;
    }
    case 'callTool':
      return `callTool ${c.call.name} ${c.call.arguments} (turn ${c.turnId} step ${c.step} #${c.index})`;
    case 'transfer':
      return `transfer ${c.to}`;
    case 'cancelTurn':
      return `cancelTurn ${c.turnId}`;
    case 'reconcile':
      return 'reconcile';
    case 'finish':
      return `finish ${c.transcribeId ?? '-'} ${c.speakingId ?? '-'}`;
    case 'createSessions':
    case 'createSpeaking':
    case 'hangup':
      return c.kind;
    default:
      // Not a command at all (toEqual would ignore an undefined line).
      return `not a command: ${JSON.stringify(c)}`;
  }
}

export class CallDriver {
  readonly s: CallState;
  now = 0;
  /** Every command, described, in order. */
  readonly log: string[] = [];
  /** The commands of the last step. */
  last: Command[] = [];
  private transcripts = 0;

  constructor(settings: Partial<CallSettings> = {}, state?: CallState) {
    this.s =
      state ??
      call.newCall({ callId: 'call-1', profileName: 'default', settings: { ...SETTINGS, ...settings } }, 0);
  }

  /**
   * The call's next run, as continue-as-new starts it: from what this run carries, through JSON
   * (the payload converter), with the same settings and clock.
   */
  rollOver(): CallDriver {
    const carried = JSON.parse(JSON.stringify(call.carry(this.s))) as call.CarriedCall;
    const next = new CallDriver({}, call.resume(carried, this.s.settings));
    next.now = this.now;
    next.transcripts = this.transcripts;
    return next;
  }

  step(fn: (s: CallState, now: number) => Command[]): string[] {
    this.last = fn(this.s, this.now);
    const lines = this.last.map(describeCommand);
    this.log.push(...lines);
    return lines;
  }

  status(status: CallStatus): string[] {
    return this.step((s, now) => call.onCallStatus(s, status, now));
  }

  caller(text: string, opts: { id?: string; direction?: 'in' | 'out'; createdAt?: string } = {}): string[] {
    const id = opts.id ?? `t-${++this.transcripts}`;
    return this.step((s, now) =>
      call.onTranscript(s, { id, direction: opts.direction ?? 'in', text, createdAt: opts.createdAt }, now),
    );
  }

  sentence(turnId: number, seq: number, text: string, attempt = 1, step = 0): string[] {
    const sentence: SentenceReady = { turnId, seq, text, attempt, ...(step && { step }) };
    return this.step((s, now) => call.onSentence(s, sentence, now));
  }

  /** The tool call `index` of the turn's `step` returned `result`. */
  toolDone(turnId: number, step: number, index: number, result: ToolResult): string[] {
    return this.step((s, now) => call.onToolDone(s, { turnId, step, index }, result, now));
  }

  transferDone(result: ToolResult): string[] {
    return this.step((s, now) => call.onTransferDone(s, result, now));
  }

  turnDone(turnId: number, outcome: TurnOutcome = { kind: 'completed', endCall: false }): string[] {
    return this.step((s, now) => call.onTurnDone(s, turnId, outcome, now));
  }

  sessions(
    ids: { transcribeId?: string; speakingId?: string } = { transcribeId: 'tr-1', speakingId: 'sp-1' },
  ) {
    return this.step((s, now) => call.onSessions(s, ids, now));
  }

  /** The speech request in flight ends with `outcome`. */
  spoken(outcome: SpeechOutcome = 'done'): string[] {
    const op = this.s.speech.inFlight;
    if (!op) throw new Error('no speech request in flight');
    return this.step((s, now) => call.onSpeechDone(s, op.id, outcome, now));
  }

  /** A speaking turn's flush (in flight) returned `result`. */
  flushed(result: FlushTurnResult, outcome: SpeechOutcome = 'done'): string[] {
    const op = this.s.speech.inFlight;
    if (op?.kind !== 'flush' || !op.turn) throw new Error('no turn flush in flight');
    return this.step((s, now) => call.onSpeechDone(s, op.id, outcome, now, result));
  }

  /** Completes speech requests until none is in flight; returns what was sent. */
  drain(): string[] {
    const sent: string[] = [];
    while (this.s.speech.inFlight) {
      const op = this.s.speech.inFlight;
      sent.push(op.kind === 'say' ? op.text : 'flush');
      this.spoken();
    }
    return sent;
  }

  /** VoIPBIN's answer to the reconcile in flight: nothing new by default; `'unreadable'` when it failed. */
  reconciled(result: ReconcileResult | 'unreadable' = { call: 'progressing', transcripts: [] }): string[] {
    return this.step((s, now) => call.onReconciled(s, result === 'unreadable' ? undefined : result, now));
  }

  /** Lets `ms` pass, firing every deadline that falls due on the way, at its time. */
  advance(ms: number): string[] {
    const until = this.now + ms;
    const lines: string[] = [];
    for (;;) {
      const wake = call.nextWakeAt(this.s);
      if (wake === undefined || wake > until) break;
      this.now = Math.max(this.now, wake);
      lines.push(...this.step((s, now) => call.onTimer(s, now)));
      if (call.nextWakeAt(this.s) === wake) throw new Error(`deadline ${wake} did not move`);
    }
    this.now = until;
    return lines;
  }

  /** Lets `ms` pass as `advance` does, VoIPBIN finding nothing new each time it is asked. */
  advanceReconciling(ms: number): void {
    const until = this.now + ms;
    while (this.now < until) {
      this.advance(Math.min(1000, until - this.now));
      const status = this.s.status === 'unknown' ? 'ringing' : this.s.status;
      if (this.s.reconcile.inFlight) this.reconciled({ call: status, transcripts: [] });
    }
  }

  /** An answered call: sessions created, the greeting sent and played. */
  static answered(settings: Partial<CallSettings> = {}): CallDriver {
    const d = new CallDriver(settings);
    d.status('progressing');
    d.sessions();
    d.drain();
    d.now += 10_000; // the greeting has played
    return d;
  }
}
