// docker-compose.yml as Docker Compose itself reads it (`docker compose config`): the stack the
// README promises, and a clear refusal when .env lacks what the agents need. No Docker engine
// is needed; the compose tool is (test/helpers/compose.ts says how to get it).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAgentConfig } from '../../src/agent-config';
import { envSchema } from '../../src/config';
import { PROJECT_ROOT } from '../../src/paths';
import { SHUTDOWN_FORCE_MARGIN_MS } from '../../src/worker';
import { composeCommand, composeConfig } from '../helpers/compose';

interface Mount {
  type: string;
  source: string;
  target: string;
  read_only?: boolean;
  bind?: { create_host_path?: boolean };
}
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  stop_grace_period?: string;
  volumes?: Mount[];
  ports?: { host_ip?: string; target: number; published: string }[];
  restart?: string;
  pull_policy?: string;
}
interface ComposeProject {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const SEARCH_ATTRIBUTES = [
  'VoipbinCallId',
  'VoipbinProfile',
  'VoipbinDirection',
  'VoipbinCallStatus',
  'VoipbinEndReason',
  'VoipbinCaller',
  'VoipbinCalled',
];

/** .env.example as a user fills it in: the two values compose requires. */
function dotenvExample(values: Record<string, string>): Record<string, string> {
  const example = readFileSync(join(PROJECT_ROOT, '.env.example'), 'utf8');
  const vars = Object.fromEntries(
    example
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { ...vars, ...values };
}

const FILLED = { VOIPBIN_API_KEY: 'voipbin-key', OPENAI_API_KEY: 'openai-key' };

let compose: string[];
let project: ComposeProject;
let services: Record<string, Service>;

function resolve(dotenv: Record<string, string>): ComposeProject {
  const result = composeConfig(compose, dotenv);
  if (result.status !== 0) throw new Error(`docker compose config failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as ComposeProject;
}

function seconds(duration: string | undefined): number {
  const match = /^(\d+)(ms|s|m)$/.exec(duration ?? '');
  if (!match) throw new Error(`not a duration: ${duration}`);
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as 'ms' | 's' | 'm'];
}

beforeAll(() => {
  compose = composeCommand();
  project = resolve(dotenvExample(FILLED));
  services = project.services;
  // Building the pinned Docker Compose, when none is installed, takes a minute or two the first time.
}, 300_000);

it('runs Temporal from its server image, on PostgreSQL with a volume, its schema and setup done by the admin tools, with its UI', () => {
  expect(Object.keys(services).sort()).toEqual([
    'ingress',
    'postgresql',
    'temporal',
    'temporal-schema',
    'temporal-setup',
    'temporal-ui',
    'worker',
  ]);
  const server = services.temporal!;
  const [, version] = /^temporalio\/server:(\d+\.\d+\.\d+)$/.exec(server.image ?? '') ?? [];
  expect(version).toBeDefined();
  // The admin tools of the server's own version: the schema it creates is the one the server reads.
  expect(services['temporal-schema']!.image).toBe(`temporalio/admin-tools:${version}`);
  expect(services['temporal-setup']!.image).toBe(`temporalio/admin-tools:${version}`);
  expect(Object.values(services).map((s) => s.image)).not.toContainEqual(
    expect.stringContaining('auto-setup'),
  );
  expect(services['temporal-ui']!.image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);

  // Each waits for what it needs: the schema for a healthy database, the server for the schema,
  // the setup for a healthy server, the agents for the setup.
  expect(services['temporal-schema']!.depends_on).toMatchObject({
    postgresql: { condition: 'service_healthy' },
  });
  expect(server.depends_on).toMatchObject({
    'temporal-schema': { condition: 'service_completed_successfully' },
  });
  expect(services['temporal-setup']!.depends_on).toMatchObject({
    temporal: { condition: 'service_healthy' },
  });
  expect(services['temporal-ui']!.depends_on).toMatchObject({ temporal: { condition: 'service_healthy' } });
  for (const agent of ['ingress', 'worker']) {
    expect(Object.keys(services[agent]!.depends_on ?? {})).toEqual(['temporal-setup']);
    expect(services[agent]!.depends_on).toMatchObject({
      'temporal-setup': { condition: 'service_completed_successfully' },
    });
  }
  for (const name of ['postgresql', 'temporal']) expect(services[name]!.healthcheck?.test).toBeDefined();

  expect(services.postgresql!.volumes).toEqual([
    expect.objectContaining({ type: 'volume', source: 'postgresql', target: '/var/lib/postgresql/data' }),
  ]);
  expect(Object.keys(project.volumes ?? {})).toEqual(['postgresql']);
  expect(services['temporal-schema']!.environment).toMatchObject({
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: 'postgresql',
  });
  expect(server.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
  // The server starts only with its dynamic config file, which the image lacks.
  const dynamicConfig = server.volumes?.find(
    (v) => v.target === server.environment?.DYNAMIC_CONFIG_FILE_PATH,
  );
  expect(dynamicConfig?.source).toBe(join(PROJECT_ROOT, 'deploy', 'temporal', 'dynamicconfig.yaml'));

  // Temporal and its UI have no login: this host only.
  for (const name of ['temporal', 'temporal-ui']) {
    expect(services[name]!.ports?.map((p) => p.host_ip)).toEqual(['127.0.0.1']);
  }
});

it("sets up the namespace and registers the call workflows' search attributes, each a Keyword", () => {
  const setup = services['temporal-setup']!;
  expect(setup.command).toEqual(['sh', '/deploy/setup.sh']);
  expect(setup.environment?.NAMESPACE).toBe('default');
  expect(setup.environment?.SEARCH_ATTRIBUTES?.split(/\s+/)).toEqual(
    SEARCH_ATTRIBUTES.map((name) => `${name}=Keyword`),
  );
  // test/integration/temporal-setup.test.ts runs the script against a real server.
  const namespaced = resolve(dotenvExample({ ...FILLED, TEMPORAL_NAMESPACE: 'calls' }));
  expect(namespaced.services['temporal-setup']!.environment?.NAMESPACE).toBe('calls');
  expect(namespaced.services.worker!.environment?.TEMPORAL_NAMESPACE).toBe('calls');
});

it('mounts only files that exist in the repository, and no folder Docker would make up', () => {
  const binds = Object.values(services).flatMap((s) => (s.volumes ?? []).filter((v) => v.type === 'bind'));
  expect(binds.length).toBeGreaterThanOrEqual(5);
  for (const bind of binds) {
    expect(existsSync(bind.source)).toBe(true);
    expect(bind.source.startsWith(PROJECT_ROOT)).toBe(true);
  }
});

it('builds one image for ingress and worker, each with its command and health check', () => {
  const { ingress, worker } = services as { ingress: Service; worker: Service };
  expect(ingress.build).toEqual({ context: PROJECT_ROOT, dockerfile: 'Dockerfile' });
  expect(worker.build).toEqual(ingress.build);
  expect(worker.image).toBe(ingress.image);
  expect([ingress.pull_policy, worker.pull_policy]).toEqual(['build', 'build']);
  expect(ingress.command).toEqual(['ingress']);
  expect(worker.command).toEqual(['worker']);
  expect(ingress.healthcheck?.test.join(' ')).toContain(
    `fetch('http://127.0.0.1:${ingress.environment?.PORT}/readyz')`,
  );
  expect(worker.healthcheck?.test.join(' ')).toContain(
    `fetch('http://127.0.0.1:${worker.environment?.METRICS_PORT}/healthz')`,
  );
  expect(ingress.ports?.map((p) => [p.published, p.target])).toEqual([['8080', 8080]]);
  // Every value the agents are given is one they read (@temporalio/envconfig reads TEMPORAL_API_KEY
  // and TEMPORAL_TLS*, the schema the rest).
  // envconfig reads TEMPORAL_API_KEY and TEMPORAL_TLS; OpenTelemetry's SDK the rest of OTEL_*.
  const readByLibraries = [
    'TEMPORAL_API_KEY',
    'TEMPORAL_TLS',
    'OTEL_EXPORTER_OTLP_HEADERS',
    'OTEL_SERVICE_NAME',
    'OTEL_RESOURCE_ATTRIBUTES',
  ];
  const read = new Set([...Object.keys(envSchema.shape), ...readByLibraries]);
  for (const agent of [ingress, worker]) {
    expect(Object.keys(agent.environment ?? {}).filter((name) => !read.has(name))).toEqual([]);
  }
});

it('mounts the agent config, read-only, where AGENT_CONFIG points, and ships a valid one', () => {
  for (const agent of ['ingress', 'worker']) {
    const s = services[agent]!;
    expect(s.volumes).toEqual([
      {
        type: 'bind',
        source: join(PROJECT_ROOT, 'agent.config.example.json'),
        target: s.environment?.AGENT_CONFIG,
        read_only: true,
        bind: { create_host_path: false },
      },
    ]);
  }
  const example = join(PROJECT_ROOT, 'agent.config.example.json');
  expect(parseAgentConfig(readFileSync(example, 'utf8'), example).routes).toEqual([
    { to: '*', profile: 'default' },
  ]);

  // A file of your own keeps its extension in the container: YAML is read as YAML.
  const own = resolve(dotenvExample({ ...FILLED, AGENT_CONFIG_FILE: 'config/agent.yaml' })).services.worker!;
  expect(own.environment?.AGENT_CONFIG).toBe('/etc/voipbin-agent/config/agent.yaml');
  expect(own.volumes?.[0]).toMatchObject({
    source: join(PROJECT_ROOT, 'config', 'agent.yaml'),
    target: '/etc/voipbin-agent/config/agent.yaml',
  });
});

it("gives the worker alone the tools' secrets, from TOOLS_ENV_FILE when there is one", () => {
  const dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-tools-env-'));
  try {
    const file = join(dir, 'tools.env');
    writeFileSync(file, 'CRM_TOKEN=crm-secret\nCRM_HOST=crm.example.com\n');
    const withTools = resolve(dotenvExample({ ...FILLED, TOOLS_ENV_FILE: file })).services;
    expect(withTools.worker!.environment).toMatchObject({
      CRM_TOKEN: 'crm-secret',
      CRM_HOST: 'crm.example.com',
    });
    expect(withTools.ingress!.environment).not.toHaveProperty('CRM_TOKEN');
    // No such file (the default, ./tools.env, is not in the repository): the stack starts without.
    expect(services.worker!.environment).not.toHaveProperty('CRM_TOKEN');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('gives a stopping worker the time to drain its LLM turns before Docker kills it', () => {
  const worker = services.worker!;
  const graceSeconds = Number(worker.environment?.WORKER_SHUTDOWN_GRACE_SECONDS);
  expect(graceSeconds).toBeGreaterThanOrEqual(30);
  expect(seconds(worker.stop_grace_period)).toBeGreaterThan(graceSeconds + SHUTDOWN_FORCE_MARGIN_MS / 1000);
  expect(seconds(services.ingress!.stop_grace_period)).toBeGreaterThanOrEqual(10);
  expect(worker.restart).toBe('unless-stopped');
});

it('runs the workflow bundle built into the image', () => {
  const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  expect(stages).toHaveLength(2);
  const [build, runtime] = stages as [string, string];
  expect(build).toMatch(/^WORKDIR \/app$/m);
  expect(build).toMatch(/^RUN npm run build && npm run build:bundle$/m);
  expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
  // npm run build:bundle writes dist/workflow-bundle.js; the image's worker loads it from there.
  const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  expect(manifest.scripts['build:bundle']).toBe('node scripts/bundle-workflows.mjs');
  expect(runtime).toMatch(/^ENV WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js$/m);
});

describe('refuses to start without what the agents need, saying what to set', () => {
  it.each([
    ['.env.example as it is', {}, 'set VOIPBIN_API_KEY in .env'],
    ['no model', { VOIPBIN_API_KEY: 'voipbin-key' }, 'set OPENAI_API_KEY in .env, or OPENAI_BASE_URL'],
  ])('%s', (_what, values, message) => {
    const result = composeConfig(compose, dotenvExample(values));
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(message);
    expect(result.stdout).toBe('');
  });

  it('a local model server named by OPENAI_BASE_URL alone is enough', () => {
    const local = resolve(
      dotenvExample({
        VOIPBIN_API_KEY: 'voipbin-key',
        OPENAI_BASE_URL: 'http://host.docker.internal:11434/v1',
      }),
    );
    expect(local.services.worker!.environment).toMatchObject({
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: 'http://host.docker.internal:11434/v1',
    });
  });
});

it("connects the agents to Temporal Cloud instead of the stack's server when .env says so", () => {
  const cloud = resolve(
    dotenvExample({
      ...FILLED,
      TEMPORAL_ADDRESS: 'voice.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'voice.a1b2c',
      TEMPORAL_API_KEY: 'cloud-key',
    }),
  );
  for (const agent of ['ingress', 'worker']) {
    expect(cloud.services[agent]!.environment).toMatchObject({
      TEMPORAL_ADDRESS: 'voice.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'voice.a1b2c',
      TEMPORAL_API_KEY: 'cloud-key',
    });
  }
  expect(services.worker!.environment).toMatchObject({
    TEMPORAL_ADDRESS: 'temporal:7233',
    TEMPORAL_API_KEY: '',
  });
});

it('.env.example names only variables that compose or the agent reads', () => {
  const example = readFileSync(join(PROJECT_ROOT, '.env.example'), 'utf8');
  const composeFile = readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8');
  const named = [...example.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!);
  expect(named.length).toBeGreaterThan(15);
  for (const name of named) {
    expect({ name, read: composeFile.includes(`\${${name}`) || name in envSchema.shape }).toEqual({
      name,
      read: true,
    });
  }
});
