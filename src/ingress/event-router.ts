import { matchRoute, type AgentConfig } from '../agent-config';
import type { Logger } from '../logger';
import { callSignal, transcriptSignal, type VoipbinEvent } from '../voipbin/events';
import type { CallWorkflows, SignalOutcome } from './call-workflows';
import type { Counters } from './metrics';
import { TranscribeMap } from './transcribe-map';

/** Finds the call a transcribe session belongs to: `null` when it is not on a call. */
export type TranscribeLookup = (transcribeId: string) => Promise<string | null>;

export interface EventRouterDeps {
  workflows: CallWorkflows;
  agent: AgentConfig;
  lookupTranscribe: TranscribeLookup;
  counters: Counters;
  log: Logger;
}

/** What became of an accepted event; every outcome is acknowledged with 200. */
export type RouteOutcome =
  SignalOutcome | 'started' | 'unrouted' | 'mapped' | 'unused' | 'unknown-type' | 'not-a-call';

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

  constructor(private readonly deps: EventRouterDeps) {}

  async route(event: VoipbinEvent): Promise<RouteOutcome> {
    const outcome = await this.dispatch(event);
    this.deps.counters.inc(`events_${outcome}`);
    return outcome;
  }

  private async dispatch(event: VoipbinEvent): Promise<RouteOutcome> {
    const { workflows, log } = this.deps;
    switch (event.kind) {
      case 'call': {
        const { call } = event;
        const signal = callSignal(event.type, call);
        if (call.direction === 'incoming' && STARTABLE.has(call.status)) {
          const route = matchRoute(this.deps.agent, call.destination.target ?? '');
          if (!route) {
            log.debug('no route for the number called', { callId: call.id, to: call.destination.target });
            return 'unrouted';
          }
          const input = { callId: call.id, profileName: route.profileName, profile: route.profile };
          return workflows.signalWithStart(input, signal);
        }
        return workflows.signal(call.id, signal);
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
        const callId = await this.callOf(transcript.transcribe_id);
        if (!callId) return 'not-a-call';
        return workflows.signal(callId, transcriptSignal(event.type, transcript));
      }
      case 'speech':
        return 'unused';
      case 'unknown':
        log.debug('ignored an event of unknown type', { type: event.type });
        return 'unknown-type';
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
