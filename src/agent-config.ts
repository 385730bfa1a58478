import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatIssues } from './config-error';
import { toolSchema, transferSchema, checkTools } from './agent-tools';

/** One agent persona. The shape is public: keys may be added, never renamed (SPEC §3). */
export const profileSchema = z.strictObject({
  systemPrompt: z.string().min(1).default('You are a helpful, concise voice assistant on a phone call.'),
  greeting: z.string().min(1).default('Hello, thanks for calling. How can I help?'),
  model: z.string().min(1).default('gpt-4o-mini'),
  language: z.string().min(2).default('en-US'),
  voice: z
    .strictObject({
      provider: z.string().min(1).default('elevenlabs'),
      voiceId: z.string().min(1).optional(),
    })
    .default({ provider: 'elevenlabs' }),
  silenceTimeoutSeconds: z.number().positive().max(3600).default(30),
  maxReprompts: z.number().int().min(0).max(100).default(2),
  repromptText: z.string().min(1).default('Are you still there?'),
  goodbyeText: z.string().min(1).default('Thank you for calling. Goodbye.'),
  apologyText: z.string().min(1).default("Sorry, I'm having trouble right now. Could you say that again?"),
  maxCallSeconds: z.number().positive().max(86_400).default(1800),
  /** The model has not started its reply after this long: it is stalled, the caller hears the apology. */
  firstTokenTimeoutSeconds: z.number().positive().max(120).default(5),
  /** The model stopped mid-reply for this long: stalled too. */
  stallTimeoutSeconds: z.number().positive().max(120).default(5),
  /** A sentence end followed by this much quiet in the stream goes to `/say` without waiting for more. */
  sentencePauseSeconds: z.number().min(0).max(5).default(0.2),
  /**
   * The most recent messages (caller and agent) each LLM turn is given; a long call's older ones
   * are left out (the model is told how many). Every turn's input is recorded in the call's history.
   */
  contextMessages: z.number().int().min(2).max(500).default(40),
  /**
   * What the caller says while the agent speaks or thinks that only shows they listen ("mm-hmm",
   * "okay"): no interruption, no turn; in the conversation all the same. `phrases` replaces the
   * built-in list of the profile's language; longer than `maxWords` words is never one (0: off).
   */
  backchannels: z
    .strictObject({
      phrases: z.array(z.string().min(1)).max(500).optional(),
      maxWords: z.number().int().min(0).max(10).default(3),
    })
    .default({ maxWords: 3 }),
  /**
   * A final transcript that looks unfinished (no sentence end, or a last word like "and", "to")
   * waits this long for the rest before the agent answers; a complete one is answered at once. 0: off.
   */
  unfinishedWaitSeconds: z.number().min(0).max(5).default(0.8),
  /**
   * When the caller talking over the agent cuts it off: `words`, as soon as the speech-to-text has
   * heard `bargeInWords` words that are not only a backchannel (before the final transcript);
   * `speech`, as soon as VoIPBIN hears speech at all (fastest, but a cough or a "mm-hmm" cuts too);
   * `final`, only on the final transcript.
   */
  bargeIn: z.enum(['words', 'speech', 'final']).default('words'),
  bargeInWords: z.number().int().min(1).max(10).default(2),
  /** How fast the voice speaks, in characters a second: when the agent has stopped being heard. Default: by language. */
  speechCharsPerSecond: z.number().min(1).max(100).optional(),
  /**
   * HTTP endpoints the model may call (function calling), each run as a durable activity
   * (src/agent-tools.ts). `${VAR}` in a URL or header is read from the worker's environment when
   * the request is made: secrets stay out of the call's history.
   */
  tools: z.array(toolSchema).max(64).optional(),
  /** Gives the model a `transfer_call` tool: the line is said, then the call is transferred (blind). */
  transfer: transferSchema.optional(),
  /** A tool still running after this long gets its `fillerText` said, once a turn. Default 1. */
  toolFillerDelaySeconds: z.number().min(0).max(30).optional(),
  /**
   * How a reply's sentences reach `/say`. `direct` (the default): the LLM activity sends each one
   * itself, as soon as it is complete, after recording it in Temporal (its heartbeat details), so
   * that a retry after a crash never says it again; the workflow learns what was said when the
   * reply ends or is cut off: a workflow task and an activity fewer per sentence on the way to the
   * caller (docs/benchmarks.md). `workflow`: each sentence goes to the call's workflow (a signal),
   * which says it (an activity): every sentence an event of the call's history as it is said.
   */
  replySpeech: z.enum(['direct', 'workflow']).default('direct'),
});

export type AgentProfile = z.output<typeof profileSchema>;

const routeSchema = z.strictObject({
  to: z.string().min(1),
  profile: z.string().min(1),
  /** `inbound` (the default): calls to `to` are answered; `outbound`: `call --to` may place them. */
  direction: z.enum(['inbound', 'outbound']).optional(),
  /** An outbound route's caller id (`call --from` overrides it). */
  from: z.string().min(1).optional(),
});

export const agentConfigSchema = z
  .strictObject({
    profiles: z.record(z.string().min(1), profileSchema),
    routes: z.array(routeSchema).optional(),
  })
  // Without routes, every call goes to the `default` profile, or to the only one defined.
  .transform((cfg) => ({
    profiles: cfg.profiles,
    routes: cfg.routes ?? [
      {
        to: '*',
        profile: 'default' in cfg.profiles ? 'default' : (Object.keys(cfg.profiles)[0] ?? 'default'),
      },
    ],
  }))
  .superRefine((cfg, ctx) => {
    if (Object.keys(cfg.profiles).length === 0) {
      ctx.addIssue({ code: 'custom', path: ['profiles'], message: 'at least one profile is required' });
    }
    for (const [name, profile] of Object.entries(cfg.profiles)) checkTools(profile, ['profiles', name], ctx);
    cfg.routes.forEach((route, i) => {
      if (!(route.profile in cfg.profiles)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'profile'],
          message: `names profile "${route.profile}", which is not defined`,
        });
      }
    });
  });

export type AgentConfig = z.output<typeof agentConfigSchema>;

/** With no config file, one built-in `default` profile takes every call. */
export const DEFAULT_AGENT_CONFIG: AgentConfig = agentConfigSchema.parse({ profiles: { default: {} } });

export function parseAgentConfig(text: string, source: string): AgentConfig {
  let raw: unknown;
  try {
    raw = ['.yaml', '.yml'].includes(extname(source).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `AGENT_CONFIG ${source} is not valid ${extname(source) || 'JSON'}: ${(err as Error).message}`,
    );
  }
  const result = agentConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(`AGENT_CONFIG ${source} is invalid:\n${formatIssues(result.error.issues)}`);
  }
  return result.data;
}

/**
 * Loads the agent config: the given path (must exist), else `agent.config.json` in the
 * working directory if present, else the built-in default.
 */
export function loadAgentConfig(
  path: string | undefined,
  cwd: string,
): { config: AgentConfig; source: string } {
  const candidate = path ?? `${cwd}/agent.config.json`;
  if (!existsSync(candidate)) {
    if (path) throw new ConfigError(`AGENT_CONFIG ${path} does not exist`);
    return { config: DEFAULT_AGENT_CONFIG, source: 'built-in default' };
  }
  return { config: parseAgentConfig(readFileSync(candidate, 'utf8'), candidate), source: candidate };
}

export interface RouteMatch {
  profileName: string;
  profile: AgentProfile;
}

/** The first route whose `to` is the number called (or `*`) wins; no match leaves the call alone. */
export function matchRoute(config: AgentConfig, to: string): RouteMatch | undefined {
  const route = config.routes.find(
    (r) => (r.direction ?? 'inbound') === 'inbound' && (r.to === '*' || r.to === to),
  );
  if (!route) return undefined;
  const profile = config.profiles[route.profile];
  return profile ? { profileName: route.profile, profile } : undefined;
}

export interface OutboundMatch extends RouteMatch {
  /** The route's caller id, if it gives one. */
  from?: string;
}

/**
 * Which profile places a call to `to`: the first `outbound` route for that number (or `*`), naming
 * `profileName` when one is asked for. A profile takes only the outbound calls its routes allow.
 */
export function matchOutboundRoute(
  config: AgentConfig,
  to: string,
  profileName?: string,
): OutboundMatch | undefined {
  const route = config.routes.find(
    (r) =>
      r.direction === 'outbound' &&
      (r.to === '*' || r.to === to) &&
      (profileName === undefined || r.profile === profileName),
  );
  const profile = route && config.profiles[route.profile];
  if (!route || !profile) return undefined;
  return { profileName: route.profile, profile, ...(route.from && { from: route.from }) };
}
