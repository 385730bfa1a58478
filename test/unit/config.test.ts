import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import { ConfigError, loadConfig, loadTemporalConfig } from '../../src/config';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Points the Temporal env-config file somewhere empty so a developer's own profile never leaks in. */
function env(vars: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { TEMPORAL_CONFIG_FILE: join(dir, 'no-temporal.toml'), ...vars };
}

function configError(vars: Record<string, string | undefined>, cwd = dir): ConfigError {
  try {
    loadConfig(env(vars), cwd);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig did not throw');
}

describe('loadConfig defaults', () => {
  it('fills every default from an empty environment', () => {
    const config = loadConfig(env(), dir);
    expect(config.voipbin).toEqual({
      baseUrl: 'https://api.voipbin.net/v1.0',
      apiKey: undefined,
      webhookSecret: undefined,
      allowUnsigned: false,
      events: 'both',
      wsUrl: 'wss://api.voipbin.net/v1.0/ws',
    });
    expect(config.openai).toEqual({ apiKey: undefined, baseUrl: undefined });
    expect(config.ingress).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.temporal).toEqual({
      external: undefined,
      namespace: 'default',
      taskQueue: 'voice-agent',
      cliPath: undefined,
      devPort: 7233,
      devUiPort: 8233,
      dataDir: join(dir, '.data'),
      // The embedded server's UI: each call's link in the log and in `inspect`.
      uiUrl: 'http://localhost:8233',
      searchPhoneNumbers: false,
    });
    expect(config.log).toEqual({ level: 'info', format: 'text' });
    expect(config.worker).toEqual({ shutdownGraceMs: 30_000, versioning: undefined, metricsPort: undefined });
    expect(config.agent).toEqual(DEFAULT_AGENT_CONFIG);
    expect(config.agentConfigSource).toBe('built-in default');
  });

  it('counts empty variables as unset', () => {
    const config = loadConfig(
      env({
        PORT: '',
        VOIPBIN_BASE_URL: '',
        VOIPBIN_API_KEY: '',
        VOIPBIN_WEBHOOK_SECRET: '',
        VOIPBIN_EVENTS: '',
        VOIPBIN_WS_URL: '',
        OPENAI_BASE_URL: '',
        AGENT_CONFIG: '',
        LOG_LEVEL: '',
        TEMPORAL_ADDRESS: '',
        TEMPORAL_TASK_QUEUE: '',
      }),
      dir,
    );
    expect(config.ingress.port).toBe(8080);
    expect(config.voipbin).toEqual({
      baseUrl: 'https://api.voipbin.net/v1.0',
      apiKey: undefined,
      webhookSecret: undefined,
      allowUnsigned: false,
      events: 'both',
      wsUrl: 'wss://api.voipbin.net/v1.0/ws',
    });
    expect(config.openai.baseUrl).toBeUndefined();
    expect(config.agentConfigSource).toBe('built-in default');
    expect(config.log.level).toBe('info');
    expect(config.temporal.external).toBeUndefined();
    expect(config.temporal.taskQueue).toBe('voice-agent');
  });

  it('reads every variable it is given', () => {
    const config = loadConfig(
      env({
        VOIPBIN_BASE_URL: 'http://127.0.0.1:9000/v1.0',
        VOIPBIN_API_KEY: 'access-key',
        VOIPBIN_WEBHOOK_SECRET: 'hook-secret',
        VOIPBIN_WEBHOOK_ALLOW_UNSIGNED: 'true',
        VOIPBIN_EVENTS: 'webhook',
        VOIPBIN_WS_URL: 'ws://127.0.0.1:9001/events',
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
        PORT: '3000',
        HOST: '127.0.0.1',
        ADMIN_TOKEN: 'c0ffee-7f3a9b2e5d8c1f46',
        TEMPORAL_TASK_QUEUE: 'calls',
        TEMPORAL_CLI_PATH: '/opt/temporal',
        TEMPORAL_DEV_PORT: '17233',
        TEMPORAL_DEV_UI_PORT: '18000',
        DATA_DIR: 'state',
        LOG_LEVEL: 'debug',
        LOG_FORMAT: 'json',
        WORKER_SHUTDOWN_GRACE_SECONDS: '12.5',
        METRICS_PORT: '9464',
        TEMPORAL_DEPLOYMENT_NAME: 'voipbin-agent',
        TEMPORAL_WORKER_BUILD_ID: 'build-7',
        TEMPORAL_WORKER_SET_CURRENT: 'true',
      }),
      dir,
    );
    expect(config.voipbin).toEqual({
      baseUrl: 'http://127.0.0.1:9000/v1.0',
      apiKey: 'access-key',
      webhookSecret: 'hook-secret',
      allowUnsigned: true,
      events: 'webhook',
      wsUrl: 'ws://127.0.0.1:9001/events',
    });
    expect(config.openai).toEqual({ apiKey: 'sk-test', baseUrl: 'http://127.0.0.1:11434/v1' });
    expect(config.ingress).toEqual({
      host: '127.0.0.1',
      port: 3000,
      adminToken: 'c0ffee-7f3a9b2e5d8c1f46',
    });
    expect(config.temporal).toMatchObject({
      taskQueue: 'calls',
      cliPath: '/opt/temporal',
      devPort: 17233,
      devUiPort: 18000,
      dataDir: join(dir, 'state'),
    });
    expect(config.log).toEqual({ level: 'debug', format: 'json' });
    expect(config.worker).toEqual({
      shutdownGraceMs: 12_500,
      versioning: { deploymentName: 'voipbin-agent', buildId: 'build-7', setCurrent: true },
      metricsPort: 9464,
    });
  });

  it('versions a worker without making it current unless asked', () => {
    const config = loadConfig(
      env({ TEMPORAL_DEPLOYMENT_NAME: 'voipbin-agent', TEMPORAL_WORKER_BUILD_ID: 'build-8' }),
      dir,
    );
    expect(config.worker.versioning).toEqual({
      deploymentName: 'voipbin-agent',
      buildId: 'build-8',
      setCurrent: false,
    });
  });

  it('takes a grace of 0: cancel at once, as the SDK does by default', () => {
    expect(loadConfig(env({ WORKER_SHUTDOWN_GRACE_SECONDS: '0' }), dir).worker.shutdownGraceMs).toBe(0);
  });

  it('derives the dev UI port from the dev port when unset', () => {
    expect(loadConfig(env({ TEMPORAL_DEV_PORT: '7300' }), dir).temporal.devUiPort).toBe(8300);
  });

  it('keeps an absolute DATA_DIR as given', () => {
    const data = join(dir, 'abs-data');
    expect(loadConfig(env({ DATA_DIR: data }), '/somewhere/else').temporal.dataDir).toBe(data);
  });
});

describe('loadConfig rejects bad values, naming the variable', () => {
  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '0'],
    ['PORT', '80.5'],
    ['PORT', '-1'],
    ['METRICS_PORT', '0'],
    ['TEMPORAL_DEV_PORT', '65536'],
    ['TEMPORAL_DEV_UI_PORT', 'ui'],
    ['VOIPBIN_BASE_URL', 'not-a-url'],
    ['VOIPBIN_BASE_URL', 'ftp://api.voipbin.net/v1.0'],
    ['OPENAI_BASE_URL', 'localhost:11434'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_FORMAT', 'xml'],
    ['WORKER_SHUTDOWN_GRACE_SECONDS', '-1'],
    ['WORKER_SHUTDOWN_GRACE_SECONDS', 'soon'],
    ['TEMPORAL_WORKER_SET_CURRENT', 'maybe'],
    ['TEMPORAL_DEPLOYMENT_NAME', 'voipbin-agent'],
    ['TEMPORAL_WORKER_BUILD_ID', 'build-7'],
    ['TEMPORAL_WORKER_SET_CURRENT', 'true'],
    ['ADMIN_TOKEN', 'short'],
    ['ADMIN_TOKEN', 'a token with spaces in it'],
  ])('%s=%s', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.name).toBe('ConfigError');
    expect(err.message).toContain(name);
  });

  it('never repeats a bad ADMIN_TOKEN, which may be most of a real one', () => {
    const err = configError({ ADMIN_TOKEN: 'almost-a-token' });
    expect(err.message).toContain('ADMIN_TOKEN');
    expect(err.message).not.toContain('almost-a-token');
  });

  it('names every bad variable at once', () => {
    const err = configError({ PORT: 'abc', LOG_LEVEL: 'loud' });
    expect(err.message).toContain('PORT');
    expect(err.message).toContain('LOG_LEVEL');
  });

  it('does not echo a bad value of another variable as if it were valid', () => {
    // Only PORT is wrong: the message must not blame a variable that is fine.
    const err = configError({ PORT: 'abc', VOIPBIN_BASE_URL: 'https://example.test/v1.0' });
    expect(err.message).not.toContain('VOIPBIN_BASE_URL');
  });
});

describe('loadConfig and the agent config file', () => {
  it('stops start-up when AGENT_CONFIG names a missing file', () => {
    const err = configError({ AGENT_CONFIG: 'missing.json' });
    expect(err.message).toContain('AGENT_CONFIG');
    expect(err.message).toContain(join(dir, 'missing.json'));
  });

  it('resolves a relative AGENT_CONFIG against cwd', () => {
    writeFileSync(
      join(dir, 'agents.yaml'),
      'profiles:\n  sales:\n    greeting: Hi from sales.\nroutes:\n  - to: "*"\n    profile: sales\n',
    );
    const config = loadConfig(env({ AGENT_CONFIG: 'agents.yaml' }), dir);
    expect(config.agentConfigSource).toBe(join(dir, 'agents.yaml'));
    expect(config.agent.profiles['sales']?.greeting).toBe('Hi from sales.');
  });

  it('picks up agent.config.json in cwd when AGENT_CONFIG is unset', () => {
    writeFileSync(
      join(dir, 'agent.config.json'),
      JSON.stringify({ profiles: { default: { model: 'local' } } }),
    );
    const config = loadConfig(env(), dir);
    expect(config.agentConfigSource).toBe(join(dir, 'agent.config.json'));
    expect(config.agent.profiles['default']?.model).toBe('local');
  });

  it('prefers AGENT_CONFIG over agent.config.json in cwd', () => {
    writeFileSync(
      join(dir, 'agent.config.json'),
      JSON.stringify({ profiles: { default: { model: 'cwd' } } }),
    );
    writeFileSync(join(dir, 'other.json'), JSON.stringify({ profiles: { default: { model: 'other' } } }));
    const config = loadConfig(env({ AGENT_CONFIG: join(dir, 'other.json') }), dir);
    expect(config.agent.profiles['default']?.model).toBe('other');
  });

  it('stops start-up on an invalid agent.config.json found in cwd', () => {
    writeFileSync(join(dir, 'agent.config.json'), '{ "profiles": ');
    const err = configError({});
    expect(err.message).toContain('AGENT_CONFIG');
    expect(err.message).toContain('agent.config.json');
  });
});

describe('loadConfig and Temporal', () => {
  it('uses the embedded server when TEMPORAL_ADDRESS is unset', () => {
    expect(loadConfig(env(), dir).temporal.external).toBeUndefined();
  });

  it('connects to TEMPORAL_ADDRESS when set', () => {
    const config = loadConfig(env({ TEMPORAL_ADDRESS: 'temporal.internal:7233' }), dir);
    expect(config.temporal.external?.connectionOptions.address).toBe('temporal.internal:7233');
    expect(config.temporal.external?.connectionOptions.tls).toBeUndefined();
    expect(config.temporal.namespace).toBe('default');
  });

  it("reads the Worker Controller's version variables beside the cluster's", () => {
    // The Temporal Worker Controller sets these two on each worker pod, beside TEMPORAL_ADDRESS.
    const config = loadConfig(
      env({
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        TEMPORAL_DEPLOYMENT_NAME: 'voipbin-agent',
        TEMPORAL_WORKER_BUILD_ID: '5f2c9e1',
      }),
      dir,
    );
    expect(config.temporal.external?.connectionOptions.address).toBe('temporal.internal:7233');
    expect(config.worker.versioning).toMatchObject({ deploymentName: 'voipbin-agent', buildId: '5f2c9e1' });
  });

  it('takes the namespace and API key from TEMPORAL_* (the key turns TLS on)', () => {
    const config = loadConfig(
      env({
        TEMPORAL_ADDRESS: 'acme.a1b2c.tmprl.cloud:7233',
        TEMPORAL_NAMESPACE: 'acme.a1b2c',
        TEMPORAL_API_KEY: 'temporal-api-key',
      }),
      dir,
    );
    expect(config.temporal.namespace).toBe('acme.a1b2c');
    expect(config.temporal.external?.namespace).toBe('acme.a1b2c');
    expect(config.temporal.external?.connectionOptions.apiKey).toBe('temporal-api-key');
    expect(config.temporal.external?.connectionOptions.tls).toBe(true);
  });

  it('uses TEMPORAL_NAMESPACE for the embedded server too', () => {
    expect(loadConfig(env({ TEMPORAL_NAMESPACE: 'calls' }), dir).temporal.namespace).toBe('calls');
  });

  it('knows the Temporal UI of the embedded server and of Temporal Cloud; TEMPORAL_UI_URL for any other', () => {
    const uiOf = (vars: Record<string, string>) => loadConfig(env(vars), dir).temporal.uiUrl;
    expect(uiOf({ TEMPORAL_DEV_UI_PORT: '9233' })).toBe('http://localhost:9233');
    expect(uiOf({ TEMPORAL_ADDRESS: 'acme.a1b2c.tmprl.cloud:7233', TEMPORAL_API_KEY: 'k' })).toBe(
      'https://cloud.temporal.io',
    );
    // A cluster of one's own: its UI could be anywhere, so no link unless told.
    expect(uiOf({ TEMPORAL_ADDRESS: 'temporal.internal:7233' })).toBeUndefined();
    expect(
      uiOf({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_UI_URL: 'https://temporal-ui.internal' }),
    ).toBe('https://temporal-ui.internal');
    expect(() => loadConfig(env({ TEMPORAL_UI_URL: 'not a url' }), dir)).toThrow(/TEMPORAL_UI_URL/);
  });

  it('makes phone numbers search attributes only when asked (SEARCH_PHONE_NUMBERS)', () => {
    expect(loadConfig(env(), dir).temporal.searchPhoneNumbers).toBe(false);
    expect(loadConfig(env({ SEARCH_PHONE_NUMBERS: 'true' }), dir).temporal.searchPhoneNumbers).toBe(true);
  });
});

describe('loadTemporalConfig (replay, export)', () => {
  it('reads the Temporal connection as loadConfig does', () => {
    const vars = {
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'calls',
      LOG_LEVEL: 'warn',
    };
    const config = loadConfig(env(vars), dir);
    expect(loadTemporalConfig(env(vars), dir)).toEqual({ temporal: config.temporal, log: config.log });
  });

  it('ignores what a replay has no use for: the ingress, VoIPBIN and the agent config', () => {
    const vars = { PORT: 'http', VOIPBIN_BASE_URL: 'nope', AGENT_CONFIG: join(dir, 'missing.json') };
    expect(configError(vars).message).toContain('PORT');
    expect(loadTemporalConfig(env(vars), dir).temporal.devPort).toBe(7233);
  });

  it('still refuses a bad Temporal setting, naming it', () => {
    expect(() => loadTemporalConfig(env({ TEMPORAL_DEV_PORT: 'x' }), dir)).toThrow(/TEMPORAL_DEV_PORT/);
  });
});

describe('loadConfig and the embedded server ports', () => {
  it('refuses a dev port whose derived UI port is out of range, naming TEMPORAL_DEV_UI_PORT', () => {
    expect(configError({ TEMPORAL_DEV_PORT: '65000' }).message).toContain('TEMPORAL_DEV_UI_PORT');
  });

  it('accepts that dev port with an explicit UI port', () => {
    const config = loadConfig(env({ TEMPORAL_DEV_PORT: '65000', TEMPORAL_DEV_UI_PORT: '64000' }), dir);
    expect(config.temporal).toMatchObject({ devPort: 65000, devUiPort: 64000 });
  });
});

describe('event delivery settings', () => {
  it('derives the WebSocket URL from the base URL, ws for http and wss for https', () => {
    expect(loadConfig(env({ VOIPBIN_BASE_URL: 'http://127.0.0.1:9000/v1.0/' }), dir).voipbin.wsUrl).toBe(
      'ws://127.0.0.1:9000/v1.0/ws',
    );
    expect(loadConfig(env({ VOIPBIN_BASE_URL: 'https://eu.example.com/v1.0' }), dir).voipbin.wsUrl).toBe(
      'wss://eu.example.com/v1.0/ws',
    );
  });

  it('takes VOIPBIN_WS_URL and VOIPBIN_EVENTS as given', () => {
    const config = loadConfig(
      env({ VOIPBIN_WS_URL: 'wss://ws.example.com/feed', VOIPBIN_EVENTS: 'websocket' }),
      dir,
    );
    expect(config.voipbin).toMatchObject({ wsUrl: 'wss://ws.example.com/feed', events: 'websocket' });
  });

  it('refuses an unknown VOIPBIN_EVENTS and a VOIPBIN_WS_URL that is not ws(s)', () => {
    expect(configError({ VOIPBIN_EVENTS: 'sockets' }).message).toMatch(/VOIPBIN_EVENTS/);
    expect(configError({ VOIPBIN_WS_URL: 'https://ws.example.com' }).message).toMatch(/VOIPBIN_WS_URL/);
  });
});

describe('tracing (OpenTelemetry)', () => {
  const tracing = (vars: Record<string, string>) => loadConfig(env(vars), dir).tracing;
  const endpoint = 'http://collector.example.com:4318';

  it('is off without an OTLP endpoint, whatever else OTEL_* says', () => {
    expect(tracing({})).toBeUndefined();
    expect(tracing({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_SERVICE_NAME: 'agent' })).toBeUndefined();
  });

  it('is on with either endpoint, over http/protobuf unless a protocol is named', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toEqual({ protocol: 'http/protobuf' });
    expect(tracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` })).toEqual({
      protocol: 'http/protobuf',
    });
  });

  it('takes the traces protocol over the general one', () => {
    const vars = { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' };
    expect(tracing(vars)).toEqual({ protocol: 'grpc' });
    expect(tracing({ ...vars, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })).toEqual({
      protocol: 'http/json',
    });
  });

  it('is off when OTEL_SDK_DISABLED is true', () => {
    expect(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
  });

  it('refuses an endpoint that is not an http(s) URL and an unknown protocol, naming them', () => {
    expect(configError({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317' }).message).toMatch(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    expect(configError({ OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'udp' }).message).toMatch(
      /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL/,
    );
  });
});
