import type { CallEvent } from '../../workflows/messages';
import type { Call, Transcript } from '../voipbin/schemas';

/** A call event as the workflow is told of it: the call's snapshot. */
export type CallSnapshot = Extract<CallEvent, { kind: 'call' }>;

/** What the call workflow is told of a call snapshot. */
export function callSignal(type: string, call: Call): CallSnapshot {
  return { kind: 'call', eventType: type, callId: call.id, status: call.status };
}

/** What the call workflow is told of a transcript. */
export function transcriptSignal(type: string, t: Transcript): CallEvent {
  return {
    kind: 'transcript',
    eventType: type,
    id: t.id,
    transcribeId: t.transcribe_id,
    direction: t.direction,
    text: t.message,
    // Reconciliation asks VoIPBIN for the transcripts newer than the newest one seen.
    createdAt: t.tm_create,
  };
}
