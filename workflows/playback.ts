// VoIPBIN reports no end of playback (speaking events are never delivered), so the agent
// estimates when its speech has finished playing from the text's length.

/** About 150 words a minute: the pace of typical TTS voices. */
export const SPEECH_CHARS_PER_SECOND = 15;

export function estimatePlaybackMs(text: string, charsPerSecond = SPEECH_CHARS_PER_SECOND): number {
  return Math.ceil((text.length / charsPerSecond) * 1000);
}
