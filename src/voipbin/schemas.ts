import { z } from 'zod';

/**
 * The shapes VoIPBIN really sends (see /work/shared/voipbin/API-NOTES.md). Every object is loose so a
 * new server field never breaks parsing; `omitempty` fields are optional; time fields accept `null`.
 */

/** An unset uuid reference, as VoIPBIN serialises it. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** RFC3339Nano UTC string, `null`, or absent (omitempty). Kept as a string: parse where needed. */
const time = z.string().nullish();

export const addressSchema = z.looseObject({
  type: z.string(),
  target: z.string(),
  target_name: z.string().optional(),
  name: z.string().optional(),
  detail: z.string().optional(),
});
export type Address = z.infer<typeof addressSchema>;

export const speakingStatusSchema = z.enum(['initiating', 'active', 'stopped']);
export type SpeakingStatus = z.infer<typeof speakingStatusSchema>;

export const speakingSchema = z.looseObject({
  id: z.string(),
  customer_id: z.string(),
  reference_type: z.string().optional(),
  reference_id: z.string().optional(),
  language: z.string().optional(),
  provider: z.string().optional(),
  voice_id: z.string().optional(),
  direction: z.string().optional(),
  status: speakingStatusSchema,
  tm_create: time,
  tm_update: time,
  tm_delete: time,
});
export type Speaking = z.infer<typeof speakingSchema>;

export const audioDirectionSchema = z.enum(['in', 'out', 'both']);
export type AudioDirection = z.infer<typeof audioDirectionSchema>;

export const transcribeStatusSchema = z.enum(['progressing', 'done']);
export type TranscribeStatus = z.infer<typeof transcribeStatusSchema>;

export const transcribeSchema = z.looseObject({
  id: z.string(),
  customer_id: z.string(),
  activeflow_id: z.string().optional(),
  on_end_flow_id: z.string().optional(),
  /** In responses: `unknown`, `recording`, `call` or `confbridge` (a `conference` request becomes `confbridge`). */
  reference_type: z.string(),
  reference_id: z.string(),
  status: transcribeStatusSchema,
  language: z.string().optional(),
  direction: audioDirectionSchema.optional(),
  provider: z.string().optional(),
  tm_create: time,
  tm_update: time,
  tm_delete: time,
});
export type Transcribe = z.infer<typeof transcribeSchema>;

export const transcriptSchema = z.looseObject({
  id: z.string(),
  customer_id: z.string(),
  transcribe_id: z.string(),
  direction: audioDirectionSchema,
  message: z.string(),
  /** An offset from the stream start, encoded as a year-0001 timestamp. Not a wall-clock time. */
  tm_transcript: time,
  tm_create: time,
});
export type Transcript = z.infer<typeof transcriptSchema>;

/** Payload of `transcribe_speech_started`, `transcribe_speech_interim` and `transcribe_speech_ended`. */
export const speechEventSchema = z.looseObject({
  id: z.string(),
  customer_id: z.string(),
  streaming_id: z.string().optional(),
  transcribe_id: z.string(),
  direction: audioDirectionSchema,
  /** Present only on `_interim` events. */
  message: z.string().optional(),
  tm_event: time,
  tm_create: time,
});
export type SpeechEvent = z.infer<typeof speechEventSchema>;

export const callStatusSchema = z.enum([
  'dialing',
  'ringing',
  'progressing',
  'terminating',
  'canceling',
  'hangup',
]);
export type CallStatus = z.infer<typeof callStatusSchema>;

export const callSchema = z.looseObject({
  id: z.string(),
  customer_id: z.string(),
  owner_type: z.string().optional(),
  owner_id: z.string().optional(),
  flow_id: z.string().optional(),
  activeflow_id: z.string().optional(),
  type: z.string().optional(),
  master_call_id: z.string().optional(),
  chained_call_ids: z.array(z.string()).nullish(),
  recording_id: z.string().optional(),
  recording_ids: z.array(z.string()).nullish(),
  groupcall_id: z.string().optional(),
  source: addressSchema,
  destination: addressSchema,
  status: callStatusSchema,
  action: z.looseObject({}).nullish(),
  direction: z.enum(['incoming', 'outgoing']).optional(),
  mute_direction: z.string().optional(),
  /** `""`, `remote` or `local`. */
  hangup_by: z.string().optional(),
  /** `""`, `normal`, `failed`, `busy`, `cancel`, `timeout`, `noanswer`, `dialout` or `amd`. */
  hangup_reason: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  tm_ringing: time,
  tm_progressing: time,
  tm_hangup: time,
  tm_create: time,
  tm_update: time,
  tm_delete: time,
});
export type Call = z.infer<typeof callSchema>;

export const customerSchema = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  detail: z.string().optional(),
  email: z.string().optional(),
  phone_number: z.string().optional(),
  address: z.string().optional(),
  webhook_method: z.string().optional(),
  webhook_uri: z.string().optional(),
  /** Signs webhooks (`X-VoIPBIN-Signature`). Missing from the OpenAPI spec, but sent by the server. */
  webhook_secret: z.string().optional(),
  billing_account_id: z.string().optional(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  email_verified: z.boolean().optional(),
  status: z.string().optional(),
  identity_verification_status: z.string().optional(),
  tm_deletion_scheduled: time,
  tm_create: time,
  tm_update: time,
  tm_delete: time,
});
export type Customer = z.infer<typeof customerSchema>;

/** `{result, next_page_token}`, the envelope of every list endpoint. */
export function listEnvelope<T extends z.ZodType>(itemSchema: T) {
  return z.looseObject({
    result: z.array(itemSchema),
    next_page_token: z.string().default(''),
  });
}
export interface Page<T> {
  result: T[];
  next_page_token: string;
}

export const errorEnvelopeSchema = z.looseObject({
  error: z.looseObject({
    status: z.string(),
    reason: z.string().default(''),
    message: z.string().default(''),
    request_id: z.string().optional(),
    details: z.array(z.unknown()).optional(),
  }),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

export const createCallResponseSchema = z.looseObject({
  calls: z
    .array(callSchema)
    .nullish()
    .transform((v) => v ?? []),
  groupcalls: z
    .array(z.unknown())
    .nullish()
    .transform((v) => v ?? []),
});
export type CreateCallResponse = z.infer<typeof createCallResponseSchema>;

/** The body VoIPBIN POSTs to the customer's webhook URI for every event. */
export const webhookEnvelopeSchema = z.looseObject({
  type: z.string().min(1),
  data: z.looseObject({}),
});
export type WebhookEnvelope = z.infer<typeof webhookEnvelopeSchema>;

// Request bodies.

export interface CreateSpeakingRequest {
  reference_type: 'call' | 'confbridge';
  reference_id: string;
  language?: string;
  provider?: string;
  voice_id?: string;
  direction?: '' | AudioDirection;
}

export interface CreateTranscribeRequest {
  reference_type: 'call' | 'conference' | 'recording';
  reference_id: string;
  language: string;
  direction?: AudioDirection;
  provider?: string;
  on_end_flow_id?: string;
}

export interface CreateCallRequest {
  source: Address;
  destinations: Address[];
  flow_id?: string;
  actions?: unknown[];
  anonymous?: 'yes' | 'no' | 'auto';
  variables?: Record<string, string>;
}

/** `POST /transfers`' answer (openapi `TransferManagerTransfer`): only what the agent reads. */
export const transferSchema = z.looseObject({
  id: z.string(),
  type: z.string().optional(),
  transferer_call_id: z.string().optional(),
});
export type Transfer = z.infer<typeof transferSchema>;

/** `POST /transfers`' body (openapi): a blind transfer of the agent's call to a number. */
export interface CreateTransferRequest {
  transfer_type: 'blind' | 'attended';
  transferer_call_id: string;
  transferee_addresses: { type: string; target: string }[];
}
