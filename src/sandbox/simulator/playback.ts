import { echoAgentSpeech } from './speech';
import type { PlaybackEvent } from './types';
import type { CallState, World } from './world';

/**
 * The TTS playback model: one queue per call. Each said text plays for
 * ceil(chars / speechCharsPerSecond * 1000) ms, one after another. A text that finished playing
 * is heard by the caller (and, with echoAgentSpeech, comes back as a transcript 'out'). A flush
 * drops the text being played and everything queued: none of it is heard.
 */

export function playbackMs(world: World, text: string): number {
  return Math.ceil((text.length / world.config.speechCharsPerSecond) * 1000);
}

/** Tells whoever listens to the call's playback (SimCall.onPlayback); a listener's error stays its own. */
export function tellPlayback(world: World, call: CallState, event: PlaybackEvent): void {
  for (const listener of [...call.playbackListeners]) {
    try {
      listener(event);
    } catch (err) {
      world.log('playback listener failed', { callId: call.record.id, err });
    }
  }
}

export function isPlaybackIdle(call: CallState): boolean {
  return call.playback.current === undefined && call.playback.queue.length === 0;
}

export function enqueueSay(world: World, call: CallState, text: string): void {
  call.playback.queue.push(text);
  playNext(world, call);
}

function playNext(world: World, call: CallState): void {
  const pb = call.playback;
  if (pb.current) return;
  const text = pb.queue.shift();
  if (text === undefined) return;
  if (call.record.status !== 'progressing') {
    // Nobody is on the line to hear it.
    pb.queue = [];
    world.notify(call);
    return;
  }
  pb.starts += 1;
  const cancel = world.timers.after(playbackMs(world, text), () => {
    pb.current = undefined;
    call.heard.push(text);
    if (world.config.echoAgentSpeech) echoAgentSpeech(world, call, text);
    playNext(world, call);
    world.notify(call);
  });
  pb.current = { text, cancel };
  tellPlayback(world, call, { kind: 'playing', text });
  world.notify(call);
}

/** Drops what is playing (cut off, returned as `interrupted`) and what is queued (`unplayed`). */
export function flushPlayback(world: World, call: CallState): { interrupted?: string; unplayed: string[] } {
  const pb = call.playback;
  const dropped = { ...(pb.current && { interrupted: pb.current.text }), unplayed: pb.queue };
  pb.current?.cancel();
  pb.current = undefined;
  pb.queue = [];
  world.notify(call);
  return dropped;
}
