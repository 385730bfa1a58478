// Inputs and outputs of every activity: one object in, one object out.
import type { ToolHttp } from '../src/agent-tools';
import { FailureType, type CallStatus } from '../workflows/messages';
import type { BargeInRule } from '../workflows/turn-taking';

export interface CreateTranscribeInput {
  callId: string;
  language: string;
}
export interface CreateSpeakingInput {
  callId: string;
  language: string;
  provider: string;
  voiceId?: string;
}
/** A session of the call: `adopted` when it already existed (a create retried after a crash or timeout). */
export interface TranscribeSession {
  transcribeId: string;
  adopted: boolean;
}
export interface SpeakingSession {
  speakingId: string;
  adopted: boolean;
}
export interface SayInput {
  speakingId: string;
  text: string;
}
export interface SpeakingInput {
  speakingId: string;
}
export interface TranscribeInput {
  transcribeId: string;
}
export interface CallInput {
  callId: string;
}

export interface ReconcileInput {
  callId: string;
  /** The call's transcribe session, once it exists: its transcripts are checked too. */
  transcribeId?: string;
  /** Epoch ms of the newest transcript the workflow has seen: only transcripts around or after it are read. */
  sinceMs?: number;
}

/** A caller transcript VoIPBIN has that the workflow may not have seen. */
export interface MissedTranscript {
  id: string;
  transcribeId: string;
  text: string;
  createdAt: string | null;
}

export interface ReconcileResult {
  /** The call's status at VoIPBIN; `gone` when VoIPBIN no longer knows the call (404). */
  call: CallStatus | 'gone';
  /** Inbound (`direction: in`) transcripts from `sinceMs` on (with a margin), oldest first. */
  transcripts: MissedTranscript[];
}

/** `/say` or `/flush` answered 404: the speaking session is not active any more. */
export const SPEAKING_GONE = FailureType.SpeakingGone;

/** VoIPBIN REST calls. Every one is idempotent except `say`, which the workflow runs at most once. */
export interface VoipbinActivities {
  /** Creates the transcribe session, or adopts the one already progressing (409 on a duplicate). */
  createTranscribe: (input: CreateTranscribeInput) => Promise<TranscribeSession>;
  /** Creates the speaking session, or adopts the active one (500 on a duplicate). */
  createSpeaking: (input: CreateSpeakingInput) => Promise<SpeakingSession>;
  say: (input: SayInput) => Promise<void>;
  flush: (input: SpeakingInput) => Promise<void>;
  stopSpeaking: (input: SpeakingInput) => Promise<void>;
  stopTranscribe: (input: TranscribeInput) => Promise<void>;
  /** `hangup` when VoIPBIN no longer knows the call. */
  hangupCall: (input: CallInput) => Promise<{ status: CallStatus }>;
  reconcile: (input: ReconcileInput) => Promise<ReconcileResult>;
  /**
   * `POST /transfers`, blind, to `to`: VoIPBIN hangs the call up on the agent and dials the number
   * into the call's bridge. A retry finds the call already gone and takes it as transferred.
   */
  transferCall: (input: TransferInput) => Promise<TransferResult>;
}

export interface TransferInput {
  callId: string;
  to: string;
}
export interface TransferResult {
  /** VoIPBIN's transfer id; absent when a retry found the call already handed over. */
  transferId?: string;
}

/** A tool call the model made, as it made it. */
export interface ToolCallRequest {
  /** The model's id for it, which its result must name. */
  id: string;
  name: string;
  /** As the model sent them: JSON text, not yet checked. */
  arguments: string;
}

/** The conversation as the model reads it (OpenAI chat messages). */
export type LlmMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: LlmToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface LlmToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A function the model may call (OpenAI `tools[].function`). */
export interface ToolDefinition {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** A turn's sentences go to the workflow that runs the activity, as `sentence` signals. */
export interface LlmTurnInput {
  turnId: number;
  model: string;
  systemPrompt: string;
  /** The most recent messages of the conversation (a window: the input is recorded every turn). */
  messages: LlmMessage[];
  /** How many earlier messages of the call the window leaves out. */
  earlierMessages: number;
  /** No first token within this: the model is stalled (`LlmStalled`, not retried). */
  firstTokenTimeoutMs: number;
  /** No token for this long mid-reply: stalled. */
  stallTimeoutMs: number;
  /** A sentence end followed by this much quiet in the stream is sent without waiting for the next token. */
  sentencePauseMs: number;
  /**
   * The turn's step: 0 answers the caller; each later one follows the results of the tools the
   * step before called. Absent in turns recorded before tools: 0.
   */
  step?: number;
  /** The profile's tools (and `transfer_call`), besides `end_call`. Absent: none. */
  tools?: ToolDefinition[];
  /**
   * A speaking turn (profile `replySpeech: direct`): the activity sends each sentence to `/say`
   * itself, on this session, recording it in its heartbeat details before the request goes out
   * (at most once, across attempts), and reports what it said in its result. Absent: each
   * sentence goes to the workflow as a `sentence` signal, which says it.
   */
  speak?: {
    speakingId: string;
    /**
     * What of the caller's speech cuts this turn off, as the workflow decides it: the ingress of
     * the process the turn runs in (`serve`) tells the turn what the caller said as it hands it to
     * the workflow, and the turn cuts itself off and flushes at once, without waiting for the
     * workflow's task (activities/turn-speech.ts `callerSpokeHere`). Absent: only the workflow cuts.
     */
    bargeIn?: TurnBargeIn;
  };
}

/** A speaking turn's barge-in rule (`LlmTurnInput.speak`), with what it needs to apply it alone. */
export interface TurnBargeIn extends BargeInRule {
  /** The voice's pace: whether what the turn said still plays, so needs a flush. */
  charsPerSecond: number;
}

/** A sentence a speaking turn sent to `/say`. */
export interface SpokenSentence {
  text: string;
  /** When its `/say` went out (epoch ms, the worker's clock). */
  at: number;
  /** `done`: VoIPBIN took it. `failed`: the request failed once sent (maybe said: never sent again). */
  outcome: 'done' | 'failed';
}

/**
 * What a speaking turn has said, in order: its heartbeat details, recorded (synchronously, on the
 * server) before each `/say` goes out, so a later attempt never says a sentence again.
 */
export interface TurnSpeech {
  said: SpokenSentence[];
  /** Recorded, its `/say` not yet answered: said as far as anyone else can tell (at most once). */
  saying?: { text: string; at: number };
  /**
   * When the turn was cut off where it ran (the worker's clock): the caller was heard, or the
   * workflow's task cut it. A later attempt (the server timed this one out before the workflow's
   * cancellation reached it) says nothing more, and ends as cut off.
   */
  cut?: number;
}

/** How a speaking turn's sentences fared, in its result (or its failure's details). */
export interface TurnSpoken {
  /**
   * The whole turn's, earlier attempts' first (a sentence one left in flight is `failed`). A
   * sentence VoIPBIN refused (a 4xx other than 404) is in neither list: it was not said.
   */
  said: SpokenSentence[];
  /**
   * When this was reported (the worker's clock, as the sentences' `at`): the workflow places them
   * on its own clock by the difference with its `now`, whatever the worker's clock says.
   */
  at?: number;
  /**
   * The speaking session was gone (404): the sentence that got it and every one after, unsaid,
   * for the workflow to say on a new session.
   */
  unsaid?: string[];
}

/** The flush that cuts a speaking turn off (FlushTurnInput). */
export interface FlushTurnInput {
  speakingId: string;
  /** The turn's LLM activity, by its `activityId`: what it said is read from its heartbeat details. */
  activityId: string;
  /** Something the workflow sent before the turn may still be playing: flush in any case. */
  playing: boolean;
  /** The voice's pace: whether what the turn said still plays. */
  charsPerSecond: number;
}

export interface FlushTurnResult {
  /**
   * What the turn had said when it was cut off (a `/say` in flight waited for); absent when its
   * activity had already ended, whose result says it.
   */
  spoken?: TurnSpoken;
  /** `/flush` was sent: something was still playing. */
  flushed: boolean;
  /** `/flush` answered 404: the speaking session is gone. */
  gone?: boolean;
  /** `cutTurn`: the step it cut off (the activity id of FlushTurnInput), for the history's readers. */
  activityId?: string;
  /**
   * `cutTurn`: the turn had cut itself off, and flushed, when the ingress of the process it runs
   * in heard the caller, before this workflow task (`LlmTurnInput.speak.bargeIn`): when (the
   * worker's clock, as a local activity's completion time).
   */
  onHearing?: { at: number };
}

/**
 * The reply itself reached the workflow as sentence signals: it is not recorded twice. A speaking
 * turn's reply is in `spoken`: it was in no signal.
 */
export interface LlmTurnResult {
  /** The model called the `end_call` tool. */
  endCall?: { reason?: string };
  /** The other tools the model called, in its order (`transfer_call` among them). */
  toolCalls?: ToolCallRequest[];
  /** A speaking turn: what it said (its sentences are in no signal). */
  spoken?: TurnSpoken;
  /** A speaking turn: when the model's first token came (epoch ms, the worker's clock), if it did. */
  firstTokenAt?: number;
  /**
   * A speaking turn learnt of its cancellation (a heartbeat's answer) and stopped, reporting what
   * it had said instead of failing.
   */
  cancelled?: boolean;
  /**
   * A speaking turn cut itself off when the ingress of the process it ran in heard the caller
   * (`LlmTurnInput.speak.bargeIn`), and ended without waiting for the workflow's cancellation:
   * when (the worker's clock), and what its flush did (`flushed`: `/flush` went out; not, when
   * nothing of the turn still played; `gone`: the speaking session was gone). The workflow takes
   * it as the barge-in its own rule makes, its flush done, whether the caller's words reach it
   * before this result or after.
   */
  onHearing?: TurnCutOnHearing;
}

/** How a speaking turn cut itself off on hearing the caller (`LlmTurnResult.onHearing`). */
export interface TurnCutOnHearing {
  at: number;
  flushed: boolean;
  gone?: boolean;
}

/** One HTTP tool call: the tool as the profile declares it, and the model's arguments. */
export interface ToolCallInput {
  callId: string;
  /** The call's numbers, sent to the tool as headers. */
  caller?: string;
  called?: string;
  turnId: number;
  step: number;
  /** Its place among the tool calls of the step. */
  index: number;
  tool: { name: string; parameters: Record<string, unknown>; http: ToolHttp };
  arguments: string;
}

/** What the tool answered, or why it did not: the model is given either. */
export interface ToolResult {
  ok: boolean;
  /** The answer's body (JSON compacted), cut at TOOL_RESULT_MAX_CHARS. */
  content?: string;
  /** What went wrong: bad arguments, a 4xx, a timeout, retries spent. */
  error?: string;
  /** The HTTP status, when there was an answer. */
  status?: number;
  /** How long it took. */
  ms: number;
}

export interface ToolActivities {
  callTool: (input: ToolCallInput) => Promise<ToolResult>;
}

/** The LLM turn: a regular, heartbeating, cancellable activity. */
export interface LlmActivities {
  llmTurn: (input: LlmTurnInput) => Promise<LlmTurnResult>;
  /**
   * Cuts a speaking turn off: once its cancellation is recorded, waits for a `/say` it has in
   * flight, then `/flush`es (if anything still plays) after it; returns what the turn said.
   */
  flushTurn: (input: FlushTurnInput) => Promise<FlushTurnResult>;
  /**
   * Cuts a speaking turn off at once, in the workflow task that decided it (a local activity),
   * when the turn runs in this process: silences it (no `/say` of it starts after this), waits for
   * a `/say` it has in flight, then `/flush`es if anything still plays; returns what it said.
   * Undefined when the turn runs elsewhere (or its attempt is no longer the server's): the workflow
   * then cuts it with `flushTurn`.
   */
  cutTurn: (input: FlushTurnInput) => Promise<FlushTurnResult | undefined>;
}

export type Activities = VoipbinActivities & LlmActivities & ToolActivities;
