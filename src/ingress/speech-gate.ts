import { remember } from '../bounded';

/** The most speech signals one utterance sends a call's workflow: its start and a few interims. */
export const SPEECH_SIGNALS_PER_UTTERANCE = 4;
const MAX_UTTERANCES = 10_000;
/**
 * Interim results come every few hundred milliseconds: this long without one, the utterance is
 * over even if its end never came (an empty result has no final; a WebSocket frame does not say
 * which of start and end it is).
 */
export const UTTERANCE_GAP_MS = 3000;

/**
 * Which of VoIPBIN's speech events (`transcribe_speech_started`, `_interim`) go on to the call's
 * workflow: enough for it to cut the agent off before the final transcript (the start of speech,
 * and each interim with more words than the last one sent), never every partial result of a long
 * utterance, each of which would be an event in the call's history. The same event again (by
 * webhook and WebSocket) adds no word and goes nowhere.
 */
/** What the profiles of the agent config can act on, so that nothing else costs a signal. */
export interface SpeechPolicy {
  /** A profile cuts the agent off on the start of speech (`bargeIn: speech`). */
  starts: boolean;
  /** Interims with fewer words than this change nothing (Infinity: every profile waits for the final). */
  minWords: number;
}

export function speechPolicyOf(
  profiles: Iterable<{ bargeIn?: string; bargeInWords?: number }>,
): SpeechPolicy {
  let starts = false;
  let minWords = Infinity;
  for (const p of profiles) {
    const mode = p.bargeIn ?? 'words';
    if (mode === 'speech') {
      starts = true;
      minWords = 1; // a WebSocket frame has no start: its first words stand in
    } else if (mode === 'words') {
      minWords = Math.min(minWords, p.bargeInWords ?? 2);
    }
  }
  return { starts, minWords };
}

/**
 * How long speech waits before it is signalled: a final (or the end of speech) arriving meanwhile
 * makes it needless. Interim results come hundreds of milliseconds before the final on a real call,
 * so this costs an early barge-in little; when they come together (one short word, a fast
 * speech-to-text), the final is not held up behind a workflow task for the speech.
 */
export const SPEECH_SETTLE_MS = 40;

interface Utterance {
  words: number;
  sent: number;
  at: number;
}

export class SpeechGate {
  /** Per session, the utterance under way: a new object for each new utterance. */
  private readonly utterances = new Map<string, Utterance>();
  /** VoIPBIN's time of each session's last final: speech from before it is a late copy. */
  private readonly finals = new Map<string, number>();

  constructor(
    private readonly policy: SpeechPolicy = { starts: true, minWords: 1 },
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether this speech event of the transcribe session is worth a signal. */
  pass(transcribeId: string, started: boolean, text: string | undefined, eventAt?: number): boolean {
    const final = this.finals.get(transcribeId);
    // Of an utterance whose final was seen already (the other path's copy, a retry): stale.
    if (final !== undefined && eventAt !== undefined && eventAt <= final) return false;
    const now = this.now();
    let seen = this.utterances.get(transcribeId);
    if (seen && now - seen.at > UTTERANCE_GAP_MS) seen = undefined;
    if (started) {
      if (!this.policy.starts || seen) return false; // of no use, or a second copy of the start
      remember(this.utterances, transcribeId, { words: 0, sent: 1, at: now }, MAX_UTTERANCES);
      return true;
    }
    const words = (text ?? '').trim().split(/\s+/).filter(Boolean).length;
    if (words < this.policy.minWords) return false;
    if (seen && (words <= seen.words || seen.sent >= SPEECH_SIGNALS_PER_UTTERANCE)) return false;
    // The same utterance stays the same object: speech waiting in `settle` is still of it.
    const utterance = seen ?? { words: 0, sent: 0, at: now };
    Object.assign(utterance, { words, sent: utterance.sent + 1, at: now });
    remember(this.utterances, transcribeId, utterance, MAX_UTTERANCES);
    return true;
  }

  /**
   * The utterance ended (its final transcript at VoIPBIN's `finalAt`, or `_ended`): the next speech
   * is a new one, and what is older than the final is a late copy.
   */
  ended(transcribeId: string, finalAt?: number): void {
    this.utterances.delete(transcribeId);
    if (finalAt === undefined || !Number.isFinite(finalAt)) return;
    const latest = Math.max(finalAt, this.finals.get(transcribeId) ?? finalAt);
    remember(this.finals, transcribeId, latest, MAX_UTTERANCES);
  }

  /**
   * Waits `ms`; false when the utterance ended meanwhile (its final, or the end of speech, came):
   * the speech is needless then.
   */
  async settle(transcribeId: string, ms: number, sleep = defaultSleep): Promise<boolean> {
    const utterance = this.utterances.get(transcribeId);
    await sleep(ms);
    return utterance !== undefined && this.utterances.get(transcribeId) === utterance;
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
