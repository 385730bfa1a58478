import { randomUUID } from 'node:crypto';
import { formatOffset } from './clock';
import { type TranscribeRecord, transcribeJson, transcriptJson } from './resources';
import type { CallState, World } from './world';

/** Transcribe sessions, and speech on a call turned into transcribe events and transcripts. */

export interface NewTranscribe {
  referenceType: string;
  referenceId: string;
  language: string;
  direction: TranscribeRecord['direction'];
  provider: string;
  onEndFlowId: string;
}

/** Creates a progressing transcribe and emits transcribe_created, then transcribe_progressing. */
export function startTranscribe(world: World, input: NewTranscribe): TranscribeRecord {
  const now = world.now();
  const t: TranscribeRecord = {
    id: randomUUID(),
    ...input,
    status: 'progressing',
    startedAt: performance.now(),
    streamIds: { in: randomUUID(), out: randomUUID() },
    createdMicros: now.micros,
    tmCreate: now.text,
    tmUpdate: null,
    tmDelete: null,
  };
  world.transcribes.set(t.id, t);
  world.emit('transcribe_created', transcribeJson(t, world.customerId), t.referenceId);
  world.emit('transcribe_progressing', transcribeJson(t, world.customerId), t.referenceId);
  return t;
}

/** progressing → done with transcribe_done; a done transcribe is left as it is. */
export function stopTranscribe(world: World, t: TranscribeRecord): void {
  if (t.status !== 'progressing') return;
  t.status = 'done';
  t.tmUpdate = world.now().text;
  world.emit('transcribe_done', transcribeJson(t, world.customerId), t.referenceId);
}

function addTranscript(world: World, t: TranscribeRecord, direction: 'in' | 'out', message: string): void {
  const now = world.now();
  const transcript = {
    id: randomUUID(),
    transcribeId: t.id,
    direction,
    message,
    tmTranscript: formatOffset(performance.now() - t.startedAt),
    createdMicros: now.micros,
    tmCreate: now.text,
    deleted: false,
  };
  world.transcripts.push(transcript);
  world.emit('transcript_created', transcriptJson(transcript, world.customerId), t.referenceId);
}

function speechEvent(
  world: World,
  t: TranscribeRecord,
  direction: 'in' | 'out',
  message?: string,
): Record<string, unknown> {
  const now = world.now().text;
  return {
    id: randomUUID(),
    customer_id: world.customerId,
    streaming_id: t.streamIds[direction],
    transcribe_id: t.id,
    direction,
    ...(message ? { message } : {}),
    tm_event: now,
    tm_create: now,
  };
}

/**
 * The caller says text. For each progressing transcribe on the call that listens to the caller
 * (direction in or both): transcribe_speech_started, one transcribe_speech_interim,
 * transcribe_speech_ended, then transcript_created 'in'. Without a transcribe the speech is lost,
 * as on a real call; it is still recorded as said.
 */
export async function callerSpeak(
  world: World,
  call: CallState,
  text: string,
  speakingMs = 0,
): Promise<void> {
  call.callerSaid.push(text);
  call.mark = { heard: call.heard.length, starts: call.playback.starts };
  world.notify(call);
  if (call.record.status !== 'progressing' || text.trim() === '') return;
  const callId = call.record.id;
  const listening = () => world.progressingTranscribes(callId).filter((t) => t.direction !== 'out');
  const emit = (type: string, message?: string) => {
    for (const t of listening()) world.emit(type, speechEvent(world, t, 'in', message), callId);
  };
  emit('transcribe_speech_started');
  const words = text.trim().split(/\s+/);
  if (speakingMs > 0) {
    // One more word heard at each step, as the speech-to-text's interim results come.
    for (let n = 1; n <= words.length; n++) {
      await world.timers.sleep(speakingMs / words.length);
      if (call.record.status !== 'progressing') return;
      emit('transcribe_speech_interim', words.slice(0, n).join(' '));
    }
  } else {
    emit('transcribe_speech_interim', text);
  }
  emit('transcribe_speech_ended');
  for (const t of listening()) addTranscript(world, t, 'in', text);
}

/**
 * Our own speech, transcribed back: a transcript_created 'out' for each progressing transcribe
 * that listens to the outgoing side (out or both). Only the transcript, no speech events.
 */
export function echoAgentSpeech(world: World, call: CallState, text: string): void {
  for (const t of world.progressingTranscribes(call.record.id)) {
    if (t.direction === 'in') continue;
    addTranscript(world, t, 'out', text);
  }
}
