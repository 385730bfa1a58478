// deploy/temporal/setup.sh, the compose stack's temporal-setup service, run with the environment
// `docker compose config` gives that service, against a real Temporal server (the pinned CLI is
// the admin-tools image's `temporal`): the namespace made, the call workflows' search attributes
// registered as Keywords, and a second run (each `docker compose up` runs it) changing nothing.
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { temporalCliPath } from '../../src/temporal/binaries';
import { composeCommand, composeConfig } from '../helpers/compose';
import { localEnv } from '../helpers/temporal-env';

const { IndexedValueType } = temporal.api.enums.v1;

let env: TestWorkflowEnvironment;
let home: string;

beforeAll(async () => {
  env = await localEnv();
  home = mkdtempSync(join(tmpdir(), 'voipbin-agent-setup-'));
});

afterAll(async () => {
  await env?.teardown();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** The service's environment as compose resolves it from .env, pointed at the test's server. */
function setupEnvironment(): Record<string, string> {
  const resolved = composeConfig(composeCommand(), {
    VOIPBIN_API_KEY: 'voipbin-key',
    OPENAI_API_KEY: 'openai-key',
    TEMPORAL_NAMESPACE: 'calls',
    TEMPORAL_RETENTION: '240h',
  });
  expect(resolved.stderr).toBe('');
  const service = (
    JSON.parse(resolved.stdout) as {
      services: Record<string, { environment: Record<string, string>; command: string[] }>;
    }
  ).services['temporal-setup']!;
  expect(service.command).toEqual(['sh', '/deploy/setup.sh']);
  return { ...service.environment, TEMPORAL_ADDRESS: env.address };
}

function runSetup(vars: Record<string, string>) {
  return spawnSync('sh', [join(PROJECT_ROOT, 'deploy', 'temporal', 'setup.sh')], {
    encoding: 'utf8',
    env: {
      ...vars,
      HOME: home,
      PATH: `${dirname(temporalCliPath(process.env.TEMPORAL_CLI_PATH))}${delimiter}${process.env.PATH}`,
    },
  });
}

it('makes the namespace and registers the search attributes, and a second run changes nothing', async () => {
  const vars = setupEnvironment();
  const first = runSetup(vars);
  expect(first.stderr).toBe('');
  expect(first.status).toBe(0);
  expect(first.stdout).toContain('namespace calls created (retention 240h)');

  const { namespaceInfo, config } = await env.client.workflowService.describeNamespace({
    namespace: 'calls',
  });
  expect(namespaceInfo?.name).toBe('calls');
  expect(Number(config?.workflowExecutionRetentionTtl?.seconds)).toBe(240 * 3600);
  const listed = async (): Promise<Record<string, number>> => {
    const response = await env.client.connection.operatorService.listSearchAttributes({ namespace: 'calls' });
    return { ...response.customAttributes };
  };
  const expected = Object.fromEntries(
    vars
      .SEARCH_ATTRIBUTES!.split(/\s+/)
      .map((pair): [string, number] => [pair.split('=')[0]!, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
  );
  expect(Object.keys(expected)).toHaveLength(7);
  const afterFirst = await listed();
  expect(afterFirst).toMatchObject(expected);

  const second = runSetup(vars);
  expect(second.status).toBe(0);
  expect(second.stdout).toContain('namespace calls exists');
  expect(await listed()).toEqual(afterFirst);
});

it('fails, saying so, when an attribute exists with another type', () => {
  const vars = setupEnvironment();
  const clash = runSetup({ ...vars, SEARCH_ATTRIBUTES: 'VoipbinCallId=Int', SETUP_TRIES: '1' });
  expect(clash.status).toBe(1);
  expect(clash.stderr).toContain('VoipbinCallId already exists and has different type');
});
