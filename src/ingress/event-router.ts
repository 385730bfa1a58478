import { matchRoute, type AgentConfig } from '../agent-config';
import type { Logger } from '../logger';
import type { AgentMetrics, EventPath } from '../metrics';
import type { CallerSpeech } from '../../workflows/messages';
import type { CallerHeard } from '../../workflows/turn-taking';
import { usedVariables } from '../../workflows/prompt-variables';
import type { VoipbinEvent } from '../voipbin/events';
import type { SpeechEvent } from '../voipbin/schemas';
import { callSignal, transcriptSignal } from './call-signals';
import { TemporalUnavailableError, type CallWorkflows, type SignalOutcome } from './call-workflows';
import { DeliveredEvents } from './delivered-events';
import { SPEECH_SETTLE_MS, SpeechGate, speechPolicyOf } from './speech-gate';
import type { Counters } from './metrics';
import type { RefusedEvents } from './refused-events';
import type { TranscribeLookup } from './transcribe-lookup';
import { TranscribeMap } from './transcribe-map';

/** The part of `RefusedEvents` the router writes to. */
export type RefusedSink = Pick<RefusedEvents, 'remember' | 'rememberStart' | 'started'>;

export interface EventRouterDeps {
  workflows: CallWorkflows;
  agent: AgentConfig;
  lookupTranscribe: TranscribeLookup;
  /** Where calls whose events Temporal could not take are remembered, to be reconciled later. */
  refused: RefusedSink;
  counters: Counters;
  /** Events by type, path and outcome, and how long each took to hand over. */
  metrics?: AgentMetrics;
  log: Logger;
  /**
   * Told what the caller said as it is handed to the call's workflow: a speaking turn of the call
   * running in this process cuts itself off at once when the workflow will take it for a
   * barge-in (activities/turn-speech.ts `callerSpokeHere`), so the `/flush` does not wait for the
   * workflow's task. Absent: only the workflow cuts.
   */
  heardHere?: (callId: string, heard: CallerHeard) => void;
}

/** What became of an accepted event; every outcome is acknowledged with 200. */
export type RouteOutcome =
  | SignalOutcome
  | 'started'
  | 'unrouted'
  | 'mapped'
  | 'unused'
  | 'unknown-type'
  | 'not-a-call'
  /** Already delivered (or something newer was): the workflow would ignore it. */
  | 'duplicate'
  /** The caller's speech, signalled in the background (metrics: `speech_signals_total`). */
  | 'speech-queued';

const succeeded = (p: Promise<unknown>): Promise<boolean> =>
  p.then(
    () => true,
    () => false,
  );

/** The same event, however it came: a call's status, or a transcript. */
function deliveryKey(event: VoipbinEvent): string | undefined {
  if (event.kind === 'call') return `call:${event.call.id}:${event.call.status}`;
  if (event.kind === 'transcript') return `transcript:${event.transcript.id}`;
  return undefined;
}

/** A call that can still be taken: one of these statuses may start its workflow. */
const STARTABLE = new Set(['dialing', 'ringing', 'progressing']);

/**
 * Decides which call workflow an event is for, and hands it over. Inbound calls whose number
 * matches a route start a workflow; every other event only reaches a workflow already running.
 */
export class EventRouter {
  private readonly transcribes = new TranscribeMap();
  /** Lookups in flight, shared by transcripts of the same session arriving together. */
  private readonly lookups = new Map<string, Promise<string | null>>();
  private readonly delivered = new DeliveredEvents();
  private readonly speech: SpeechGate;
  private readonly speechInFlight = new Set<Promise<void>>();
  /**
   * Deliveries under way, by event: the same event arriving meanwhile (by the other path, or twice
   * on the socket) waits for it instead of signalling again. Two signals of one hangup can fail the
   * workflow's last task (a signal arriving as it completes), and its session stops run again.
   */
  private readonly inFlight = new Map<string, Promise<RouteOutcome>>();

  constructor(private readonly deps: EventRouterDeps) {
    this.speech = new SpeechGate(speechPolicyOf(Object.values(deps.agent.profiles)));
  }

  /** Hands the event over; `path` is how it came, for the metrics. */
  async route(event: VoipbinEvent, path: EventPath = 'webhook'): Promise<RouteOutcome> {
    const { metrics } = this.deps;
    if (!metrics) return this.deliver(event);
    const stopTimer = metrics.ackSeconds.startTimer({ path });
    let outcome: RouteOutcome | 'unavailable' | 'failed' = 'failed';
    try {
      outcome = await this.deliver(event);
      return outcome;
    } catch (err) {
      if (err instanceof TemporalUnavailableError) outcome = 'unavailable';
      throw err;
    } finally {
      stopTimer();
      metrics.events.inc({ type: event.type, path, outcome });
    }
  }

  private async deliver(event: VoipbinEvent): Promise<RouteOutcome> {
    const key = deliveryKey(event);
    const pending = key === undefined ? undefined : this.inFlight.get(key);
    // Delivered by the one under way: a duplicate. Failed: this copy tries again itself.
    if (pending && (await succeeded(pending))) {
      this.deps.counters.inc('events_duplicate');
      return 'duplicate';
    }
    const delivery = this.dispatch(event);
    if (key !== undefined) {
      this.inFlight.set(key, delivery);
      void delivery
        .finally(() => {
          if (this.inFlight.get(key) === delivery) this.inFlight.delete(key);
        })
        .catch(() => undefined);
    }
    const outcome = await delivery;
    this.deps.counters.inc(`events_${outcome}`);
    return outcome;
  }

  private async dispatch(event: VoipbinEvent): Promise<RouteOutcome> {
    const { workflows, refused, log } = this.deps;
    switch (event.kind) {
      case 'call': {
        const { call } = event;
        if (!this.delivered.isNewStatus(call.id, call.status)) return 'duplicate';
        const signal = callSignal(event.type, call);
        // `ringing` after a start this ingress delivered goes as a plain signal: it does not end the
        // start's delay (PRE_ANSWER_START_DELAY), and the workflow takes it with `progressing`.
        const started = call.status === 'ringing' && this.delivered.anyStatusDelivered(call.id);
        if (call.direction === 'incoming' && STARTABLE.has(call.status) && !started) {
          const route = matchRoute(this.deps.agent, call.destination.target);
          if (!route) {
            log.debug('no route for the number called', { callId: call.id, to: call.destination.target });
            return 'unrouted';
          }
          const variables = usedVariables(route.profile, {
            caller: call.source.target,
            called: call.destination.target,
            direction: 'inbound',
            profile: route.profileName,
          });
          const numbers = { caller: call.source.target, called: call.destination.target };
          const input = {
            callId: call.id,
            profileName: route.profileName,
            profile: route.profile,
            ...(variables && { variables }),
          };
          const outcome = await this.handOver(
            () => workflows.signalWithStart(input, signal, numbers),
            () => refused.rememberStart(input, signal, numbers),
          );
          refused.started(call.id);
          // Delivered, or the call's workflow is over: either way this status is no news to it.
          this.delivered.statusDelivered(call.id, call.status);
          return outcome;
        }
        const outcome = await this.handOver(
          () => workflows.signal(call.id, signal),
          () => refused.remember(call.id, signal),
        );
        if (outcome === 'delivered') this.delivered.statusDelivered(call.id, call.status);
        return outcome;
      }
      case 'transcribe': {
        const { transcribe } = event;
        this.transcribes.set(
          transcribe.id,
          transcribe.reference_type === 'call' ? transcribe.reference_id : null,
        );
        return 'mapped';
      }
      case 'transcript': {
        const { transcript } = event;
        // Our own speech transcribed back (`out`): the workflow never acts on it, so it costs no
        // signal, no history, and is never refused while Temporal is down.
        if (transcript.direction !== 'in') return 'unused';
        this.speech.ended(transcript.transcribe_id, Date.parse(transcript.tm_create ?? ''));
        if (!this.delivered.isNewTranscript(transcript.id)) return 'duplicate';
        // When the lookup itself fails (VoIPBIN unreachable) the call is unknown, so nothing can be
        // remembered for it: only VoIPBIN's own retries (the 503) can bring this transcript back.
        const callId = await this.callOf(transcript.transcribe_id);
        if (!callId) return 'not-a-call';
        this.heard(callId, { final: true, text: transcript.message });
        const outcome = await this.handOver(
          () => workflows.signal(callId, transcriptSignal(event.type, transcript)),
          () => refused.remember(callId),
        );
        // Delivered, or no workflow: the call's workflow made the transcribe session, so it is over.
        this.delivered.transcriptDelivered(transcript.id);
        return outcome;
      }
      case 'speech':
        return this.speechSignal(event.type, event.speech);
      case 'unknown':
        log.debug('ignored an event of unknown type', { type: event.type });
        return 'unknown-type';
    }
  }

  /**
   * The caller is speaking: the call's workflow may cut the agent off before the final transcript
   * (profile `bargeIn`). Transient news, acknowledged at once: the speech waits a moment in the
   * background (a final right behind it makes it needless) and is never remembered or retried when
   * Temporal does not take it; the final transcript, which is, says it all.
   */
  private speechSignal(type: string, speech: SpeechEvent): RouteOutcome {
    if (speech.direction !== 'in') return 'unused';
    if (type === 'transcribe_speech_ended') {
      this.speech.ended(speech.transcribe_id);
      return 'unused';
    }
    const text = speech.message?.trim() || undefined;
    const started = type === 'transcribe_speech_started';
    // A WebSocket frame without words is a start or an end: nothing tells which.
    if (!started && !text) return 'unused';
    const at = Date.parse(speech.tm_event ?? speech.tm_create ?? '');
    if (!this.speech.pass(speech.transcribe_id, started, text, Number.isFinite(at) ? at : undefined))
      return 'unused';
    const signalled = this.signalSpeech({
      eventType: type,
      transcribeId: speech.transcribe_id,
      ...(text && { text }),
      ...(speech.tm_event && { at: speech.tm_event }),
    });
    this.speechInFlight.add(signalled);
    void signalled.finally(() => this.speechInFlight.delete(signalled));
    return 'speech-queued';
  }

  private async signalSpeech(speech: CallerSpeech): Promise<void> {
    const { metrics, log } = this.deps;
    const at = Date.parse(speech.at ?? '');
    const call = this.callOf(speech.transcribeId)
      .catch(() => null)
      .then((id) => {
        // Told at once: the settling wait below only spares the workflow a signal.
        if (id) this.heard(id, { final: false, text: speech.text, ...(Number.isFinite(at) && { at }) });
        return id;
      });
    const [callId, needed] = await Promise.all([
      call,
      this.speech.settle(speech.transcribeId, SPEECH_SETTLE_MS),
    ]);
    let outcome: string = 'superseded';
    if (!callId) outcome = 'not-a-call';
    else if (needed) {
      try {
        outcome = await this.deps.workflows.speech(callId, speech);
      } catch (err) {
        outcome = 'dropped';
        metrics?.signalFailures.inc({ reason: 'speech' });
        log.debug('speech not handed over', { callId, error: err as Error });
      }
    }
    metrics?.speechSignals.inc({ outcome });
  }

  /** Tells `heardHere` what the caller said; a failure there never stops the event's delivery. */
  private heard(callId: string, heard: CallerHeard): void {
    try {
      this.deps.heardHere?.(callId, heard);
    } catch (err) {
      this.deps.log.warn('cutting a turn off on hearing the caller failed', { callId, error: err as Error });
    }
  }

  /** Resolves once the speech signals under way are done (tests; a closing ingress). */
  async settled(): Promise<void> {
    while (this.speechInFlight.size > 0) await Promise.all([...this.speechInFlight]);
  }

  /** Hands an event over; when Temporal cannot take it (a 503), remembers the call first. */
  private async handOver(send: () => Promise<SignalOutcome>, onRefused: () => void): Promise<SignalOutcome> {
    try {
      return await send();
    } catch (err) {
      const unavailable = err instanceof TemporalUnavailableError;
      this.deps.metrics?.signalFailures.inc({ reason: unavailable ? 'unavailable' : 'error' });
      if (unavailable) onRefused();
      throw err;
    }
  }

  private async callOf(transcribeId: string): Promise<string | null> {
    const known = this.transcribes.get(transcribeId);
    if (known !== undefined) return known;
    let lookup = this.lookups.get(transcribeId);
    if (!lookup) {
      lookup = this.deps.lookupTranscribe(transcribeId).finally(() => this.lookups.delete(transcribeId));
      this.lookups.set(transcribeId, lookup);
    }
    const callId = await lookup;
    this.transcribes.set(transcribeId, callId);
    return callId;
  }
}
