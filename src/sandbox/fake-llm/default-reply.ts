import type { FakeLlmReply, FakeLlmRequest } from './types';

const GOODBYE = /\b(good-?bye|bye)\b/i;

/**
 * Each answer in the wording of generation 0 (what existing tests and the demo expect), then of
 * later generations, taking turns: a regenerated answer is worded differently, as a sampled model's
 * is, but stays recognisable.
 */
const WORDINGS = [
  {
    echo: (said: string) => `You said: ${said}. How else can I help you today?`,
    greeting: 'Hello! How can I help you today?',
    goodbye: 'Goodbye!',
    afterTool: 'All done. Is there anything else I can help you with?',
  },
  {
    echo: (said: string) => `I heard: ${said}. What else can I do for you?`,
    greeting: 'Hi there! What can I do for you today?',
    goodbye: 'Goodbye, take care!',
    afterTool: 'That is done. What else can I do for you?',
  },
  {
    echo: (said: string) => `Got it: ${said}. Is there anything else you need?`,
    greeting: 'Good day! How may I help you?',
    goodbye: 'Bye for now!',
    afterTool: 'Finished. Can I help you with anything else?',
  },
] as const;

function wordingOf(generation: number): (typeof WORDINGS)[number] {
  const later = WORDINGS.length - 1;
  const index = generation <= 0 ? 0 : 1 + ((generation - 1) % later);
  return WORDINGS[index] ?? WORDINGS[0];
}

/**
 * A deterministic, friendly answer of at least two sentences (so sentence splitting is exercised),
 * worded by the request's generation. A caller who says goodbye gets a goodbye and an `end_call`
 * tool call. Right after a tool result it answers with text only, so an agent loop always ends.
 */
export function defaultReply(req: FakeLlmRequest): FakeLlmReply {
  const words = wordingOf(req.generation ?? 0);
  const last = req.messages[req.messages.length - 1];
  if (last?.role === 'tool') {
    return { text: words.afterTool };
  }
  const lastUser = [...req.messages].reverse().find((m) => m.role === 'user');
  const said = (lastUser?.content ?? '').replace(/\s+/g, ' ').trim();
  if (said === '') {
    return { text: words.greeting };
  }
  if (GOODBYE.test(said)) {
    return {
      text: words.goodbye,
      toolCalls: [{ name: 'end_call', arguments: { reason: 'caller said goodbye' } }],
    };
  }
  return { text: words.echo(said.replace(/[.!?…\s]+$/u, '')) };
}
