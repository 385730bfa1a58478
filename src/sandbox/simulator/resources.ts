import { NIL_UUID } from './clock';

/** The simulator's records of VoIPBIN resources, and their JSON as the server sends it. */

export type CallStatus = 'dialing' | 'ringing' | 'progressing' | 'terminating' | 'canceling' | 'hangup';

export interface Address {
  type: string;
  target: string;
  target_name: string;
  name: string;
  detail: string;
}

export interface FlowAction {
  id: string;
  next_id: string;
  type: string;
}

export interface CallRecord {
  id: string;
  flowId: string;
  activeflowId: string;
  direction: 'incoming' | 'outgoing';
  source: Address;
  destination: Address;
  status: CallStatus;
  action: FlowAction;
  hangupBy: '' | 'remote' | 'local';
  hangupReason: string;
  createdMicros: number;
  tmCreate: string;
  tmUpdate?: string;
  tmRinging?: string;
  tmProgressing?: string;
  tmHangup?: string;
}

export interface SpeakingRecord {
  id: string;
  referenceType: string;
  referenceId: string;
  language: string;
  provider: string;
  voiceId: string;
  direction: string;
  status: 'initiating' | 'active' | 'stopped';
  createdMicros: number;
  tmCreate: string;
  tmUpdate?: string;
  tmDelete?: string;
}

export interface TranscribeRecord {
  id: string;
  referenceType: string;
  referenceId: string;
  onEndFlowId: string;
  status: 'progressing' | 'done';
  language: string;
  direction: 'in' | 'out' | 'both';
  provider: string;
  /** performance.now() when the streams started: tm_transcript offsets count from here. */
  startedAt: number;
  streamIds: { in: string; out: string };
  createdMicros: number;
  tmCreate: string;
  tmUpdate: string | null;
  tmDelete: string | null;
}

export interface TranscriptRecord {
  id: string;
  transcribeId: string;
  direction: 'in' | 'out';
  message: string;
  tmTranscript: string;
  createdMicros: number;
  tmCreate: string;
  deleted: boolean;
}

export function address(target: string, type = 'tel'): Address {
  return { type, target, target_name: '', name: '', detail: '' };
}

/** Go's omitempty: drop empty strings, undefined and null. */
function omitEmpty(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null || v === '') continue;
    out[k] = v;
  }
  return out;
}

/**
 * Call WebhookMessage (API-NOTES §4): uuid fields, owner_type, source, destination and action
 * always present; everything else omitempty.
 */
export function callJson(c: CallRecord, customerId: string): Record<string, unknown> {
  return {
    id: c.id,
    customer_id: customerId,
    owner_type: '',
    owner_id: NIL_UUID,
    flow_id: c.flowId,
    activeflow_id: c.activeflowId,
    type: 'flow',
    master_call_id: NIL_UUID,
    recording_id: NIL_UUID,
    groupcall_id: NIL_UUID,
    source: c.source,
    destination: c.destination,
    status: c.status,
    action: c.action,
    ...omitEmpty({
      direction: c.direction,
      hangup_by: c.hangupBy,
      hangup_reason: c.hangupReason,
      tm_ringing: c.tmRinging,
      tm_progressing: c.tmProgressing,
      tm_hangup: c.tmHangup,
      tm_create: c.tmCreate,
      tm_update: c.tmUpdate,
    }),
  };
}

/** Speaking WebhookMessage (API-NOTES §1): everything but id and customer_id is omitempty. */
export function speakingJson(s: SpeakingRecord, customerId: string): Record<string, unknown> {
  return {
    id: s.id,
    customer_id: customerId,
    ...omitEmpty({
      reference_type: s.referenceType,
      reference_id: s.referenceId,
      language: s.language,
      provider: s.provider,
      voice_id: s.voiceId,
      direction: s.direction,
      status: s.status,
      tm_create: s.tmCreate,
      tm_update: s.tmUpdate,
      tm_delete: s.tmDelete,
    }),
  };
}

/** Transcribe WebhookMessage (API-NOTES §2): nil uuids present, null times present as null. */
export function transcribeJson(t: TranscribeRecord, customerId: string): Record<string, unknown> {
  return {
    id: t.id,
    customer_id: customerId,
    activeflow_id: NIL_UUID,
    on_end_flow_id: t.onEndFlowId,
    reference_type: t.referenceType,
    reference_id: t.referenceId,
    status: t.status,
    language: t.language,
    direction: t.direction,
    provider: t.provider,
    tm_create: t.tmCreate,
    tm_update: t.tmUpdate,
    tm_delete: t.tmDelete,
  };
}

/** Transcript WebhookMessage (API-NOTES §3): no omitempty. */
export function transcriptJson(t: TranscriptRecord, customerId: string): Record<string, unknown> {
  return {
    id: t.id,
    customer_id: customerId,
    transcribe_id: t.transcribeId,
    direction: t.direction,
    message: t.message,
    tm_transcript: t.tmTranscript,
    tm_create: t.tmCreate,
  };
}
