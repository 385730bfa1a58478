import type { LlmMessage } from '../activities/types';
import type { ConversationMessage } from './messages';

/** The conversation as the caller experienced it: what was heard and what was actually sent. */
export class Conversation {
  readonly messages: ConversationMessage[] = [];

  caller(text: string, at: number): void {
    this.messages.push({ role: 'caller', text, at });
  }

  /** Starts an agent utterance; sentences are added as they are sent. */
  agent(kind: NonNullable<ConversationMessage['kind']>, at: number): ConversationMessage {
    const message: ConversationMessage = { role: 'agent', text: '', at, kind };
    this.messages.push(message);
    return message;
  }

  /** What the LLM sees: the agent's words as sent (an interrupted reply is cut where it was cut). */
  llmMessages(): LlmMessage[] {
    return this.messages
      .filter((m) => m.text !== '')
      .map((m) => ({ role: m.role === 'caller' ? 'user' : 'assistant', content: m.text }));
  }
}

export function appendSentence(message: ConversationMessage, sentence: string): void {
  message.text = message.text ? `${message.text} ${sentence}` : sentence;
}

/** Remembers the ids it has seen: VoIPBIN events repeat (webhook and WebSocket, retries). */
export class SeenIds {
  private readonly ids = new Set<string>();
  private readonly order: string[] = [];

  constructor(private readonly capacity = 2000) {}

  /** True the first time an id is seen. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    this.order.push(id);
    if (this.order.length > this.capacity) this.ids.delete(this.order.shift()!);
    return true;
  }
}
