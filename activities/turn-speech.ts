// A speaking turn (`LlmTurnInput.speak`) says its own reply: the LLM activity sends each sentence
// to `/say` itself instead of signalling it to the workflow, which would then need a workflow task
// and a `say` activity before the first sentence is heard. What keeps a sentence from being said
// twice is the activity's heartbeat details: each sentence is recorded there, synchronously on the
// server, before its `/say` goes out, and an attempt that follows a dead worker's goes on after
// what was recorded. `flushTurn` cuts such a turn off at a barge-in, from the same record.

import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { VoipbinClient } from '../src/voipbin/client';
import { VoipbinApiError, VoipbinResponseError } from '../src/voipbin/errors';
import { heardOf, playsUntil } from '../workflows/turn-speech';
import { cutsIn, type CallerHeard } from '../workflows/turn-taking';
import { toActivityFailure } from './failures';
import type { CallExecution, TurnChannel } from './turn-channel';
import type {
  FlushTurnInput,
  FlushTurnResult,
  LlmActivities,
  SpokenSentence,
  TurnBargeIn,
  TurnCutOnHearing,
  TurnSpeech,
  TurnSpoken,
} from './types';

/** How often `flushTurn` reads the turn's record again while a `/say` of it is in flight. */
export const FLUSH_POLL_MS = 15;

/**
 * How long `flushTurn` waits, at most, for a `/say` in flight to be answered: a `/say` is normally
 * answered in well under a second; one that takes longer is taken as said and the flush goes out.
 */
export const FLUSH_WAIT_MS = 3000;

/**
 * A speaking turn's failure carries what it said as its last detail, so that the workflow knows
 * what the caller heard whichever way the turn failed. The failure keeps its type, message and
 * retry behaviour; an error that is not an ApplicationFailure becomes a retryable one named after it.
 */
export function withSpoken(err: unknown, spoken: TurnSpoken): ApplicationFailure {
  const failure = toActivityFailure(err);
  if (failure instanceof ApplicationFailure) {
    return ApplicationFailure.create({
      type: failure.type ?? undefined,
      message: failure.message,
      nonRetryable: failure.nonRetryable ?? undefined,
      nextRetryDelay: failure.nextRetryDelay ?? undefined,
      details: [...(failure.details ?? []), { spoken }],
      cause: failure.cause instanceof Error ? failure.cause : undefined,
    });
  }
  const error = failure instanceof Error ? failure : new Error(String(failure));
  return ApplicationFailure.create({
    type: error.name,
    message: error.message,
    details: [{ spoken }],
    cause: error,
  });
}

export interface TurnSpeakerOptions {
  channel: TurnChannel;
  voipbin: VoipbinClient;
  speakingId: string;
  /** The activity's task token: what its records are written against. */
  taskToken: Uint8Array;
  /**
   * The activity's cancellation (its `Context`). The workflow's own (`cancelRequested`: a barge-in
   * or a hangup, which the SDK's heartbeat may bring before any record's answer) stops the turn as
   * a record's answer does: the turn ends with what it said. Any other (a worker shutdown, a
   * timed-out attempt) aborts a `/say` in flight: `halted`.
   */
  cancellation: Pick<Context, 'cancellationSignal' | 'cancellationDetails'>;
  /** What an earlier attempt recorded (`Info.heartbeatDetails`); undefined on a first attempt. */
  prior?: TurnSpeech;
  /** How often the speech is recorded when nothing else records it: the turn's heartbeat. */
  recordEveryMs: number;
  /**
   * When the server scheduled this attempt (`Info.currentAttemptScheduledTimestampMs`): its
   * heartbeat timeout runs from about then, however late this worker starts the turn. Unknown:
   * from `start()`.
   */
  scheduledAt?: number;
  /** What the caller says that cuts the turn off, told here by this process's ingress (`heard`). */
  bargeIn?: TurnBargeIn;
  /** The turn must stop (cancelled, or this attempt is dead): the model's stream is aborted. */
  onStop: () => void;
  log: Context['log'];
  /**
   * The SDK's own heartbeat (`Context.heartbeat`), given the speech just recorded. sdk-core cancels
   * an activity that has not called it for its heartbeat timeout plus 5 s, and then drops its
   * result (it takes the server to have given up on it). Called every SDK_HEARTBEAT_EVERY_MS.
   */
  sdkHeartbeat?: (speech: TurnSpeech) => void;
}

/**
 * A turn cut off in this process by the workflow's task (`cutTurn`) waits at most this long, before
 * it ends, for that task's cancellation to reach the server. (One that cut itself off on hearing
 * the caller, its flush done, does not wait: `TurnSpeaker.finish`.)
 */
export const CUT_WAIT_FOR_CANCEL_MS = 5000;

/**
 * How long a turn that ended on hearing the caller stays findable by `cutTurn` after its activity
 * ended: the workflow task that takes the caller's words may run after the turn's result is in,
 * or before, on a saturated worker seconds later; either way it finds the flush done here.
 */
export const ENDED_ON_HEARING_KEPT_MS = 60_000;

/** How often the SDK's own heartbeat is given the speech: well inside sdk-core's 5.5 s. */
export const SDK_HEARTBEAT_EVERY_MS = 2000;

/**
 * After the SDK's heartbeat, how long the next record waits. The SDK sends it on a connection of
 * its own, at the same moment as the record of the same speech: a record of newer speech that
 * overtook it would be overwritten with the older one (the server keeps the last details it gets),
 * and the sentence it recorded would be said again after a crash. So no record follows it closely.
 */
export const SDK_HEARTBEAT_HOLD_MS = 100;

/**
 * Says a turn's sentences, one at a time and in order, and records the turn's speech before each
 * `/say` and after it. Every record goes through one chain, never two at once, so the server's
 * copy never goes back to an older one; a record's speech is taken when it is sent, so it is the
 * newest. Besides the records around each `/say`, the speech is recorded once `recordEveryMs` has
 * passed since the last record was sent: that is the turn's heartbeat (the SDK's own heartbeats are
 * throttled and sent later, and would overwrite these details out of order).
 *
 * Each record is a write on the server (it keeps a call's mutable state), the commonest request a
 * call makes: none is sent that tells the server nothing. A first attempt started on time has said
 * nothing, which is what the server holds already; its last record is skipped when the speech is
 * the one recorded last, or when the turn's result follows at once and says it all (`finish`); a
 * heartbeat waits a full `recordEveryMs` after any record.
 *
 * The workflow's cancellation (a record answered `cancelRequested`, or the SDK's heartbeat brought
 * it first) stops the turn: no `/say` after it, the one in flight is still waited for. A record
 * that fails means the server has moved on from this attempt (it timed out and was retried):
 * nothing more is said or recorded.
 */
export class TurnSpeaker {
  /** What the caller heard, in order, from the first attempt on. */
  private readonly said: SpokenSentence[];
  /** The speaking session was gone: these were not said, for the workflow to say elsewhere. */
  private readonly unsaid: string[] = [];
  /** Recorded and then sent to `/say`, not yet answered. */
  private saying?: { text: string; at: number };
  private gone = false;
  private readonly queue: string[] = [];
  /** The sentences' chain: each `say` adds a run that says what is queued by then. */
  private pumping: Promise<void> = Promise.resolve();
  private records: Promise<void> = Promise.resolve();
  /** When the SDK's heartbeat was last given the speech. */
  private sdkHeartbeatAt = 0;
  private recordsUnderWay = 0;
  /** The speech of the last record sent (as JSON): the server holds it, or a newer one. */
  private recorded?: string;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private deadWith?: { error: unknown };
  private readonly dead: Promise<void>;
  private markDead: () => void = () => undefined;
  /** Cut off: a record was answered `cancelRequested`, or a cut in this process (`cut`) silenced it. */
  cancelled = false;
  /** Silenced by `cut`, before the server's cancellation reached it. */
  private cutHere = false;
  /** When it was cut off (here, or by an earlier attempt): recorded, so that no later attempt goes on. */
  private cutAt?: number;
  /**
   * Cut off by what the caller said, heard by this process's ingress before the workflow (`heard`):
   * the flush that went out then, if one did, and when. `cutTurn` then sends none of its own.
   */
  private flushedOnHearing?: Promise<FlushedOnHearing | undefined>;
  /**
   * Cut off on hearing the caller, and its flush done (or nothing of it still played): the turn
   * ends without waiting for the workflow's cancellation, its result says so. Unset when the flush
   * failed: the workflow's cut flushes, and the turn waits for it as for any cut of the workflow's.
   */
  private cutOnHearing?: TurnCutOnHearing;
  /** `finish` was called: the model's stream is over, nothing more is queued after what is. */
  private ending?: { completing: boolean };
  /** The last `/say` was answered 2xx (true before any). */
  private lastSayOk = true;
  /** A `/say` sent and not yet answered: settles once its outcome is in `said` (never rejects). */
  private sending?: Promise<void>;
  /** A record was answered `cancelRequested`: the workflow's cancellation is on the server. */
  private readonly cancelRecorded: Promise<void>;
  private markCancelRecorded: () => void = () => undefined;
  /** The sentences earlier attempts said: the reply goes on after them. */
  readonly prefix: string[];
  private readonly halt = new AbortController();
  /**
   * Aborted when the activity is cancelled other than by the workflow (a worker shutdown, a
   * timed-out attempt): the attempt ends at once, with the cancellation.
   */
  readonly halted: AbortSignal = this.halt.signal;

  constructor(private readonly opts: TurnSpeakerOptions) {
    this.said = heardOf(opts.prior);
    this.prefix = this.said.map((s) => s.text);
    if (opts.prior?.cut !== undefined) {
      // An earlier attempt was cut off: this one says nothing (llmTurn asks the model nothing).
      this.cancelled = true;
      this.cutAt = opts.prior.cut;
    }
    this.dead = new Promise((resolve) => (this.markDead = resolve));
    this.cancelRecorded = new Promise((resolve) => (this.markCancelRecorded = resolve));
    const { cancellation } = opts;
    const signal = cancellation.cancellationSignal;
    const onCancel = () => {
      if (cancellation.cancellationDetails?.cancelRequested) this.cancelledByWorkflow();
      else this.halt.abort(signal.reason);
    };
    if (signal.aborted) onCancel();
    else signal.addEventListener('abort', onCancel, { once: true });
  }

  /**
   * Starts the turn's heartbeat. A later attempt records its speech at once: it may hold a sentence
   * an earlier attempt left in flight, now taken as said. A first attempt has said nothing, as the
   * server's (empty) record says: its first heartbeat is due `recordEveryMs` after the attempt was
   * scheduled, at once if this worker starts it that late (a busy one can: the server's heartbeat
   * timeout does not wait for it).
   */
  start(): void {
    const now = Date.now();
    this.sdkHeartbeatAt = now;
    if (this.opts.prior) {
      void this.record();
      return;
    }
    this.recorded = JSON.stringify(this.speech());
    const late = this.opts.scheduledAt === undefined ? 0 : now - this.opts.scheduledAt;
    this.heartbeatLater(Math.max(0, this.opts.recordEveryMs - late));
  }

  /** The next heartbeat: `recordEveryMs` after the last record sent (or `inMs`). */
  private heartbeatLater(inMs = this.opts.recordEveryMs): void {
    clearTimeout(this.timer);
    if (this.closed || this.deadWith) return;
    this.timer = setTimeout(() => {
      if (this.recordsUnderWay > 0) this.heartbeatLater();
      else void this.record({ sdk: Date.now() - this.sdkHeartbeatAt >= SDK_HEARTBEAT_EVERY_MS });
    }, inMs);
  }

  /**
   * Queues sentences to be said after those already queued. A run is chained for each call (one
   * with nothing left to say ends at once): a sentence queued while the run before is finishing
   * is never left behind.
   */
  say(sentences: string[]): void {
    if (!sentences.length) return;
    this.queue.push(...sentences);
    this.pumping = this.pumping.then(() => this.pump());
  }

  /** A record failed: this attempt is no longer the running one. */
  isDead(): boolean {
    return !!this.deadWith;
  }

  /** Throws what a record failed with, if one did: this attempt must end, saying nothing more. */
  throwIfDead(): void {
    if (this.deadWith) throw this.deadWith.error;
  }

  /**
   * Waits until every queued sentence is said (or skipped, once stopped), then records the final
   * speech. Returns at once when the attempt turns out dead. A turn cut off by the workflow's task
   * (`cutTurn`) first waits (at most CUT_WAIT_FOR_CANCEL_MS) for that task's cancellation to reach
   * the server, which takes milliseconds: the turn ends after it, as any cancelled turn (a
   * completion that overtook it would be a no-op to the server, but the time-skipping test server
   * refuses the workflow task that cancels it). One cut off on hearing the caller ends once its
   * flush is answered (`endedOnHearing`); the real server takes the cancellation of the workflow
   * task that comes after it, and sdk-core drops it when the result came first.
   */
  async finish({ completing = false } = {}): Promise<void> {
    this.ending = { completing };
    await Promise.race([this.pumping, this.dead]);
    // A cut on hearing: its flush is answered first, and then the turn ends at once. Waiting for
    // the workflow's cancellation would keep it recording five times a second for as long as the
    // workflow task that takes the caller's words waits, seconds on a saturated worker.
    if (this.flushedOnHearing) await Promise.race([this.flushedOnHearing, this.dead]);
    if (this.cutHere && !this.cutOnHearing) {
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<void>((r) => (timer = setTimeout(r, CUT_WAIT_FOR_CANCEL_MS)));
      await Promise.race([this.cancelRecorded, this.dead, waited]);
      clearTimeout(timer);
    }
    // Its result, sent next, says what it said: a last record would tell the server nothing. (Were
    // the result lost with this worker, the last record holds the last sentence as `saying`, which
    // the next attempt takes as said: as it was.) Unless the last `/say` failed or found the
    // session gone, or the turn was cut off: then the last record says so.
    if (this.completesClean()) return;
    await Promise.race([this.record({ ifChanged: true }), this.dead]);
  }

  /** `finish({ completing })` with nothing for a last record to add (see there). */
  private completesClean(): boolean {
    return !!this.ending?.completing && this.lastSayOk && !this.gone && !this.cancelled && !this.deadWith;
  }

  /**
   * Cuts the turn off here and now (`cutTurn`, in the workflow task that decided it): no `/say`
   * starts after this; one in flight is waited for. Returns what the caller was sent, and whether
   * a `/say` was still out when the cut came (it may be starting to play). Undefined when this
   * attempt is dead: a newer one may be running elsewhere, and only the server's record tells.
   */
  async cut(): Promise<{ spoken: TurnSpoken; inFlight: boolean } | undefined> {
    if (this.deadWith) return undefined;
    const inFlight = this.sending !== undefined;
    if (!this.cancelled) {
      this.cancelled = true;
      this.cutHere = true;
      this.cutAt = Date.now();
      this.opts.onStop();
      // On the server at once: should it time this attempt out before the workflow's cancellation
      // comes (a stalled workflow task), the next attempt must not go on with the reply.
      void this.record();
    }
    await this.sending;
    // What was sent, nothing more: a sentence being recorded now is never sent.
    const said = heardOf({ said: this.said });
    return {
      spoken: { said, ...(this.unsaid.length > 0 && { unsaid: [...this.unsaid] }), at: Date.now() },
      inFlight,
    };
  }

  /**
   * The caller said something (this process's ingress heard it as it handed it to the workflow):
   * if the workflow will take it for a barge-in (the turn's rule, the workflow's own: `cutsIn`),
   * the turn is cut off now and what it said that still plays is flushed, without waiting for the
   * workflow's task. The workflow's cut (`cutTurn`) then finds it done. Returns whether it cut.
   */
  heard(heard: CallerHeard): boolean {
    const rule = this.opts.bargeIn;
    if (!rule || this.stopped || !cutsIn(rule, heard)) return false;
    this.flushedOnHearing = this.cutAndFlush(rule, Date.now());
    return true;
  }

  /** The flush sent on hearing the caller, once it is answered; undefined: none went out. */
  flushedEarly(): Promise<FlushedOnHearing | undefined> {
    return this.flushedOnHearing ?? Promise.resolve(undefined);
  }

  /**
   * Cut off on hearing the caller, its flush done: when, and what the flush did (for the turn's
   * result). Undefined otherwise, or while the flush is under way (`finish` waits for it).
   */
  endedOnHearing(): TurnCutOnHearing | undefined {
    return this.cutOnHearing && { ...this.cutOnHearing };
  }

  private async cutAndFlush(rule: TurnBargeIn, at: number): Promise<FlushedOnHearing | undefined> {
    const cut = await this.cut();
    if (!cut) return undefined;
    if (this.gone || !stillPlays(cut, rule.charsPerSecond)) {
      // Nothing of it plays: no flush of its own. (What the workflow said before it may: the
      // workflow flushes that, as it knows, when it takes this cut.)
      this.cutOnHearing = { at, flushed: false };
      return undefined;
    }
    try {
      const flushed = await flushSession(this.opts.voipbin, this.opts.speakingId, this.halted);
      this.cutOnHearing = { at, ...flushed };
      return { ...flushed, onHearing: { at } };
    } catch (err) {
      // The workflow's cut flushes instead (cutTurn finds no flush made here).
      this.opts.log.warn('speaking turn: /flush on hearing the caller failed', {
        error: err instanceof Error ? err.message : String(err),
      });
      return undefined;
    }
  }

  /**
   * The workflow's cancellation is on the server (a record's answer, or the SDK's): nothing more
   * is said; the `/say` in flight is waited for, and the turn returns what it said.
   */
  private cancelledByWorkflow(): void {
    this.markCancelRecorded();
    if (!this.cancelled) {
      this.cancelled = true;
      this.opts.onStop();
    }
  }

  /** The activity is ending: nothing is said or recorded any more. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /** What the turn said, for its result or its failure. */
  spoken(): TurnSpoken {
    const said = heardOf({ said: this.said, saying: this.saying });
    return { said, ...(this.unsaid.length > 0 && { unsaid: [...this.unsaid] }), at: Date.now() };
  }

  private get stopped(): boolean {
    return this.cancelled || !!this.deadWith || this.closed || this.halted.aborted;
  }

  /**
   * The speech as it is now: what the SDK is given last, when the attempt ends. sdk-core sends its
   * last heartbeat details with a failure (a worker shutdown is one), and the server keeps them:
   * older ones would say less than the records did, and a retry would say a sentence again.
   */
  current(): TurnSpeech {
    return this.speech();
  }

  private speech(): TurnSpeech {
    return {
      said: [...this.said],
      ...(this.saying && { saying: { ...this.saying } }),
      ...(this.cutAt !== undefined && { cut: this.cutAt }),
    };
  }

  private async pump(): Promise<void> {
    for (let text = this.queue.shift(); text !== undefined; text = this.queue.shift()) {
      if (this.stopped) continue;
      if (this.gone) this.unsaid.push(text);
      else await this.sayOne(text);
    }
  }

  private async sayOne(text: string): Promise<void> {
    const at = Date.now();
    this.saying = { text, at };
    await this.record();
    if (this.stopped) {
      // Recorded, never sent: not said. The turn's last record (`finish`) says so.
      this.saying = undefined;
      return;
    }
    const sent = this.send(text, at);
    this.sending = sent;
    await sent;
    this.sending = undefined;
    this.saying = undefined;
    // The next sentence's own record clears `saying`; without one, a record of its own does,
    // unless the turn's result follows at once (`finish`).
    if (!this.queue.length && this.completesClean()) return;
    if (!this.queue.length || this.gone || this.stopped) await this.record();
  }

  /** One `/say`, its outcome put in `said` (or `unsaid`); never rejects. */
  private async send(text: string, at: number): Promise<void> {
    try {
      await this.opts.voipbin.say(this.opts.speakingId, text, { signal: this.halted });
      this.said.push({ text, at, outcome: 'done' });
      this.lastSayOk = true;
    } catch (err) {
      this.lastSayOk = false;
      this.failed(text, at, err);
    }
  }

  /** A `/say` that did not succeed: gone (404), refused (4xx: not said), or maybe said (any other). */
  private failed(text: string, at: number, err: unknown): void {
    const httpStatus = err instanceof VoipbinApiError ? err.httpStatus : undefined;
    if (err instanceof VoipbinResponseError) {
      // VoIPBIN answered 2xx, with a body of an unexpected shape: it took the sentence.
      this.said.push({ text, at, outcome: 'done' });
      return;
    }
    this.opts.log.warn('speaking turn: /say failed', {
      httpStatus,
      error: err instanceof Error ? err.message : String(err),
    });
    if (httpStatus === 404) {
      this.gone = true;
      this.unsaid.push(text);
    } else if (httpStatus === undefined || httpStatus >= 500) {
      this.said.push({ text, at, outcome: 'failed' });
    }
  }

  /**
   * Records the speech as it is when the record is sent, after every record before it; `sdk`: the
   * SDK's own heartbeat is given the same speech at the same moment, and the next record waits.
   * `ifChanged`: not when the speech is the one recorded last.
   */
  private record({ sdk = false, ifChanged = false } = {}): Promise<void> {
    this.recordsUnderWay++;
    this.records = this.records.then(async () => {
      try {
        if (this.deadWith || this.closed) return;
        const speech = this.speech();
        const json = JSON.stringify(speech);
        if (ifChanged && json === this.recorded) return;
        this.recorded = json;
        this.heartbeatLater();
        if (sdk && this.opts.sdkHeartbeat) {
          this.sdkHeartbeatAt = Date.now();
          this.opts.sdkHeartbeat(speech);
        }
        const { cancelRequested } = await this.opts.channel.record(this.opts.taskToken, speech);
        if (sdk && this.opts.sdkHeartbeat) await new Promise((r) => setTimeout(r, SDK_HEARTBEAT_HOLD_MS));
        if (cancelRequested) this.cancelledByWorkflow();
      } catch (error) {
        if (!this.deadWith) {
          this.deadWith = { error };
          clearTimeout(this.timer);
          this.markDead();
          this.opts.onStop();
        }
      } finally {
        this.recordsUnderWay--;
      }
    });
    return this.records;
  }
}

/**
 * The speaking turns running in this process, by call run and step: `cutTurn`, a local activity of
 * the worker that runs the call's workflow task, cuts one off here with no round trip through the
 * server. A turn's activity is dispatched eagerly to the worker whose task scheduled it, so in
 * one process (`serve`) and mostly with several workers, the turn is here.
 */
const runningHere = new Map<string, TurnSpeaker>();
/** The same turns by call workflow: what `callerSpokeHere` looks in. */
const byWorkflow = new Map<string, Set<TurnSpeaker>>();

function turnKey(execution: CallExecution, activityId: string): string {
  return `${execution.workflowId}\n${execution.runId ?? ''}\n${activityId}`;
}

/** Makes a speaking turn's attempt findable by `cutTurn` while it runs; returns its removal. */
export function runningTurn(execution: CallExecution, activityId: string, speaker: TurnSpeaker): () => void {
  const key = turnKey(execution, activityId);
  runningHere.set(key, speaker);
  const ofCall = byWorkflow.get(execution.workflowId) ?? new Set<TurnSpeaker>();
  ofCall.add(speaker);
  byWorkflow.set(execution.workflowId, ofCall);
  return () => {
    if (runningHere.get(key) === speaker) runningHere.delete(key);
    ofCall.delete(speaker);
    if (ofCall.size === 0 && byWorkflow.get(execution.workflowId) === ofCall)
      byWorkflow.delete(execution.workflowId);
  };
}

/**
 * The caller of the call whose workflow is `workflowId` said something, which this process's
 * ingress is handing to the workflow: a speaking turn of that call running in this process cuts
 * itself off at once if the workflow will take it for a barge-in (`TurnSpeaker.heard`). Nothing
 * runs here for the call (an ingress apart from its workers): nothing happens, the workflow cuts.
 * Returns how many turns were cut.
 */
export function callerSpokeHere(workflowId: string, heard: CallerHeard): number {
  let cut = 0;
  for (const speaker of byWorkflow.get(workflowId) ?? []) if (speaker.heard(heard)) cut++;
  return cut;
}

/** A `/flush` sent: whether it went out, or the session was gone (404). */
type FlushOutcome = Pick<FlushTurnResult, 'flushed' | 'gone'>;
/** The flush a turn sent when it heard the caller, as `cutTurn` answers it. */
type FlushedOnHearing = FlushOutcome & Required<Pick<FlushTurnResult, 'onHearing'>>;

/**
 * Whether what a turn cut off may still be playing: a `/say` was out when the cut came, or what
 * it said has not finished playing by the voice's pace.
 */
function stillPlays(cut: { spoken: TurnSpoken; inFlight: boolean }, charsPerSecond: number): boolean {
  return cut.inFlight || playsUntil(cut.spoken.said, charsPerSecond) > Date.now();
}

/** Sends `/flush`: whether it went out, or the session was gone (404). */
async function flushSession(
  voipbin: VoipbinClient,
  speakingId: string,
  signal: AbortSignal,
): Promise<FlushOutcome> {
  try {
    await voipbin.flush(speakingId, { signal });
    return { flushed: true };
  } catch (err) {
    if (err instanceof VoipbinApiError && err.httpStatus === 404) return { flushed: false, gone: true };
    throw toActivityFailure(err);
  }
}

/** `flushTurn` and `cutTurn`, which cut a speaking turn off (see `LlmActivities`). */
export function createTurnSpeechActivities(deps: {
  channel: TurnChannel;
  voipbin: VoipbinClient;
}): Pick<LlmActivities, 'flushTurn' | 'cutTurn'> {
  return {
    async cutTurn(input: FlushTurnInput): Promise<FlushTurnResult | undefined> {
      const ctx = Context.current();
      const execution = ctx.info.workflowExecution;
      const speaker = execution && runningHere.get(turnKey(execution, input.activityId));
      const cut = await speaker?.cut();
      if (!speaker || !cut) return undefined;
      const result = { spoken: cut.spoken, activityId: input.activityId };
      // Flushed already, when this process's ingress heard the caller first.
      const early = await speaker.flushedEarly();
      if (early) return { ...result, ...early };
      if (!input.playing && !stillPlays(cut, input.charsPerSecond)) return { ...result, flushed: false };
      return { ...result, ...(await flushSession(deps.voipbin, input.speakingId, ctx.cancellationSignal)) };
    },

    /**
     * Runs once the workflow has recorded the turn's cancellation: the turn starts no `/say` after
     * that (its next record is answered `cancelRequested`), but one may be out already. Its record
     * says so (`saying`): the flush waits for it to be answered, or the flush could reach VoIPBIN
     * before it and the sentence would play after the cut. Idempotent: the workflow may retry it.
     */
    async flushTurn(input: FlushTurnInput): Promise<FlushTurnResult> {
      const ctx = Context.current();
      const execution = ctx.info.workflowExecution;
      if (!execution) throw ApplicationFailure.nonRetryable('flushTurn runs for a call workflow only');
      const deadline = Date.now() + FLUSH_WAIT_MS;
      let turn = await deps.channel.turnSpeech(execution, input.activityId);
      while (turn.running && turn.speech?.saying && Date.now() < deadline) {
        await ctx.sleep(FLUSH_POLL_MS);
        turn = await deps.channel.turnSpeech(execution, input.activityId);
      }
      // An ended turn's result (or failure) says what it said; a `/say` still out is taken as said.
      const spoken: TurnSpoken | undefined = turn.running
        ? { said: heardOf(turn.speech), at: Date.now() }
        : undefined;
      // Whether an ended turn's speech still plays cannot be told from here, nor when a `/say`
      // still out will start playing: flush.
      const playing =
        input.playing ||
        !spoken ||
        !!turn.speech?.saying ||
        playsUntil(spoken.said, input.charsPerSecond) > Date.now();
      if (!playing) return { ...(spoken && { spoken }), flushed: false };
      return {
        ...(spoken && { spoken }),
        ...(await flushSession(deps.voipbin, input.speakingId, ctx.cancellationSignal)),
      };
    },
  };
}
