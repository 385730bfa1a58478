// Scenario files for `voipbin-agent simulate`: a scripted caller and what the agent must do, in YAML
// (or JSON). Read with one zod schema: a mistake is an error naming the file and the field.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatIssues } from '../config-error';
import type { CallerStep } from './simulator';
import { SANDBOX_FROM, SANDBOX_TO } from './numbers';
import { faultsSchema } from './simulator/faults';

const ms = z.number().int().min(0).max(600_000);

/** What the caller does, in order. */
const stepSchema = z.union([
  z
    .object({
      say: z.string().min(1),
      /** Speak over the agent: once it starts saying something new, after `afterMs`. */
      bargeIn: z.boolean().optional(),
      /** Before speaking: how long the agent must have been quiet (default 200 ms). */
      quietMs: ms.optional(),
      afterMs: ms.optional(),
      /** How long saying it takes: interim words arrive as it goes (default 0: all at once). */
      speakingMs: ms.optional(),
    })
    .strict(),
  z.object({ pause: ms }).strict(),
  z.object({ wait: z.literal('agent'), quietMs: ms.optional() }).strict(),
  z.object({ hangup: z.literal(true), afterMs: ms.optional() }).strict(),
]);

/** A text the agent says: exactly this, or containing, or matching a regular expression. */
const textSchema = z.union([
  z.string().min(1),
  z.object({ contains: z.string().min(1) }).strict(),
  z.object({ matches: z.string().min(1) }).strict(),
]);

/** What must happen, in this order (other things may happen between). */
const expectationSchema = z.union([
  z
    .object({
      agent: textSchema,
      /** From the caller's last words before it (the final transcript) to this line's `/say`. */
      withinMs: ms.optional(),
    })
    .strict(),
  z.object({ bargeIn: z.literal(true) }).strict(),
  z.object({ reprompt: z.literal(true) }).strict(),
  /** The model calls this tool (its arguments as JSON text; `ok`: whether it answered). */
  z
    .object({
      tool: z.string().min(1),
      arguments: textSchema.optional(),
      ok: z.boolean().optional(),
    })
    .strict(),
  z.object({ ended: z.string().min(1) }).strict(),
  /** How many turns (answers) the whole call had: a duplicate answered twice makes one too many. */
  z.object({ turns: z.number().int().min(0) }).strict(),
]);

export const scenarioSchema = z
  .object({
    name: z.string().min(1).optional(),
    /** The caller's number and the number called (the agent config's routes pick the profile). */
    from: z.string().min(1).default(SANDBOX_FROM),
    to: z.string().min(1).default(SANDBOX_TO),
    caller: z.array(stepSchema).min(1),
    expect: z.array(expectationSchema).min(1),
    /**
     * Faults the simulator injects during this call: `events` (`drop`, `duplicate`, `delayMs`) and
     * `rest` (`errorRate`, `status`, `latencyMs`, `paths`), by a seeded chance (`seed`).
     */
    faults: faultsSchema.optional(),
    /** The whole call must end within this (default 60 s). */
    timeoutSeconds: z.number().positive().max(600).default(60),
  })
  .strict();

export type Scenario = z.output<typeof scenarioSchema> & { file: string; title: string };
export type Expectation = z.output<typeof expectationSchema>;
export type TextMatcher = z.output<typeof textSchema>;

export function readScenario(file: string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`scenario ${file}: ${(err as Error).message}`);
  }
  const parsed = scenarioSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(`scenario ${file} is not valid:\n${formatIssues(parsed.error.issues)}`);
  for (const e of parsed.data.expect) {
    if ('agent' in e && typeof e.agent === 'object' && 'matches' in e.agent) {
      try {
        new RegExp(e.agent.matches);
      } catch (err) {
        throw new ConfigError(`scenario ${file}: expect: ${(err as Error).message}`);
      }
    }
  }
  return { ...parsed.data, file, title: parsed.data.name ?? file };
}

/** The simulator's caller script for the scenario's steps. */
export function callerScript(s: Scenario): CallerStep[] {
  return s.caller.map((step): CallerStep => {
    if ('say' in step) {
      return {
        say: step.say,
        ...(step.bargeIn ? { duringAgentSpeech: true } : { waitForAgent: true }),
        ...(step.quietMs !== undefined && { quietMs: step.quietMs }),
        ...(step.afterMs !== undefined && { afterMs: step.afterMs }),
        ...(step.speakingMs !== undefined && { speakingMs: step.speakingMs }),
      };
    }
    if ('pause' in step) return { pause: step.pause };
    if ('wait' in step)
      return { waitForAgent: true, ...(step.quietMs !== undefined && { quietMs: step.quietMs }) };
    return { hangup: true, ...(step.afterMs !== undefined && { afterMs: step.afterMs }) };
  });
}

export function describeText(t: TextMatcher): string {
  if (typeof t === 'string') return JSON.stringify(t);
  return 'contains' in t ? `containing ${JSON.stringify(t.contains)}` : `matching /${t.matches}/`;
}

export function textMatches(t: TextMatcher, text: string): boolean {
  if (typeof t === 'string') return text === t;
  return 'contains' in t ? text.includes(t.contains) : new RegExp(t.matches).test(text);
}
