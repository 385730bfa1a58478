import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadAgentConfig, type AgentConfig } from './agent-config';
import { ConfigError, formatIssues } from './config-error';

export { ConfigError } from './config-error';

const port = z.coerce.number().int().min(1).max(65_535);
/** The OTLP transports the OpenTelemetry exporters speak (OTEL_EXPORTER_OTLP_PROTOCOL). */
const otlpProtocol = z.enum(['http/protobuf', 'http/json', 'grpc']);
/** The OTLP spec's endpoints are URLs, http or https, whatever the protocol. */
const otlpEndpoint = z.url({ protocol: /^https?$/ });

/** Every environment variable the project reads, in one place (SPEC §3). */
export const envSchema = z.object({
  VOIPBIN_BASE_URL: z.url({ protocol: /^https?$/ }).default('https://api.voipbin.net/v1.0'),
  VOIPBIN_API_KEY: z.string().min(1).optional(),
  VOIPBIN_WEBHOOK_SECRET: z.string().min(1).optional(),
  VOIPBIN_WEBHOOK_ALLOW_UNSIGNED: z.stringbool().default(false),
  VOIPBIN_EVENTS: z.enum(['websocket', 'webhook', 'both']).default('both'),
  VOIPBIN_WS_URL: z.url({ protocol: /^wss?$/ }).optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  AGENT_CONFIG: z.string().min(1).optional(),
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * The bearer token of the call pages (they show transcripts) and any operator route. Unset, those
   * routes answer loopback clients only.
   */
  ADMIN_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces (it is sent as `Authorization: Bearer <token>`)')
    .min(16, 'at least 16 characters: a random one, e.g. `openssl rand -hex 32`')
    .optional(),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('voice-agent'),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_DEV_UI_PORT: port.optional(),
  /** The Temporal UI's address, for each call's link in logs, `inspect` and the call page. */
  TEMPORAL_UI_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The caller's and the called number as search attributes too (personal data: off by default). */
  SEARCH_PHONE_NUMBERS: z.stringbool().default(false),
  TEMPORAL_DEPLOYMENT_NAME: z.string().min(1).optional(),
  TEMPORAL_WORKER_BUILD_ID: z.string().min(1).optional(),
  TEMPORAL_WORKER_SET_CURRENT: z.stringbool().default(false),
  /** `worker` only: serve `GET /metrics` (and `/healthz`) on this port; unset, no HTTP at all. */
  METRICS_PORT: port.optional(),
  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(3600).default(30),
  /** A call workflows bundle built ahead of time (`npm run build:bundle`); unset, the worker bundles as it starts. */
  WORKFLOW_BUNDLE: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  LOG_FORMAT: z.enum(['text', 'json']).default('text'),
  // OpenTelemetry's standard variables, those that decide whether tracing starts and which exporter
  // it loads; the exporter and the SDK read the rest themselves (headers, timeout, resource...).
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpEndpoint.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.default('http/protobuf'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  OTEL_SDK_DISABLED: z.stringbool().default(false),
});

export type Env = z.output<typeof envSchema>;

export interface AppConfig {
  voipbin: {
    baseUrl: string;
    apiKey?: string;
    webhookSecret?: string;
    /** Accept unsigned webhooks when no secret is known (refused by default). */
    allowUnsigned: boolean;
    /** How events come in: the WebSocket subscriber, the webhook route, or both. */
    events: Env['VOIPBIN_EVENTS'];
    /** The event WebSocket: VOIPBIN_WS_URL, else `<base URL>/ws` with ws(s). */
    wsUrl: string;
  };
  openai: { apiKey?: string; baseUrl?: string };
  agent: AgentConfig;
  agentConfigSource: string;
  ingress: {
    host: string;
    port: number;
    /** ADMIN_TOKEN: the call pages need it as a bearer token; unset, they answer loopback clients only. */
    adminToken?: string;
  };
  temporal: {
    /** Set when TEMPORAL_ADDRESS is: connect there. Unset: start the embedded dev server. */
    external?: ClientConnectConfig;
    namespace: string;
    taskQueue: string;
    cliPath?: string;
    devPort: number;
    devUiPort: number;
    dataDir: string;
    /**
     * The Temporal UI: TEMPORAL_UI_URL; else the embedded server's UI, or Temporal Cloud's for a
     * `*.tmprl.cloud` address; else unknown (no links).
     */
    uiUrl?: string;
    /** SEARCH_PHONE_NUMBERS: calls are findable by their numbers (VoipbinCaller, VoipbinCalled). */
    searchPhoneNumbers: boolean;
  };
  worker: {
    /** After SIGTERM or SIGINT, how long running activities may finish before they are cancelled. */
    shutdownGraceMs: number;
    /** Worker Versioning, when TEMPORAL_DEPLOYMENT_NAME and TEMPORAL_WORKER_BUILD_ID are set. */
    versioning?: WorkerVersioning;
    /** METRICS_PORT: where `worker` serves `GET /metrics`; unset, it serves none. */
    metricsPort?: number;
    /** WORKFLOW_BUNDLE, resolved: the prebuilt bundle to run; unset, the worker bundles at start. */
    workflowBundlePath?: string;
  };
  log: { level: Env['LOG_LEVEL']; format: Env['LOG_FORMAT'] };
  /** Set when an OTLP endpoint is (and OTEL_SDK_DISABLED is not true): traces are exported. */
  tracing?: TracingConfig;
}

export interface TracingConfig {
  /** Which OTLP exporter: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL. */
  protocol: z.output<typeof otlpProtocol>;
}

export interface WorkerVersioning {
  deploymentName: string;
  buildId: string;
  /** Make this build the deployment's current version once the worker polls. */
  setCurrent: boolean;
}

/** Empty variables count as unset, as docker-compose and shells often pass them. */
function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''),
  );
}

/** The settings of the Temporal connection and the log: all that `replay` and `export` read. */
export type TemporalConfig = Pick<AppConfig, 'temporal' | 'log'>;

const temporalEnvSchema = envSchema.pick({
  TEMPORAL_ADDRESS: true,
  TEMPORAL_NAMESPACE: true,
  TEMPORAL_TASK_QUEUE: true,
  TEMPORAL_CLI_PATH: true,
  TEMPORAL_DEV_PORT: true,
  TEMPORAL_DEV_UI_PORT: true,
  TEMPORAL_UI_URL: true,
  SEARCH_PHONE_NUMBERS: true,
  DATA_DIR: true,
  LOG_LEVEL: true,
  LOG_FORMAT: true,
});

function parseEnv<T>(schema: z.ZodType<T>, vars: Record<string, string>): T {
  const parsed = schema.safeParse(vars);
  if (!parsed.success) {
    throw new ConfigError(`invalid environment:\n${formatIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}

function temporalConfig(
  e: z.output<typeof temporalEnvSchema>,
  vars: Record<string, string>,
  cwd: string,
): TemporalConfig {
  const devUiPort = e.TEMPORAL_DEV_UI_PORT ?? e.TEMPORAL_DEV_PORT + 1000;
  if (devUiPort > 65_535) {
    throw new ConfigError(
      `invalid environment:\n  - TEMPORAL_DEV_UI_PORT: TEMPORAL_DEV_PORT + 1000 = ${devUiPort} is not a port; set TEMPORAL_DEV_UI_PORT`,
    );
  }
  let external: ClientConnectConfig | undefined;
  if (e.TEMPORAL_ADDRESS) {
    try {
      external = loadClientConnectConfig({ overrideEnvVars: vars });
    } catch (err) {
      throw new ConfigError(`invalid Temporal connection settings (TEMPORAL_*): ${(err as Error).message}`);
    }
  }
  return {
    temporal: {
      external,
      namespace: external?.namespace ?? e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      cliPath: e.TEMPORAL_CLI_PATH,
      devPort: e.TEMPORAL_DEV_PORT,
      devUiPort,
      dataDir: resolve(cwd, e.DATA_DIR),
      uiUrl: e.TEMPORAL_UI_URL ?? defaultUiUrl(external, devUiPort),
      searchPhoneNumbers: e.SEARCH_PHONE_NUMBERS,
    },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
  };
}

function defaultUiUrl(external: ClientConnectConfig | undefined, devUiPort: number): string | undefined {
  if (!external) return `http://localhost:${devUiPort}`;
  const address = (external.connectionOptions as { address?: string }).address ?? '';
  return /\.tmprl\.cloud(:\d+)?$/.test(address) ? 'https://cloud.temporal.io' : undefined;
}

/**
 * For the commands that only read Temporal: a replay or an export has no use for VoIPBIN, the
 * model or the agent config, and must not fail on them.
 */
export function loadTemporalConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): TemporalConfig {
  const vars = definedOnly(env);
  return temporalConfig(parseEnv(temporalEnvSchema, vars), vars, cwd);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): AppConfig {
  const vars = definedOnly(env);
  const e = parseEnv(envSchema, vars);
  const temporal = temporalConfig(e, vars, cwd);
  const agent = loadAgentConfig(e.AGENT_CONFIG && resolve(cwd, e.AGENT_CONFIG), cwd);
  const versioning = workerVersioning(e);
  return {
    voipbin: {
      baseUrl: e.VOIPBIN_BASE_URL,
      apiKey: e.VOIPBIN_API_KEY,
      webhookSecret: e.VOIPBIN_WEBHOOK_SECRET,
      allowUnsigned: e.VOIPBIN_WEBHOOK_ALLOW_UNSIGNED,
      events: e.VOIPBIN_EVENTS,
      wsUrl: e.VOIPBIN_WS_URL ?? socketUrlOf(e.VOIPBIN_BASE_URL),
    },
    openai: { apiKey: e.OPENAI_API_KEY, baseUrl: e.OPENAI_BASE_URL },
    agent: agent.config,
    agentConfigSource: agent.source,
    ingress: { host: e.HOST, port: e.PORT, adminToken: e.ADMIN_TOKEN },
    worker: {
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_SECONDS * 1000,
      versioning,
      metricsPort: e.METRICS_PORT,
      workflowBundlePath: e.WORKFLOW_BUNDLE && resolve(cwd, e.WORKFLOW_BUNDLE),
    },
    ...temporal,
    tracing: tracingConfig(e),
  };
}

/** Tracing is on when OpenTelemetry has somewhere to send traces and is not disabled. */
function tracingConfig(e: Env): TracingConfig | undefined {
  const endpoint = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint || e.OTEL_SDK_DISABLED) return undefined;
  return { protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL };
}

/** VoIPBIN's event WebSocket sits beside its REST API: `https://host/v1.0` → `wss://host/v1.0/ws`. */
export function socketUrlOf(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
  return url.toString();
}

/** A version needs both its names; promoting one needs a version. */
function workerVersioning(e: Env): WorkerVersioning | undefined {
  const { TEMPORAL_DEPLOYMENT_NAME: deploymentName, TEMPORAL_WORKER_BUILD_ID: buildId } = e;
  if (deploymentName && buildId) {
    return { deploymentName, buildId, setCurrent: e.TEMPORAL_WORKER_SET_CURRENT };
  }
  if (deploymentName || buildId || e.TEMPORAL_WORKER_SET_CURRENT) {
    throw new ConfigError(
      'invalid environment:\n  - TEMPORAL_DEPLOYMENT_NAME, TEMPORAL_WORKER_BUILD_ID: Worker Versioning needs both (and TEMPORAL_WORKER_SET_CURRENT needs them)',
    );
  }
  return undefined;
}
