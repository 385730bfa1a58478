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
    found: (result: string) => `Here is what I found: ${result}. Is there anything else I can help you with?`,
    failed: (error: string) => `Sorry, that did not work: ${error}. Is there anything else I can do?`,
  },
  {
    echo: (said: string) => `I heard: ${said}. What else can I do for you?`,
    greeting: 'Hi there! What can I do for you today?',
    goodbye: 'Goodbye, take care!',
    afterTool: 'That is done. What else can I do for you?',
    found: (result: string) => `I looked it up: ${result}. What else can I do for you?`,
    failed: (error: string) => `I am sorry, it failed: ${error}. What else can I do for you?`,
  },
  {
    echo: (said: string) => `Got it: ${said}. Is there anything else you need?`,
    greeting: 'Good day! How may I help you?',
    goodbye: 'Bye for now!',
    afterTool: 'Finished. Can I help you with anything else?',
    found: (result: string) => `The answer is ${result}. Can I help you with anything else?`,
    failed: (error: string) => `That went wrong: ${error}. Can I help you with anything else?`,
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
 * tool call. A caller who names one of the offered tools (a word of its name, e.g. "balance" for
 * `get_balance`) gets it called, with arguments taken from what they said; asking for a person
 * calls `transfer_call` when it is offered. Right after tool results it answers with them (text
 * only), so an agent loop always ends.
 */
export function defaultReply(req: FakeLlmRequest): FakeLlmReply {
  const words = wordingOf(req.generation ?? 0);
  const last = req.messages[req.messages.length - 1];
  if (last?.role === 'tool') {
    const results = trailingToolResults(req);
    if (results.length === 0 || results.every((r) => r === '' || r === 'ok'))
      return { text: words.afterTool };
    const failed = results.find((r) => r.startsWith('error: '));
    if (failed) return { text: words.failed(failed.slice('error: '.length).replace(/[.!?\s]+$/u, '')) };
    return { text: words.found(results.map(readable).join('; ')) };
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
  const tool = offeredTools(req).find((t) => asksFor(said, t));
  if (tool) return { toolCalls: [{ name: tool.name, arguments: argumentsFrom(said, tool.parameters) }] };
  return { text: words.echo(said.replace(/[.!?…\s]+$/u, '')) };
}

interface OfferedTool {
  name: string;
  parameters: { properties?: Record<string, { type?: string }>; required?: string[] };
}

const PERSON = /\b(person|human|someone|operator|representative|agent|transfer)\b/i;
/** Words of a tool's name too common to say it was asked for. */
const GENERIC = new Set(['get', 'set', 'call', 'check', 'find', 'make', 'list', 'the', 'end']);

function offeredTools(req: FakeLlmRequest): OfferedTool[] {
  return (req.tools ?? []).flatMap((t) => {
    const fn = (t as { function?: { name?: unknown; parameters?: unknown } }).function;
    if (typeof fn?.name !== 'string' || fn.name === 'end_call') return [];
    return [{ name: fn.name, parameters: fn.parameters ?? {} }];
  });
}

function asksFor(said: string, tool: OfferedTool): boolean {
  if (tool.name === 'transfer_call') return PERSON.test(said);
  const lower = said.toLowerCase();
  return tool.name
    .toLowerCase()
    .split(/[_-]+/)
    .some((w) => w.length >= 3 && !GENERIC.has(w) && lower.includes(w));
}

/** Each required parameter from what was said: the word after its name, else the first number, else "unknown". */
function argumentsFrom(said: string, parameters: OfferedTool['parameters']): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  const number = /\d+(?:\.\d+)?/.exec(said)?.[0];
  for (const name of parameters.required ?? []) {
    const type = parameters.properties?.[name]?.type;
    const after = new RegExp(`\\b${name}\\b\\W+([\\w+-]+(?:\\.\\w+)*)`, 'i').exec(said)?.[1];
    if (type === 'number' || type === 'integer') args[name] = Number(after ?? number ?? 1);
    else if (type === 'boolean') args[name] = true;
    else args[name] = after ?? number ?? 'unknown';
  }
  return args;
}

/** The results of the last tool calls, in order. */
function trailingToolResults(req: FakeLlmRequest): string[] {
  const out: string[] = [];
  for (let i = req.messages.length - 1; i >= 0 && req.messages[i]?.role === 'tool'; i--)
    out.unshift((req.messages[i]?.content ?? '').trim());
  return out;
}

/** A JSON object's fields as "key value" pairs; anything else as it came. */
function readable(result: string): string {
  try {
    const value: unknown = JSON.parse(result);
    if (value && typeof value === 'object' && !Array.isArray(value))
      return Object.entries(value as Record<string, unknown>)
        .map(([k, v]) => `${k.replace(/_/g, ' ')} ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(', ');
  } catch {
    // Plain text.
  }
  return result.replace(/[.!?\s]+$/u, '');
}
