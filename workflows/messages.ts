// The call workflow's messages, shared by the workflow, the ingress and the activities.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { AgentProfile } from '../src/agent-config';

/** Workflow id of the call: one workflow per VoIPBIN call. */
export function callWorkflowId(callId: string): string {
  return `call-${callId}`;
}

export interface CallWorkflowInput {
  callId: string;
  profileName: string;
  profile: AgentProfile;
}

export type CallStatus = 'dialing' | 'ringing' | 'progressing' | 'terminating' | 'canceling' | 'hangup';

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
    };

/** A sentence of the LLM reply, complete and ready for `/say`, sent by the LLM activity. */
export interface SentenceReady {
  turnId: number;
  seq: number;
  text: string;
}

export interface ConversationMessage {
  role: 'agent' | 'caller';
  text: string;
  /** Workflow time (ms since epoch) when it was said or heard. */
  at: number;
  /** The agent was cut off by the caller: `text` is what was actually sent to `/say`. */
  interrupted?: boolean;
  kind?: 'greeting' | 'reply' | 'reprompt' | 'goodbye' | 'apology';
}

export type CallPhase = 'waiting' | 'starting' | 'listening' | 'thinking' | 'ending' | 'ended';

export type EndReason =
  'caller-hangup' | 'silence' | 'max-duration' | 'agent-ended' | 'not-answered' | 'error';

export interface ConversationView {
  callId: string;
  profileName: string;
  phase: CallPhase;
  callStatus: CallStatus | 'unknown';
  messages: ConversationMessage[];
  turns: number;
  bargeIns: number;
  reprompts: number;
}

export interface CallSummary extends ConversationView {
  endReason: EndReason;
  /** Per answered turn: caller's final transcript to the first sentence sent, in ms of workflow time. */
  firstSentenceLatenciesMs: number[];
  startedAt: number;
  endedAt: number;
}

export const voipbinEventSignal = defineSignal<[CallEvent]>('voipbinEvent');
export const sentenceSignal = defineSignal<[SentenceReady]>('sentence');
export const conversationQuery = defineQuery<ConversationView>('conversation');
