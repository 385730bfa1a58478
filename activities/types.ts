// Inputs and outputs of every activity: one object in, one object out.
import type { CallStatus } from '../workflows/messages';

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

/** VoIPBIN REST calls: short, run as local activities next to the workflow task. */
export interface VoipbinActivities {
  createTranscribe(input: CreateTranscribeInput): Promise<{ transcribeId: string }>;
  createSpeaking(input: CreateSpeakingInput): Promise<{ speakingId: string }>;
  say(input: SayInput): Promise<void>;
  flush(input: SpeakingInput): Promise<void>;
  stopSpeaking(input: SpeakingInput): Promise<void>;
  stopTranscribe(input: TranscribeInput): Promise<void>;
  hangupCall(input: CallInput): Promise<{ status: CallStatus }>;
  getCall(input: CallInput): Promise<{ status: CallStatus }>;
}

export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface LlmTurnInput {
  /** The workflow to send each finished sentence to, as a `sentence` signal. */
  workflowId: string;
  turnId: number;
  model: string;
  systemPrompt: string;
  messages: LlmMessage[];
}

export interface LlmTurnResult {
  text: string;
  sentences: number;
  /** The model called the `end_call` tool. */
  endCall?: { reason?: string };
}

/** The LLM turn: a regular, heartbeating, cancellable activity. */
export interface LlmActivities {
  llmTurn(input: LlmTurnInput): Promise<LlmTurnResult>;
}

export type Activities = VoipbinActivities & LlmActivities;
