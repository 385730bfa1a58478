// How a streamed answer is cut into content deltas and where the stream waits between them, so
// that it arrives the way a real model's does: in small pieces, pausing after each sentence,
// sometimes stalling mid-reply.

/** Sentence-ending punctuation and any closing quotes or brackets, before whitespace or the end. */
const SENTENCE_END = /[.!?…]+["'”’)\]]*(?=\s|$)/gu;

export interface ContentPiece {
  text: string;
  /** This delta ends a sentence: the stream pauses after it. */
  endsSentence: boolean;
  /** The stall comes after this delta. */
  stallsAfter: boolean;
}

export interface StreamPlan {
  pieces: ContentPiece[];
  /** The stall comes right after the role chunk, before any content. */
  stallsFirst: boolean;
}

export interface Pacing {
  chunkDelayMs: number;
  sentencePauseMs: number;
  stallMs: number;
}

/**
 * Deltas of at most `size` code points. A sentence end always ends a delta, so the whitespace after
 * it comes in the next one, as a model's tokens do: a sentence splitter cannot know the sentence
 * ended until then. The stall point, if any, ends a delta too.
 */
export function planStream(text: string, size: number, stallAfterChars?: number): StreamPlan {
  const chars = Array.from(text);
  const sentenceEnds = new Set<number>();
  for (const m of text.matchAll(SENTENCE_END)) {
    sentenceEnds.add(Array.from(text.slice(0, (m.index ?? 0) + m[0].length)).length);
  }
  const stallAt =
    stallAfterChars === undefined
      ? undefined
      : Math.min(chars.length, Math.max(0, Math.floor(stallAfterChars)));
  const cuts = [...new Set([0, ...sentenceEnds, stallAt ?? 0, chars.length])].sort((a, b) => a - b);
  const step = Math.max(1, Math.floor(size));
  const pieces: ContentPiece[] = [];
  for (let c = 1; c < cuts.length; c++) {
    const to = cuts[c] ?? 0;
    for (let from = cuts[c - 1] ?? 0; from < to; from += step) {
      const end = Math.min(from + step, to);
      pieces.push({
        text: chars.slice(from, end).join(''),
        endsSentence: sentenceEnds.has(end),
        stallsAfter: end === stallAt,
      });
    }
  }
  return { pieces, stallsFirst: stallAt === 0 };
}

/**
 * How long to wait after chunk `index` of the stream: chunk 0 is the role chunk, the pieces follow,
 * then the tool calls and the finish chunk. The longest applicable wait wins, so a sentence pause
 * or a stall replaces the ordinary `chunkDelayMs` rather than adding to it.
 */
export function waitAfter(plan: StreamPlan, index: number, pacing: Pacing): number {
  const piece = index === 0 ? undefined : plan.pieces[index - 1];
  const stalls = index === 0 ? plan.stallsFirst : (piece?.stallsAfter ?? false);
  return Math.max(
    pacing.chunkDelayMs,
    piece?.endsSentence ? pacing.sentencePauseMs : 0,
    stalls ? pacing.stallMs : 0,
  );
}
