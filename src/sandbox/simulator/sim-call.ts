import { createCall, remoteHangup, walkToProgressing } from './call-lifecycle';
import { DEFAULT_QUIET_MS, runCallerScript, waitForAgent } from './caller-script';
import { isPlaybackIdle } from './playback';
import type { Address } from './resources';
import { callerSpeak } from './speech';
import type { CallerScript, SimCall } from './types';
import type { CallState, World } from './world';

const DEFAULT_ANSWER_AFTER_MS = 20;

/** The test-facing handle of a call: what the person on the phone said and heard. */
export function simCallOf(world: World, call: CallState, scriptDone: Promise<void>): SimCall {
  const c = call.record;
  const caller = c.direction === 'incoming' ? c.source : c.destination;
  const other = c.direction === 'incoming' ? c.destination : c.source;
  return {
    id: c.id,
    from: caller.target,
    to: other.target,
    status: () => c.status,
    agentSaid: () => [...call.agentSaid],
    heard: () => [...call.heard],
    callerSaid: () => [...call.callerSaid],
    speak: (text: string) => void callerSpeak(world, call, text),
    hangup: () => remoteHangup(world, call),
    agentSpeaking: () => !isPlaybackIdle(call),
    onPlayback: (listener) => {
      call.playbackListeners.add(listener);
      return () => call.playbackListeners.delete(listener);
    },
    agentDone: (quietMs = DEFAULT_QUIET_MS) => waitForAgent(world, call, quietMs),
    ended: call.ended,
    scriptDone,
  };
}

/**
 * Creates a call (incoming: the caller dials our number; outgoing: we dialed the callee), walks it
 * dialing → ringing → progressing, then runs the script for the person on the phone.
 * For an outgoing call SimCall.from is the callee (the person on the phone), SimCall.to our number.
 */
export function startSimCall(
  world: World,
  input: { direction: 'incoming' | 'outgoing'; source: Address; destination: Address; script?: CallerScript },
): SimCall {
  const call = createCall(world, input);
  const script = input.script ?? { steps: [] };
  const scriptDone = new Promise<void>((resolve) => {
    const stop = () => resolve();
    void call.ended.then(stop);
    world.timers.signal.addEventListener('abort', stop, { once: true });
    walkToProgressing(world, call, script.answerAfterMs ?? DEFAULT_ANSWER_AFTER_MS, () => {
      runCallerScript(world, call, script).then(stop, (err: unknown) => {
        if (!world.timers.closed) world.log('caller script failed', { callId: call.record.id, err });
        stop();
      });
    });
  });
  return simCallOf(world, call, scriptDone);
}
