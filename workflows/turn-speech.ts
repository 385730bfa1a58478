// What a speaking turn (profile `replySpeech: direct`) says it said, read the same way by the
// activity that continues it, the flush that cuts it off, the workflow and `inspect`.
import type { SpokenSentence, TurnSpeech, TurnSpoken } from '../activities/types';
import { estimatePlaybackMs } from './playback';

/**
 * What a turn's record says was heard: its sentences, and the one whose `/say` was out when it was
 * written, counted as said (`failed`: maybe said), so that it is never said again.
 */
export function heardOf(speech: TurnSpeech | undefined): SpokenSentence[] {
  const said = Array.isArray(speech?.said) ? speech.said : [];
  return speech?.saying ? [...said, { ...speech.saying, outcome: 'failed' }] : [...said];
}

/**
 * When sentences sent at their `at` stop playing, by the voice's pace (VoIPBIN reports no end of
 * playback): each starts when its `/say` went out or when what played before it ends (`from`).
 */
export function playsUntil(said: SpokenSentence[], charsPerSecond: number, from = 0): number {
  let end = from;
  for (const s of said) end = Math.max(end, s.at) + estimatePlaybackMs(s.text, charsPerSecond);
  return end;
}

/**
 * A report's sentences on the workflow's clock: their `at` is the worker's, moved by how far the
 * report's own time (`at`, when it has one) is from the workflow's `now`, whatever the worker's
 * clock says.
 */
export function onWorkflowClock(spoken: TurnSpoken | undefined, now: number): SpokenSentence[] {
  const said = spoken?.said ?? [];
  const shift = spoken?.at === undefined ? 0 : now - spoken.at;
  return shift === 0 ? said : said.map((s) => ({ ...s, at: s.at + shift }));
}
