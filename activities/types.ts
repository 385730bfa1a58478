// Inputs and outputs of every activity: one object in, one object out.
import { FailureType, type CallStatus } from '../workflows/messages';

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
}

export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string;
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
}

/** The reply itself reached the workflow as sentence signals: it is not recorded twice. */
export interface LlmTurnResult {
  /** The model called the `end_call` tool. */
  endCall?: { reason?: string };
}

/** The LLM turn: a regular, heartbeating, cancellable activity. */
export interface LlmActivities {
  llmTurn: (input: LlmTurnInput) => Promise<LlmTurnResult>;
}

export type Activities = VoipbinActivities & LlmActivities;
