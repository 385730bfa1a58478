import type { z } from 'zod';
import {
  callSchema,
  speechEventSchema,
  transcribeSchema,
  transcriptSchema,
  webhookEnvelopeSchema,
  type Call,
  type SpeechEvent,
  type Transcribe,
  type Transcript,
} from './schemas';

/** A VoIPBIN event, classified and validated: each one a snapshot of a resource. */
export type VoipbinEvent =
  | { kind: 'call'; type: string; call: Call }
  | { kind: 'transcript'; type: string; transcript: Transcript }
  | { kind: 'transcribe'; type: string; transcribe: Transcribe }
  | { kind: 'speech'; type: string; speech: SpeechEvent }
  | { kind: 'unknown'; type: string };

/** The body is not a VoIPBIN event we can read: the sender gets a 400. */
export class EventShapeError extends Error {
  override name = 'EventShapeError';
}

const CALL_EVENTS = new Set([
  'call_created',
  'call_updated',
  'call_deleted',
  'call_hangup',
  'call_dialing',
  'call_ringing',
  'call_progressing',
  'call_terminating',
  'call_canceling',
]);
const TRANSCRIBE_EVENTS = new Set(['transcribe_created', 'transcribe_progressing', 'transcribe_done']);
const SPEECH_EVENTS = new Set([
  'transcribe_speech_started',
  'transcribe_speech_interim',
  'transcribe_speech_ended',
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * How each kind of event is read: its schema, and the ids it must carry, each a UUID as VoIPBIN
 * makes them. Anything else is not VoIPBIN's, and must not reach a workflow (a workflow id is made
 * from a call id).
 */
const READERS = {
  call: { schema: callSchema, ids: ['id', 'customer_id'] },
  transcript: { schema: transcriptSchema, ids: ['id', 'customer_id', 'transcribe_id'] },
  transcribe: { schema: transcribeSchema, ids: ['id', 'customer_id', 'reference_id'] },
  speech: { schema: speechEventSchema, ids: ['id', 'customer_id', 'transcribe_id'] },
} as const;

function validate<K extends keyof typeof READERS>(
  kind: K,
  data: unknown,
  type: string,
): z.output<(typeof READERS)[K]['schema']> {
  const { schema, ids } = READERS[kind];
  const result = schema.safeParse(data);
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new EventShapeError(`${type} event data is malformed at: ${fields}`);
  }
  const read = result.data as Record<string, unknown>;
  const notUuid = ids.filter((f) => typeof read[f] !== 'string' || !UUID.test(read[f]));
  if (notUuid.length)
    throw new EventShapeError(`${type} event data is malformed at: ${notUuid.join(', ')} (not a UUID)`);
  return result.data as z.output<(typeof READERS)[K]['schema']>;
}

/** Classifies a webhook body `{type, data}`. Unknown types are returned as such, not rejected. */
export function parseWebhookEvent(body: unknown): VoipbinEvent {
  const envelope = webhookEnvelopeSchema.safeParse(body);
  if (!envelope.success) throw new EventShapeError('body is not a VoIPBIN event: expected {"type", "data"}');
  const { type, data } = envelope.data;
  if (CALL_EVENTS.has(type)) return { kind: 'call', type, call: validate('call', data, type) };
  if (type === 'transcript_created') {
    return {
      kind: 'transcript',
      type,
      transcript: validate('transcript', data, type),
    };
  }
  if (TRANSCRIBE_EVENTS.has(type)) {
    return {
      kind: 'transcribe',
      type,
      transcribe: validate('transcribe', data, type),
    };
  }
  if (SPEECH_EVENTS.has(type)) return { kind: 'speech', type, speech: validate('speech', data, type) };
  return { kind: 'unknown', type };
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Classifies a WebSocket frame. VoIPBIN at HEAD sends the bare resource object, with nothing
 * naming the event (API-NOTES §6); its docs still show `{type, data}`. Both are read: a frame
 * with a string `type` and an object `data` is an envelope, anything else a bare resource,
 * recognised by its shape. A call's event type is then named after its status
 * (`call_progressing`, ...), a transcribe's `transcribe_updated`: the router acts on the
 * snapshot, not on the name. An object of no known shape is `unknown`, as an unknown webhook type.
 */
export function parseSocketFrame(frame: unknown): VoipbinEvent {
  if (!isObject(frame)) throw new EventShapeError('frame is not a JSON object');
  if (typeof frame.type === 'string' && isObject(frame.data)) return parseWebhookEvent(frame);
  if (typeof frame.transcribe_id === 'string') {
    // Speech events carry tm_event; a transcript carries tm_transcript and a message.
    if ('tm_event' in frame)
      return {
        kind: 'speech',
        type: 'transcribe_speech',
        speech: validate('speech', frame, 'speech'),
      };
    const type = 'transcript_created';
    return {
      kind: 'transcript',
      type,
      transcript: validate('transcript', frame, type),
    };
  }
  if ('reference_type' in frame && 'reference_id' in frame) {
    const type = 'transcribe_updated';
    return {
      kind: 'transcribe',
      type,
      transcribe: validate('transcribe', frame, type),
    };
  }
  if ('source' in frame && 'destination' in frame && 'status' in frame) {
    const type = typeof frame.status === 'string' ? `call_${frame.status}` : 'call_updated';
    return { kind: 'call', type, call: validate('call', frame, type) };
  }
  return { kind: 'unknown', type: 'unrecognised frame' };
}
