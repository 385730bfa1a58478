// The call workflow's messages, shared by the workflow, the ingress and the activities.
import { defineQuery, defineSignal, type Sinks } from '@temporalio/workflow';
import type { AgentProfile } from '../src/agent-config';
import type { CarriedCall } from './call-state';
import type { UpsertedSearchAttribute } from './search-attributes';

/** Workflow id of the call: one workflow per VoIPBIN call. */
export function callWorkflowId(callId: string): string {
  return `call-${callId}`;
}

/**
 * The call workflow's task timeout (Temporal's default: 10 s). A worker killed while it holds a
 * workflow task (as when it dies right after a `/say` came back) leaves the caller in silence
 * until this runs out. A task is milliseconds of work; a cold worker replaying a call's whole
 * history takes longer (continue-as-new keeps that bounded), so 2 s leaves a wide margin.
 */
export const CALL_WORKFLOW_TASK_TIMEOUT = '2s';

export interface CallWorkflowInput {
  callId: string;
  profileName: string;
  profile: AgentProfile;
  /**
   * What the profile's prompts may say of the call (`{{caller}}`, `{{called}}`, `{{direction}}`,
   * `{{profile}}`): only those they use (workflows/prompt-variables.ts).
   */
  variables?: Record<string, string>;
  /** Set when the call continues as new: everything the last run knew of it. */
  carried?: CarriedCall;
  /**
   * A run's history budget instead of HISTORY_BUDGET (call-agent.ts): recordings and tests set a
   * small one to continue as new within a few turns. Passed on to every run.
   */
  historyBudget?: { events: number; bytes: number };
  /**
   * The search attributes this workflow keeps up to date (workflows/search-attributes.ts): those
   * registered on the namespace, as the starter found them. Absent (calls started before them, a
   * namespace without them): none, and no upsert in the history.
   */
  searchAttributes?: UpsertedSearchAttribute[];
}

export type CallStatus = 'dialing' | 'ringing' | 'progressing' | 'terminating' | 'canceling' | 'hangup';

/**
 * How far a call has got. Snapshots arrive out of order (webhook and WebSocket, retries,
 * reconciliation): the furthest one is the newest; terminating and canceling are as far as each other.
 */
export const CALL_STATUS_RANK: Record<CallStatus | 'unknown', number> = {
  unknown: -1,
  dialing: 0,
  ringing: 1,
  progressing: 2,
  terminating: 3,
  canceling: 3,
  hangup: 4,
};

/** A VoIPBIN event, reduced to what the workflow needs (history stays small). */
export type CallEvent =
  | { kind: 'call'; eventType: string; callId: string; status: CallStatus }
  | {
      kind: 'transcript';
      eventType: string;
      id: string;
      transcribeId: string;
      direction: 'in' | 'out' | 'both';
      text: string;
      /** VoIPBIN's `tm_create` (RFC 3339): reconciliation asks for what came after the newest seen. */
      createdAt?: string | null;
    };

/** A sentence of the LLM reply, complete and ready for `/say`, sent by the LLM activity. */
export interface SentenceReady {
  turnId: number;
  /** Position in the turn's reply: a retried attempt continues at the number already received. */
  seq: number;
  text: string;
  /** The activity attempt that produced it. A later attempt continues the same reply (failover). */
  attempt: number;
  /** The turn's step (after tool results: 1, 2, ...); absent for the first. */
  step?: number;
  /**
   * On an attempt's first sentence: when the model's first token came (epoch ms, the worker's
   * clock). Only `inspect` and the call page read it (the turn's latencies); the workflow does not.
   */
  firstTokenAt?: number;
}

/**
 * Ask the workflow to compare its view of the call with VoIPBIN's (`GET /calls/{id}`,
 * `GET /transcripts`): events may have been lost (refused while Temporal was down, or sent while
 * the ingress was not running).
 */
export interface ReconcileRequest {
  reason: 'events-refused' | 'ingress-started' | 'operator' | 'call-placed';
}

export interface ConversationMessage {
  /** `tool`: a tool the model called; `text` is its result (or error) once it is in. */
  role: 'agent' | 'caller' | 'tool';
  text: string;
  /** Workflow time (ms since epoch) when it was said or heard. */
  at: number;
  /** The agent was cut off by the caller: `text` is what was actually sent to `/say`. */
  interrupted?: boolean;
  kind?: 'greeting' | 'reply' | 'reprompt' | 'goodbye' | 'apology' | 'filler' | 'transfer';
  /** The caller only acknowledged ("mm-hmm") while the agent spoke: no interruption, no turn. */
  backchannel?: boolean;
  /** On a `tool` message: the call the model made, and how it went. */
  tool?: ToolCallRecord;
}

export interface ToolCallRecord {
  /** The model's id for the call. */
  id: string;
  name: string;
  arguments: string;
  turnId: number;
  step: number;
  /** Its place among the step's tool calls. */
  index: number;
  /** Running: no result yet. */
  pending?: boolean;
  ok?: boolean;
  /** How long it took (the activity's own measure). */
  ms?: number;
}

export type CallPhase = 'waiting' | 'starting' | 'listening' | 'thinking' | 'ending' | 'ended';

export type EndReason =
  'caller-hangup' | 'silence' | 'max-duration' | 'agent-ended' | 'transferred' | 'not-answered' | 'error';

export interface ConversationView {
  callId: string;
  profileName: string;
  phase: CallPhase;
  callStatus: CallStatus | 'unknown';
  messages: ConversationMessage[];
  turns: number;
  bargeIns: number;
  reprompts: number;
  /** The workflow run this view is from: 1, then one more each time the call continued as new. */
  run: number;
  /** The oldest messages of a very long call, no longer carried from run to run (still in the earlier runs' histories). */
  droppedMessages: number;
}

export interface CallSummary extends ConversationView {
  endReason: EndReason;
  /** Per answered turn: caller's final transcript to the first sentence sent, in ms of workflow time. */
  firstSentenceLatenciesMs: number[];
  startedAt: number;
  endedAt: number;
}

/** Failure types the workflow tells apart (`ApplicationFailure.type`), set by the activities. */
export const FailureType = {
  /** `/say` or `/flush` answered 404: the speaking session is not active any more. */
  SpeakingGone: 'SpeakingGone',
  /** The model sent no first token, or stopped mid-reply, for longer than the profile allows. */
  LlmStalled: 'LlmStalled',
} as const;

/**
 * The caller is speaking, before the final transcript: VoIPBIN's `transcribe_speech_started` (no
 * text) or `transcribe_speech_interim` (the words so far). Only the caller's side (`in`).
 */
export interface CallerSpeech {
  eventType: string;
  transcribeId: string;
  text?: string;
  /** VoIPBIN's `tm_event`: a copy that arrives after the utterance's final transcript is stale. */
  at?: string;
}

export const voipbinEventSignal = defineSignal<[CallEvent]>('voipbinEvent');
/** A signal of its own: a build that does not know it leaves it unhandled, instead of misreading it. */
export const callerSpeechSignal = defineSignal<[CallerSpeech]>('callerSpeech');
export const sentenceSignal = defineSignal<[SentenceReady]>('sentence');
export const reconcileSignal = defineSignal<[ReconcileRequest]>('reconcile');
export const conversationQuery = defineQuery<ConversationView>('conversation');

/**
 * What a call workflow reports for the worker's metrics (src/metrics.ts), through a sink: called
 * once per live execution, never while a history is replayed (after a crash, on another worker).
 */
export interface CallMetricsSinks extends Sinks {
  callMetrics: {
    callStarted(): void;
    callEnded(reason: EndReason): void;
    turnEnded(outcome: 'completed' | 'cancelled' | 'failed'): void;
    /** Caller's final transcript to the reply's first sentence sent, in ms of workflow time. */
    firstSentence(latencyMs: number): void;
    bargeIn(): void;
    reprompt(): void;
  };
}
