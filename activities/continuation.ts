// How a retried LLM turn asks the model to continue the reply an earlier attempt started, with
// nothing but the Chat Completions basics every OpenAI-compatible server understands: the note
// goes into the system message, the conversation still ends with the caller's words. (A trailing
// assistant message as a "prefill" is a provider-only feature; a system message after the first
// one is refused by some chat templates.)

const OPEN = '<<<';
const CLOSE = '>>>';

/** The system prompt of a continuation: the caller already heard `said`, the model goes on from there. */
export function continuationPrompt(systemPrompt: string, said: string): string {
  return (
    `${systemPrompt}\n\n` +
    'Your reply to the caller was cut off by a technical problem. The caller has already heard ' +
    `this part of it, word for word: ${OPEN}${said}${CLOSE}\n` +
    'Continue that reply from exactly where it stopped. Do not repeat any of it, do not start ' +
    'over, and do not mention the interruption. If it was already complete, answer with nothing.'
  );
}

/** What a continuation prompt says was already said; `undefined` for an ordinary system prompt. */
export function continuedFrom(systemPrompt: string): string | undefined {
  const marker = `this part of it, word for word: ${OPEN}`;
  const start = systemPrompt.lastIndexOf(marker);
  if (start < 0) return undefined;
  const end = systemPrompt.indexOf(CLOSE, start + marker.length);
  return end < 0 ? undefined : systemPrompt.slice(start + marker.length, end);
}
