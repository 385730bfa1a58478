// How the agent tells a caller's "mm-hmm" from an interruption, an unfinished sentence from a
// question, and how long its own speech plays: per language, plain functions of the text. Part of
// the workflow bundle: deterministic, no I/O.
import { SPEECH_CHARS_PER_SECOND } from './playback';

/**
 * Short acknowledgements that, said while the agent speaks or thinks, only show the caller is
 * listening (hyphens count as spaces: "mm-hmm" is "mm hmm"). By the language's primary subtag.
 */
// prettier-ignore
export const BACKCHANNELS: Readonly<Record<string, readonly string[]>> = {
  en: ['mm hmm', 'mhm', 'mm', 'hmm', 'uh huh', 'um hum', 'okay', 'ok', 'k', 'yeah', 'yes', 'yep', 'yup', 'right', 'sure', 'i see', 'got it', 'alright', 'all right', 'cool', 'great', 'oh', 'ah', 'aha', 'nice', 'exactly', 'true', 'of course', 'good', 'fine', 'perfect', 'gotcha', 'understood', 'wow'],
  es: ['sí', 'si', 'vale', 'ajá', 'aja', 'claro', 'ya', 'bueno', 'ok', 'okey', 'mhm', 'mm', 'entiendo', 'de acuerdo', 'ah', 'perfecto', 'exacto'],
  fr: ['oui', 'ouais', "d'accord", 'ok', 'okay', 'mhm', 'hmm', 'je vois', 'bien sûr', 'ah', 'oh', 'voilà', 'exactement', 'parfait', 'super'],
  de: ['ja', 'jaja', 'okay', 'ok', 'mhm', 'hm', 'genau', 'stimmt', 'klar', 'aha', 'ach so', 'gut', 'richtig', 'alles klar', 'super', 'verstehe'],
  it: ['sì', 'si', 'ok', 'okay', 'certo', 'mhm', 'ah', 'capito', 'va bene', 'esatto', 'perfetto', 'giusto'],
  pt: ['sim', 'ok', 'tá', 'ta', 'certo', 'claro', 'aham', 'uhum', 'entendi', 'beleza', 'ah', 'exato', 'perfeito'],
  ja: ['はい', 'ええ', 'うん', 'なるほど', 'そうですね', 'そうですか', 'へえ', 'ああ'],
  ko: ['네', '예', '응', '아', '그렇군요', '맞아요', '그래요'],
  zh: ['嗯', '对', '好', '好的', '是', '是的', '明白', '哦', '啊'],
};

/**
 * Words a statement does not end on (conjunctions, articles, possessives, fillers): a final that
 * ends with one, even with a full stop, is the first half of an utterance the speech-to-text split
 * at a pause. Kept short: a complete sentence taken for a half waits for nothing.
 */
// prettier-ignore
export const CONTINUATIONS: Readonly<Record<string, readonly string[]>> = {
  en: ['and', 'or', 'but', 'because', 'the', 'a', 'an', 'my', 'your', 'our', 'their', 'of', 'um', 'uh', 'er'],
  es: ['y', 'o', 'pero', 'porque', 'el', 'la', 'los', 'las', 'un', 'una', 'mi', 'mis', 'su', 'sus', 'del', 'eh'],
  fr: ['et', 'ou', 'mais', 'parce', 'le', 'la', 'les', 'un', 'une', 'mon', 'ma', 'mes', 'votre', 'vos', 'du', 'des', 'euh'],
  de: ['und', 'oder', 'aber', 'weil', 'ein', 'eine', 'einen', 'mein', 'meine', 'äh', 'ähm'],
  it: ['e', 'o', 'ma', 'perché', 'il', 'lo', 'la', 'gli', 'le', 'un', 'una', 'mio', 'mia', 'del', 'della', 'ehm'],
  pt: ['e', 'ou', 'mas', 'porque', 'o', 'a', 'os', 'as', 'um', 'uma', 'meu', 'minha', 'do', 'da', 'hum'],
};

/** Typical TTS pace in characters a second, by primary subtag (about 150 words a minute in English). */
export const SPEECH_RATES: Readonly<Record<string, number>> = {
  en: 15,
  es: 16,
  fr: 15,
  de: 14,
  it: 15,
  pt: 15,
  nl: 14,
  ja: 8,
  ko: 7,
  zh: 5,
};

/** The profile's pace, else its language's, else about 150 words a minute. */
export function speechRateOf(language: string, charsPerSecond?: number): number {
  return charsPerSecond ?? SPEECH_RATES[primaryLanguage(language)] ?? SPEECH_CHARS_PER_SECOND;
}

/** `en-US` → `en`. */
export function primaryLanguage(language: string): string {
  return language.toLowerCase().split(/[-_]/)[0] ?? '';
}

/** Lower case, punctuation gone (apostrophes inside words kept), hyphens as spaces, one space apart. */
export function normalizeUtterance(text: string): string {
  return text
    .toLowerCase()
    .replace(/[’‘]/g, "'")
    .replace(/[-‐–—]/g, ' ')
    .replace(/[^\p{L}\p{N}'\s]/gu, ' ')
    .replace(/(^|\s)'+|'+(?=\s|$)/g, '$1')
    .trim()
    .replace(/\s+/g, ' ');
}

export interface BackchannelRule {
  /** Normalized phrases (normalizeUtterance). */
  phrases: string[];
  /** Longer than this (in words) is never a backchannel. 0: nothing is. */
  maxWords: number;
}

export function backchannelRule(
  language: string,
  phrases: readonly string[] | undefined,
  maxWords: number,
): BackchannelRule {
  const list = phrases ?? BACKCHANNELS[primaryLanguage(language)] ?? [];
  return { phrases: [...new Set(list.map(normalizeUtterance).filter(Boolean))], maxWords };
}

/**
 * Only acknowledgements, at most `maxWords` words: "Mm-hmm.", "okay", "yeah, right". Anything
 * else ("okay, stop", "no wait") is something the caller says.
 */
export function isBackchannel(text: string, rule: BackchannelRule): boolean {
  const words = normalizeUtterance(text).split(' ').filter(Boolean);
  if (words.length === 0 || words.length > rule.maxWords) return false;
  const phrases = new Set(rule.phrases);
  // Each word starts a phrase of the list: greedy, longest first ("all right" before "all").
  for (let i = 0; i < words.length;) {
    let matched = 0;
    for (let n = Math.min(words.length - i, 4); n >= 1 && !matched; n--) {
      if (phrases.has(words.slice(i, i + n).join(' '))) matched = n;
    }
    if (!matched) return false;
    i += matched;
  }
  return true;
}

/**
 * The speech-to-text ended a final at a pause, but the caller had not finished: no sentence end
 * (`.`, `?`, `!`; an ellipsis or a trailing comma is none), or a statement's last word no sentence
 * ends on. A question is always complete.
 */
export function looksUnfinished(text: string, language: string): boolean {
  const trimmed = text.trim();
  if (!trimmed) return false;
  if (/(\.\.\.|…|,|;|:|-|–|—)$/.test(trimmed)) return true;
  if (/[?？]$/.test(trimmed)) return false;
  if (!/[.!。！]$/.test(trimmed)) return true;
  const words = normalizeUtterance(trimmed).split(' ');
  const last = words[words.length - 1] ?? '';
  return (CONTINUATIONS[primaryLanguage(language)] ?? []).includes(last);
}

/** What of the caller's speech, heard while the agent speaks or thinks, cuts it off (profile `bargeIn`). */
export interface BargeInRule {
  /** `final`: only a final transcript; `words`: `words` words before it; `speech`: its start. */
  mode: 'words' | 'speech' | 'final';
  words: number;
  backchannel: BackchannelRule;
  /** VoIPBIN's time of the newest final transcript: speech from before it is a late copy. */
  since?: number;
}

/** What the caller said: a final transcript, or speech before it (its start has no text). */
export interface CallerHeard {
  final: boolean;
  text?: string;
  /** VoIPBIN's time of the speech (epoch ms), when it gave one. */
  at?: number;
}

/**
 * Whether what the caller said cuts the agent off while it speaks or thinks: any final but an
 * acknowledgement ("mm-hmm"); before the final, by the rule's mode, never what is, so far, only
 * acknowledgements ("mm hmm okay", however many words), and never a late copy (the other path, a
 * retry) of speech whose final is in: the turn that final started is the answer to it. The
 * workflow decides by this, and so does a speaking turn that hears the caller first in its own
 * process (activities/turn-speech.ts).
 */
export function cutsIn(rule: BargeInRule, heard: CallerHeard): boolean {
  const text = heard.text?.trim() ?? '';
  if (heard.final) return text !== '' && !isBackchannel(text, rule.backchannel);
  if (heard.at !== undefined && heard.at <= (rule.since ?? -Infinity)) return false;
  if (rule.mode === 'final') return false;
  if (rule.mode === 'speech') return true;
  const words = normalizeUtterance(text).split(' ').filter(Boolean);
  if (words.length < rule.words) return false;
  return !(
    rule.backchannel.maxWords > 0 && isBackchannel(text, { ...rule.backchannel, maxWords: words.length })
  );
}
