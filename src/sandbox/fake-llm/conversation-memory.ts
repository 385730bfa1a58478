import { continuationPrompt, continuedFrom } from '../../../activities/continuation';
import type { FakeLlmMessage, FakeLlmToolCall } from './types';

/** A conversation as the model sees it, and what a continuation note says was already said. */
export interface Conversation {
  /** Stable JSON of the roles and contents, with any continuation note taken out. */
  key: string;
  said?: string;
}

export interface Answer {
  generation: number;
  text: string;
  toolCalls: FakeLlmToolCall[];
}

/**
 * The note is taken out of the key so that a retried turn, a continuation of it and a plain retry
 * of it are all recognised as the same conversation.
 */
export function conversationOf(messages: FakeLlmMessage[]): Conversation {
  let said: string | undefined;
  const visible = messages.map((m): [string, string | null] => {
    const note = m.role === 'system' && m.content !== null ? continuedFrom(m.content) : undefined;
    if (m.content === null || note === undefined) return [m.role, m.content];
    said = note;
    return [m.role, m.content.replace(continuationPrompt('', note), '')];
  });
  return { key: JSON.stringify(visible), ...(said === undefined ? {} : { said }) };
}

/**
 * What the fake model asked and answered per conversation: how many fresh generations there were
 * (so a regenerated answer can be worded differently) and the full text of each, so that a
 * continuation can go on from the one the caller was hearing, like a deterministic model would.
 */
export class ConversationMemory {
  private readonly asked = new Map<string, number>();
  private readonly answers = new Map<string, Answer[]>();

  /** Counts one fresh ask of the conversation; returns its generation, 0 the first time. */
  ask(key: string): number {
    const generation = this.asked.get(key) ?? 0;
    this.asked.set(key, generation + 1);
    return generation;
  }

  remember(key: string, answer: Answer): void {
    const answers = this.answers.get(key) ?? [];
    answers.push(answer);
    this.answers.set(key, answers);
  }

  /**
   * The latest earlier answer that starts with `said`, and the rest of it. The latest, because a
   * retry continues the attempt that was cut off, which is the most recent one.
   */
  continuation(key: string, said: string): { answer: Answer; remainder: string } | undefined {
    const answers = this.answers.get(key) ?? [];
    for (let i = answers.length - 1; i >= 0; i--) {
      const answer = answers[i];
      const end = answer === undefined ? undefined : endOfPrefix(answer.text, said);
      if (answer !== undefined && end !== undefined) {
        return { answer, remainder: answer.text.slice(end).trimStart() };
      }
    }
    return undefined;
  }
}

const SPACE = /\s/;

/**
 * Where `prefix` ends in `text` if `text` starts with it, comparing any run of whitespace as one
 * space and ignoring leading and trailing whitespace: what the caller heard was reassembled from
 * sentences, so its spacing need not match the streamed text's.
 */
export function endOfPrefix(text: string, prefix: string): number | undefined {
  const wanted = prefix.replace(/\s+/g, ' ').trim();
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && SPACE.test(text.charAt(i))) i++;
  };
  skipSpace();
  for (const ch of wanted) {
    if (ch === ' ') {
      if (i >= text.length || !SPACE.test(text.charAt(i))) return undefined;
      skipSpace();
    } else if (text.startsWith(ch, i)) {
      i += ch.length;
    } else {
      return undefined;
    }
  }
  return i;
}
