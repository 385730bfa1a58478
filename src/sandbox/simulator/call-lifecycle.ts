import { randomUUID } from 'node:crypto';
import { NIL_UUID } from './clock';
import { flushPlayback } from './playback';
import { type Address, type CallRecord, type CallStatus, callJson } from './resources';
import { stopTranscribe } from './speech';
import type { CallState, World } from './world';

/**
 * A call's life as call-manager tells it. Creation emits call_created (status dialing); each later
 * status emits its own event (call_ringing, call_progressing, call_terminating, call_canceling), and
 * the end emits call_hangup. Like call-manager's UpdateStatus, a status change emits only its
 * status event, not call_updated (call-manager sends call_updated for action changes, which the
 * simulator does not model).
 */

const STATUS_EVENT: Partial<Record<CallStatus, string>> = {
  dialing: 'call_dialing',
  ringing: 'call_ringing',
  progressing: 'call_progressing',
  terminating: 'call_terminating',
  canceling: 'call_canceling',
};

export function createCall(
  world: World,
  input: { direction: CallRecord['direction']; source: Address; destination: Address },
): CallState {
  const now = world.now();
  const record: CallRecord = {
    id: randomUUID(),
    flowId: randomUUID(),
    activeflowId: randomUUID(),
    direction: input.direction,
    source: input.source,
    destination: input.destination,
    status: 'dialing',
    action: { id: NIL_UUID, next_id: NIL_UUID, type: '' },
    hangupBy: '',
    hangupReason: '',
    createdMicros: now.micros,
    tmCreate: now.text,
  };
  let resolveEnded: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  const call: CallState = {
    record,
    agentSaid: [],
    heard: [],
    callerSaid: [],
    playback: { queue: [], starts: 0 },
    mark: { heard: 0, starts: 0 },
    waiters: new Set(),
    playbackListeners: new Set(),
    ended,
    resolveEnded,
  };
  world.calls.set(record.id, call);
  world.emit('call_created', callJson(record, world.customerId), record.id);
  return call;
}

/** Applies a status change (dialing, ringing, progressing, terminating, canceling) and emits it. */
export function setCallStatus(world: World, call: CallState, status: CallStatus): void {
  const c = call.record;
  const now = world.now().text;
  c.status = status;
  c.tmUpdate = now;
  if (status === 'ringing') c.tmRinging = now;
  if (status === 'progressing') {
    c.tmProgressing = now;
    c.action = { id: randomUUID(), next_id: NIL_UUID, type: 'answer' };
  }
  const event = STATUS_EVENT[status];
  if (event) world.emit(event, callJson(c, world.customerId), c.id);
  world.notify(call);
}

/**
 * dialing → ringing at once, → progressing after answerAfterMs, then onAnswered(). Stops if the
 * call ends first.
 */
export function walkToProgressing(
  world: World,
  call: CallState,
  answerAfterMs: number,
  onAnswered: () => void,
): void {
  world.timers.after(0, () => {
    if (call.record.status !== 'dialing') return;
    setCallStatus(world, call, 'ringing');
    world.timers.after(answerAfterMs, () => {
      if (call.record.status !== 'ringing') return;
      setCallStatus(world, call, 'progressing');
      onAnswered();
    });
  });
}

/**
 * The end of a call: status hangup, call_hangup, the playback dropped, every progressing
 * transcribe of the call done (transcribe-manager reacts to call_hangup). Speaking sessions are
 * left as they are: tts-manager has no hangup subscriber.
 */
export function finishHangup(world: World, call: CallState, by: 'remote' | 'local', reason: string): void {
  const c = call.record;
  if (c.status === 'hangup') return;
  const now = world.now().text;
  c.status = 'hangup';
  c.hangupBy = by;
  c.hangupReason = reason;
  c.tmHangup = now;
  c.tmUpdate = now;
  flushPlayback(world, call);
  world.emit('call_hangup', callJson(c, world.customerId), c.id);
  for (const t of world.progressingTranscribes(c.id)) stopTranscribe(world, t);
  world.log('call ended', { callId: c.id, hangupBy: by });
  call.resolveEnded();
  world.notify(call);
}

/**
 * POST /calls/{id}/hangup: terminating at once (canceling for an unanswered outgoing call),
 * hangup after hangupDelayMs. A call already ending is left unchanged.
 */
export function requestHangup(world: World, call: CallState): void {
  const c = call.record;
  if (c.status === 'terminating' || c.status === 'canceling' || c.status === 'hangup') return;
  const cancel = c.direction === 'outgoing' && c.status !== 'progressing';
  setCallStatus(world, call, cancel ? 'canceling' : 'terminating');
  world.timers.after(world.config.hangupDelayMs, () => {
    finishHangup(world, call, 'local', cancel ? 'cancel' : 'normal');
  });
}

/** The caller (or callee) hangs up. */
export function remoteHangup(world: World, call: CallState): void {
  const c = call.record;
  if (c.status === 'hangup' || c.status === 'terminating' || c.status === 'canceling') return;
  finishHangup(world, call, 'remote', 'normal');
}
