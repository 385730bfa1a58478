// What a profile lets the model do besides talking: HTTP tools and the transfer to a person
// (SPEC §3). The shapes are public; the checks here run when the config is loaded, and again in
// the worker, whose environment fills the `${VAR}`s.
import { z } from 'zod';
import { ConfigError } from './config-error';

/** The tools the agent itself defines: a profile's tools may not take their names. */
export const BUILT_IN_TOOLS = ['end_call', 'transfer_call'] as const;

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export const toolHttpSchema = z.strictObject({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  /** `${VAR}` allowed, e.g. `https://${CRM_HOST}/balance`. */
  url: z.string().min(1),
  /** `${VAR}` allowed in values, e.g. `Bearer ${CRM_TOKEN}`. */
  headers: z.record(z.string().min(1), z.string()).default({}),
  /** One attempt's limit; a timed-out tool is an error result for the model, not retried. */
  timeoutSeconds: z.number().positive().max(120).default(10),
});

export const toolSchema = z.strictObject({
  /** As OpenAI's function calling allows: letters, digits, `_` and `-`, at most 64. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only, at most 64 characters')
    .refine((name) => !(BUILT_IN_TOOLS as readonly string[]).includes(name), {
      message: `is built in (${BUILT_IN_TOOLS.join(', ')}): choose another name`,
    }),
  description: z.string().min(1),
  /** A JSON Schema object: what the model must send; the arguments are checked against it. */
  parameters: z
    .record(z.string(), z.unknown())
    .default({ type: 'object', properties: {} })
    .refine((schema) => schema['type'] === 'object', {
      message: 'must be a JSON Schema with "type": "object"',
    }),
  http: toolHttpSchema,
  /** Said once, when the tool has run longer than the profile's `toolFillerDelaySeconds`. */
  fillerText: z.string().min(1).optional(),
});

export const transferSchema = z.strictObject({
  /** The number the call is transferred to (a `tel` address), e.g. `+15550001111`. */
  to: z.string().min(1),
  /** Said before the transfer. */
  text: z.string().min(1).default('Let me put you through.'),
  /** What the model is told the tool is for. */
  description: z.string().min(1).optional(),
});

export type ToolConfig = z.output<typeof toolSchema>;
export type ToolHttp = z.output<typeof toolHttpSchema>;
export type TransferConfig = z.output<typeof transferSchema>;

/** The `${VAR}` names a tool's URL and headers use. */
export function variablesOf(http: Pick<ToolHttp, 'url' | 'headers'>): string[] {
  const texts = [http.url, ...Object.values(http.headers)];
  return [...new Set(texts.flatMap((t) => [...t.matchAll(VARIABLE)].map((m) => m[1]!)))];
}

/** `text` with each `${VAR}` from `env`; throws a ConfigError naming a variable that is not set. */
export function expandVariables(text: string, env: NodeJS.ProcessEnv, where: string): string {
  return text.replace(VARIABLE, (_, name: string) => {
    const value = env[name];
    if (value === undefined) throw new ConfigError(`${where} uses \${${name}}, which is not set`);
    return value;
  });
}

/** A tool's `parameters` as a checker of the model's arguments. Throws when it is not a usable schema. */
export function argumentsChecker(parameters: Record<string, unknown>): z.ZodType {
  return z.fromJSONSchema(parameters);
}

/** Config-time checks a schema cannot state: unique names, usable parameter schemas. */
export function checkTools(
  profile: { tools?: ToolConfig[] | undefined },
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  const seen = new Set<string>();
  (profile.tools ?? []).forEach((tool, i) => {
    if (seen.has(tool.name))
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'tools', i, 'name'],
        message: `"${tool.name}" is defined twice`,
      });
    seen.add(tool.name);
    try {
      argumentsChecker(tool.parameters);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'tools', i, 'parameters'],
        message: `is not a usable JSON Schema: ${(err as Error).message}`,
      });
    }
    if (!/^(https?:\/\/|\$\{)/.test(tool.http.url))
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'tools', i, 'http', 'url'],
        message: 'must be an http(s) URL',
      });
  });
}

/**
 * Start-up check of the process that runs the tools (the worker, `serve`): every `${VAR}` the
 * profiles' tools use is set. The error names each one missing, and where it is used.
 */
export function requireToolEnvironment(
  profiles: Record<string, { tools?: ToolConfig[] | undefined }>,
  env: NodeJS.ProcessEnv,
): void {
  const missing: string[] = [];
  for (const [name, profile] of Object.entries(profiles)) {
    for (const tool of profile.tools ?? []) {
      for (const variable of variablesOf(tool.http)) {
        if (env[variable] === undefined)
          missing.push(`\${${variable}} (profile "${name}", tool "${tool.name}")`);
      }
    }
  }
  if (missing.length)
    throw new ConfigError(
      `the agent config's tools use environment variables that are not set: ${missing.join(', ')}`,
    );
}
