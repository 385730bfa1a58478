import {
  EventShapeError,
  parseSocketFrame,
  parseWebhookEvent,
  type VoipbinEvent,
} from '../../src/voipbin/events';
import {
  AGENT_NUMBER,
  CALL_EVENT_TYPES,
  CALL_ID,
  CALLER_NUMBER,
  SPEECH_EVENT_TYPES,
  TRANSCRIBE_EVENT_TYPES,
  TRANSCRIBE_ID,
  TRANSCRIPT_ID,
  TRANSCRIPT_TEXT,
  callPayload,
  envelope,
  hungUpCallPayload,
  speechPayload,
  transcribePayload,
  transcriptPayload,
} from '../fixtures/voipbin-payloads';

function shapeError(body: unknown): EventShapeError {
  try {
    parseWebhookEvent(body);
  } catch (err) {
    expect(err).toBeInstanceOf(EventShapeError);
    return err as EventShapeError;
  }
  throw new Error('parseWebhookEvent did not throw');
}

function expectKind<K extends VoipbinEvent['kind']>(
  event: VoipbinEvent,
  kind: K,
): Extract<VoipbinEvent, { kind: K }> {
  expect(event.kind).toBe(kind);
  return event as Extract<VoipbinEvent, { kind: K }>;
}

describe('parseWebhookEvent: call events', () => {
  it.each(CALL_EVENT_TYPES)('%s is a call snapshot', (type) => {
    const event = expectKind(parseWebhookEvent(envelope(type, callPayload())), 'call');
    expect(event.type).toBe(type);
    expect(event.call).toMatchObject({
      id: CALL_ID,
      status: 'progressing',
      direction: 'incoming',
      source: { type: 'tel', target: CALLER_NUMBER },
      destination: { type: 'tel', target: AGENT_NUMBER },
    });
  });

  it('reads a call with every omitempty field absent', () => {
    const minimal = {
      id: CALL_ID,
      customer_id: '5e4a0680-804e-11ec-8477-2fea5968d85b',
      owner_id: '00000000-0000-0000-0000-000000000000',
      source: { type: 'tel', target: CALLER_NUMBER },
      destination: { type: 'tel', target: AGENT_NUMBER },
      status: 'dialing',
      action: { id: '00000000-0000-0000-0000-000000000000', type: '' },
    };
    const event = expectKind(parseWebhookEvent(envelope('call_created', minimal)), 'call');
    expect(event.call.status).toBe('dialing');
    expect(event.call.direction).toBeUndefined();
    expect(event.call.tm_progressing).toBeUndefined();
    expect(event.call.hangup_reason).toBeUndefined();
  });

  it('reads a hung-up call with its hangup fields and optional arrays', () => {
    const body = envelope(
      'call_hangup',
      hungUpCallPayload({ chained_call_ids: ['1b2c3d4e-0000-4000-8000-000000000002'], metadata: { a: 1 } }),
    );
    const event = expectKind(parseWebhookEvent(body), 'call');
    expect(event.call).toMatchObject({
      status: 'hangup',
      hangup_by: 'remote',
      hangup_reason: 'normal',
      tm_hangup: '2026-01-15T09:31:40.5Z',
      chained_call_ids: ['1b2c3d4e-0000-4000-8000-000000000002'],
    });
  });

  it('keeps fields a newer server adds', () => {
    const event = expectKind(
      parseWebhookEvent(envelope('call_updated', callPayload({ brand_new_field: 'x' }))),
      'call',
    );
    expect((event.call as Record<string, unknown>)['brand_new_field']).toBe('x');
  });

  it.each(['dialing', 'ringing', 'progressing', 'terminating', 'canceling', 'hangup'])(
    'accepts status %s',
    (status) => {
      const event = expectKind(parseWebhookEvent(envelope('call_updated', callPayload({ status }))), 'call');
      expect(event.call.status).toBe(status);
    },
  );
});

describe('parseWebhookEvent: transcripts, transcribes and speech', () => {
  it('reads transcript_created', () => {
    const event = expectKind(
      parseWebhookEvent(envelope('transcript_created', transcriptPayload())),
      'transcript',
    );
    expect(event).toEqual({
      kind: 'transcript',
      type: 'transcript_created',
      transcript: {
        id: TRANSCRIPT_ID,
        customer_id: '7c4d2f3a-1b8e-4f5c-9a6d-3e2f1a0b4c5d',
        transcribe_id: TRANSCRIBE_ID,
        direction: 'in',
        message: TRANSCRIPT_TEXT,
        tm_transcript: '0001-01-01T00:00:08.99184Z',
        tm_create: '2026-01-15T09:30:15.233415Z',
      },
    });
  });

  it('reads an outbound (our own speech) transcript', () => {
    const event = expectKind(
      parseWebhookEvent(envelope('transcript_created', transcriptPayload({ direction: 'out' }))),
      'transcript',
    );
    expect(event.transcript.direction).toBe('out');
  });

  it.each(TRANSCRIBE_EVENT_TYPES)('%s is a transcribe snapshot, null times accepted', (type) => {
    const status = type === 'transcribe_done' ? 'done' : 'progressing';
    const event = expectKind(parseWebhookEvent(envelope(type, transcribePayload({ status }))), 'transcribe');
    expect(event.type).toBe(type);
    expect(event.transcribe).toMatchObject({
      id: TRANSCRIBE_ID,
      reference_type: 'call',
      reference_id: CALL_ID,
      status,
      tm_update: null,
      tm_delete: null,
    });
  });

  it('reads a transcribe on a recording', () => {
    const event = expectKind(
      parseWebhookEvent(envelope('transcribe_created', transcribePayload({ reference_type: 'recording' }))),
      'transcribe',
    );
    expect(event.transcribe.reference_type).toBe('recording');
  });

  it.each(SPEECH_EVENT_TYPES)('%s is a speech event', (type) => {
    const event = expectKind(parseWebhookEvent(envelope(type, speechPayload(type))), 'speech');
    expect(event.type).toBe(type);
    expect(event.speech.transcribe_id).toBe(TRANSCRIBE_ID);
    if (type === 'transcribe_speech_interim') expect(event.speech.message).toBe('Hello, I need');
    else expect(event.speech).not.toHaveProperty('message');
  });
});

describe('parseWebhookEvent: unknown and malformed', () => {
  it.each([
    'recording_started',
    'groupcall_created',
    'speaking_started',
    'speaking_stopped',
    'transcript_deleted',
    'something_new',
  ])('%s is returned as unknown, whatever its data', (type) => {
    expect(parseWebhookEvent(envelope(type, { anything: [1, 2, 3] }))).toEqual({ kind: 'unknown', type });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'call_created'],
    ['a number', 42],
    ['an array', [{ type: 'call_created', data: {} }]],
    ['an empty object', {}],
    ['a missing type', { data: callPayload() }],
    ['an empty type', { type: '', data: callPayload() }],
    ['a numeric type', { type: 7, data: callPayload() }],
    ['a missing data', { type: 'call_created' }],
    ['a null data', { type: 'call_created', data: null }],
    ['an array data', { type: 'call_created', data: [] }],
    ['a string data', { type: 'call_created', data: 'x' }],
    ['the quickstart-docs shape', { event_type: 'call_created', timestamp: 'x', topic: 'calls' }],
    ['a bare call (a WebSocket frame)', callPayload()],
  ])('rejects %s as not an envelope', (_what, body) => {
    expect(shapeError(body).message).toMatch(/not a VoIPBIN event/);
  });

  it.each<[string, string, Record<string, unknown>, string[]]>([
    ['a call without id', 'call_progressing', callPayload({ id: undefined }), ['id']],
    ['a call with an unknown status', 'call_updated', callPayload({ status: 'answered' }), ['status']],
    ['a call with a bad direction', 'call_created', callPayload({ direction: 'inbound' }), ['direction']],
    [
      'a call whose destination has no target',
      'call_ringing',
      callPayload({ destination: { type: 'tel' } }),
      ['destination.target'],
    ],
    ['a call without source', 'call_hangup', callPayload({ source: undefined }), ['source']],
    [
      'a transcript with a numeric message',
      'transcript_created',
      transcriptPayload({ message: 42 }),
      ['message'],
    ],
    [
      'a transcript with an unknown direction',
      'transcript_created',
      transcriptPayload({ direction: 'sideways' }),
      ['direction'],
    ],
    [
      'a transcript without transcribe_id or id',
      'transcript_created',
      transcriptPayload({ transcribe_id: undefined, id: undefined }),
      ['transcribe_id', 'id'],
    ],
    [
      'a transcribe with an unknown status',
      'transcribe_progressing',
      transcribePayload({ status: 'stopped' }),
      ['status'],
    ],
    [
      'a transcribe without reference_id',
      'transcribe_created',
      transcribePayload({ reference_id: undefined }),
      ['reference_id'],
    ],
    [
      'a speech event without transcribe_id',
      'transcribe_speech_started',
      speechPayload('transcribe_speech_started', { transcribe_id: undefined }),
      ['transcribe_id'],
    ],
  ])('rejects %s, naming the field', (_what, type, data, fields) => {
    const err = shapeError(envelope(type, data));
    expect(err.message).toContain(type);
    expect(err.message).toContain('malformed');
    for (const field of fields) expect(err.message).toContain(field);
  });

  it('never puts the values of a malformed event in the message', () => {
    const secretText = 'my card number is 4111 1111 1111 1111';
    const err = shapeError(
      envelope('transcript_created', transcriptPayload({ message: secretText, direction: 'sideways' })),
    );
    expect(err.message).toContain('direction');
    expect(err.message).not.toContain(secretText);
    expect(err.message).not.toContain('4111');
    expect(err.message).not.toContain('sideways');
    expect(err.message).not.toContain(TRANSCRIBE_ID);

    const callErr = shapeError(
      envelope('call_progressing', callPayload({ status: 'bogus', source: { type: 'tel', target: 12 } })),
    );
    expect(callErr.message).toContain('source.target');
    expect(callErr.message).not.toContain(CALLER_NUMBER);
    expect(callErr.message).not.toContain(AGENT_NUMBER);
    expect(callErr.message).not.toContain('bogus');
  });
});

describe('parseSocketFrame: bare resources (VoIPBIN at HEAD) and envelopes (its docs)', () => {
  it('reads a bare call by its shape, named after its status', () => {
    const event = expectKind(parseSocketFrame(callPayload()), 'call');
    expect(event.type).toBe('call_progressing');
    expect(event.call).toMatchObject({ id: CALL_ID, status: 'progressing', direction: 'incoming' });
    expect(parseSocketFrame(hungUpCallPayload()).type).toBe('call_hangup');
  });

  it('reads a bare transcript, a bare transcribe and a bare speech event by their shapes', () => {
    const transcript = expectKind(parseSocketFrame(transcriptPayload()), 'transcript');
    expect(transcript.transcript).toMatchObject({ id: TRANSCRIPT_ID, message: TRANSCRIPT_TEXT });
    expect(transcript.type).toBe('transcript_created');
    const transcribe = expectKind(parseSocketFrame(transcribePayload()), 'transcribe');
    expect(transcribe.transcribe).toMatchObject({ id: TRANSCRIBE_ID, reference_id: CALL_ID });
    for (const type of SPEECH_EVENT_TYPES) expectKind(parseSocketFrame(speechPayload(type)), 'speech');
  });

  it('reads an envelope as a webhook body', () => {
    const event = expectKind(
      parseSocketFrame(envelope('transcript_created', transcriptPayload())),
      'transcript',
    );
    expect(event.transcript.id).toBe(TRANSCRIPT_ID);
    expect(parseSocketFrame(envelope('call_ringing', callPayload({ status: 'ringing' }))).type).toBe(
      'call_ringing',
    );
  });

  it('calls a frame of no known shape unknown, and refuses a known shape that is malformed', () => {
    expect(parseSocketFrame({ id: 'x', name: 'a queue' }).kind).toBe('unknown');
    expect(() => parseSocketFrame(callPayload({ status: 'exploded' }))).toThrow(EventShapeError);
    expect(() => parseSocketFrame(transcriptPayload({ message: 42 }))).toThrow(EventShapeError);
    expect(() => parseSocketFrame([1, 2])).toThrow(EventShapeError);
    expect(() => parseSocketFrame('call')).toThrow(EventShapeError);
  });
});

describe('ids: VoIPBIN makes every id a UUID, so anything else is refused', () => {
  it.each([
    ['call_progressing', callPayload({ id: 'not-a-uuid' }), 'id'],
    ['call_hangup', hungUpCallPayload({ customer_id: '42' }), 'customer_id'],
    ['transcript_created', transcriptPayload({ transcribe_id: 'tr-1' }), 'transcribe_id'],
    ['transcribe_created', transcribePayload({ reference_id: 'call-1' }), 'reference_id'],
  ])('%s with a bad %s', (type, data, field) => {
    expect(shapeError(envelope(type, data)).message).toBe(
      `${type} event data is malformed at: ${field} (not a UUID)`,
    );
  });

  it('refuses a bare socket frame with a bad id too', () => {
    expect(() => parseSocketFrame(callPayload({ id: '1; DROP TABLE calls' }))).toThrow(/id \(not a UUID\)/);
  });
});
