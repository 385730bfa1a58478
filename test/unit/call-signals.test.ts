import { callSignal, transcriptSignal } from '../../src/ingress/call-signals';
import { parseWebhookEvent } from '../../src/voipbin/events';
import { callSchema, transcriptSchema } from '../../src/voipbin/schemas';
import {
  CALL_ID,
  TRANSCRIBE_ID,
  TRANSCRIPT_ID,
  TRANSCRIPT_TEXT,
  envelope,
  hungUpCallPayload,
  transcriptPayload,
} from '../fixtures/voipbin-payloads';

describe('callSignal and transcriptSignal', () => {
  it('reduces a call to its id, status and event type', () => {
    const call = callSchema.parse(hungUpCallPayload());
    expect(callSignal('call_hangup', call)).toEqual({
      kind: 'call',
      eventType: 'call_hangup',
      callId: CALL_ID,
      status: 'hangup',
    });
  });

  it('reduces a transcript to id, session, direction, text and creation time', () => {
    const payload = transcriptPayload();
    const transcript = transcriptSchema.parse(payload);
    expect(transcriptSignal('transcript_created', transcript)).toEqual({
      kind: 'transcript',
      eventType: 'transcript_created',
      id: TRANSCRIPT_ID,
      transcribeId: TRANSCRIBE_ID,
      direction: 'in',
      text: TRANSCRIPT_TEXT,
      createdAt: payload.tm_create,
    });
  });

  it('maps what parseWebhookEvent returns', () => {
    const event = parseWebhookEvent(
      envelope('transcript_created', transcriptPayload({ direction: 'out', message: 'Hi.' })),
    );
    if (event.kind !== 'transcript') throw new Error(`parsed as ${event.kind}`);
    expect(transcriptSignal(event.type, event.transcript)).toMatchObject({ direction: 'out', text: 'Hi.' });
  });
});
