import { remoteHangup } from './call-lifecycle';
import { isPlaybackIdle } from './playback';
import { callerSpeak } from './speech';
import type { CallerScript, CallerStep } from './types';
import type { CallState, World } from './world';

/**
 * Plays a scripted caller on an answered call. "The agent said something" always means: since the
 * caller last spoke (or since the call started), at least one text finished playing.
 */

export const DEFAULT_QUIET_MS = 200;

function ended(call: CallState): boolean {
  return call.record.status === 'hangup';
}

/** Waits until something new finished playing, playback is idle, and stays idle for quietMs. */
export async function waitForAgent(world: World, call: CallState, quietMs: number): Promise<void> {
  for (;;) {
    await world.waitFor(call, () => call.heard.length > call.mark.heard && isPlaybackIdle(call));
    if (ended(call)) return;
    const starts = call.playback.starts;
    await world.timers.sleep(quietMs);
    if (ended(call) || (isPlaybackIdle(call) && call.playback.starts === starts)) return;
  }
}

/** Waits until the agent starts playing something new. */
async function waitForAgentStart(world: World, call: CallState): Promise<void> {
  await world.waitFor(call, () => call.playback.starts > call.mark.starts);
}

async function runStep(world: World, call: CallState, step: CallerStep): Promise<void> {
  if ('pause' in step) {
    await world.timers.sleep(step.pause);
  } else if ('hangup' in step) {
    await world.timers.sleep(step.afterMs ?? 0);
    remoteHangup(world, call);
  } else if ('say' in step) {
    if (step.duringAgentSpeech) await waitForAgentStart(world, call);
    else if (step.waitForAgent ?? true) await waitForAgent(world, call, step.quietMs ?? DEFAULT_QUIET_MS);
    if (ended(call)) return;
    if (step.afterMs) await world.timers.sleep(step.afterMs);
    if (ended(call)) return;
    await callerSpeak(world, call, step.say, step.speakingMs);
  } else {
    await waitForAgent(world, call, step.quietMs ?? DEFAULT_QUIET_MS);
  }
}

/** Runs the steps in order; stops early when the call ends or the simulator closes. */
export async function runCallerScript(world: World, call: CallState, script: CallerScript): Promise<void> {
  for (const step of script.steps) {
    if (ended(call) || world.timers.closed) return;
    await runStep(world, call, step);
  }
}
