// Splits a streamed reply into sentences, each ready for `/say` as soon as it is complete.

const ABBREVIATIONS = new Set([
  'mr',
  'mrs',
  'ms',
  'dr',
  'prof',
  'sr',
  'jr',
  'st',
  'vs',
  'etc',
  'e.g',
  'i.e',
  'a.m',
  'p.m',
  'approx',
  'dept',
  'inc',
  'ltd',
  'co',
]);

// Sentence-ending punctuation, optional closing quotes or brackets, then whitespace.
const BOUNDARY = /[.!?…]+["'”’)\]]*\s+|\n+/g;
// The same punctuation at the very end of the text.
const SENTENCE_END = /[.!?…]+["'”’)\]]*$/;

function endsWithAbbreviation(text: string): boolean {
  if (/^\d{1,2}\.$/.test(text.trim())) return true; // a list marker such as "1."
  const word = /([\p{L}.]+)\.$/u.exec(text)?.[1]?.toLowerCase();
  if (!word) return false;
  return ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word); // "Dr." or an initial such as "J."
}

export class SentenceSplitter {
  private buffer = '';

  /** Adds streamed text; returns the sentences it completed. */
  push(delta: string): string[] {
    this.buffer += delta;
    const sentences: string[] = [];
    let start = 0;
    BOUNDARY.lastIndex = 0;
    for (let m = BOUNDARY.exec(this.buffer); m; m = BOUNDARY.exec(this.buffer)) {
      const candidate = this.buffer.slice(start, m.index + m[0].trimEnd().length);
      if (m[0].includes('\n') || !endsWithAbbreviation(candidate)) {
        const sentence = candidate.trim();
        if (sentence) sentences.push(sentence);
        start = m.index + m[0].length;
      }
    }
    this.buffer = this.buffer.slice(start);
    return sentences;
  }

  /**
   * The stream paused: what is buffered goes out now if it ends like a sentence, instead of
   * waiting for the next token to bring the space after it.
   */
  flushComplete(): string[] {
    const rest = this.buffer.trim();
    if (!SENTENCE_END.test(rest) || endsWithAbbreviation(rest)) return [];
    this.buffer = '';
    return [rest];
  }

  /** The stream ended: whatever is left is the last sentence. */
  end(): string[] {
    const rest = this.buffer.trim();
    this.buffer = '';
    return rest ? [rest] : [];
  }
}

export function splitSentences(text: string): string[] {
  const splitter = new SentenceSplitter();
  return [...splitter.push(text), ...splitter.end()];
}
