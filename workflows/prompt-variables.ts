// What a profile's prompts may say about the call: `{{caller}}`, `{{called}}`, `{{direction}}`,
// `{{profile}}` (and, later, the variables an outbound call is given). Part of the workflow
// bundle: plain string work, deterministic.
import type { AgentProfile } from '../src/agent-config';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;
const HAS_PLACEHOLDER = new RegExp(PLACEHOLDER.source);

/** The names a text refers to. */
export function variablesIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/**
 * Fills each `{{name}}` with the call's value; a name the call has no value for becomes empty
 * (a greeting must never read a placeholder out to the caller).
 */
export function renderPrompt(text: string, variables: Readonly<Record<string, string>> = {}): string {
  return text.replace(PLACEHOLDER, (_, name: string) =>
    Object.hasOwn(variables, name) ? variables[name]! : '',
  );
}

/** The profile with its system prompt and greeting filled in for this call. */
export function profileFor(
  profile: AgentProfile,
  variables?: Readonly<Record<string, string>>,
): AgentProfile {
  if (!variables && !HAS_PLACEHOLDER.test(profile.systemPrompt + profile.greeting)) return profile;
  return {
    ...profile,
    systemPrompt: renderPrompt(profile.systemPrompt, variables),
    greeting: renderPrompt(profile.greeting, variables),
  };
}

/**
 * Of what is known of a call, only what the profile's prompts use, and the numbers its HTTP tools
 * are sent (as headers): a phone number goes into the call's history only when something asks for it.
 */
export function usedVariables(
  profile: Pick<AgentProfile, 'systemPrompt' | 'greeting'> & { tools?: readonly unknown[] | undefined },
  known: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  const used = new Set([...variablesIn(profile.systemPrompt), ...variablesIn(profile.greeting)]);
  if (profile.tools?.length) for (const name of ['caller', 'called']) used.add(name);
  const out = Object.fromEntries(Object.entries(known).filter(([name]) => used.has(name)));
  return Object.keys(out).length ? out : undefined;
}
