import type { FakeLlmReply, FakeLlmRequest } from './types';

const GOODBYE = /\b(good-?bye|bye)\b/i;

/**
 * A deterministic, friendly answer of at least two sentences (so sentence splitting is exercised).
 * A caller who says goodbye gets "Goodbye!" and an `end_call` tool call. Right after a tool result it
 * answers with text only, so an agent loop always ends.
 */
export function defaultReply(req: FakeLlmRequest): FakeLlmReply {
  const last = req.messages[req.messages.length - 1];
  if (last?.role === 'tool') {
    return { text: 'All done. Is there anything else I can help you with?' };
  }
  const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
  const said = (lastUser?.content ?? '').replace(/\s+/g, ' ').trim();
  if (said === '') {
    return { text: 'Hello! How can I help you today?' };
  }
  if (GOODBYE.test(said)) {
    return {
      text: 'Goodbye!',
      toolCalls: [{ name: 'end_call', arguments: { reason: 'caller said goodbye' } }],
    };
  }
  return { text: `You said: ${said.replace(/[.!?…\s]+$/u, '')}. How else can I help you today?` };
}
