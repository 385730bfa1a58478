// The two halves, as they scale out: `voipbin-agent ingress` and `voipbin-agent worker` as separate
// processes on a Temporal cluster named by TEMPORAL_ADDRESS (here a real dev server).
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { startFakeLlm, type FakeLlm } from '../../src/sandbox/fake-llm/server';
import { startSimulator, type Simulator } from '../../src/sandbox/simulator';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId } from '../../workflows/messages';
import { AgentProcesses, freePort } from '../helpers/cli';
import { metricValue, scrape } from '../helpers/metrics';
import { localEnv } from '../helpers/temporal-env';
import { SESSIONS_CREATED, requestSequence } from '../helpers/voipbin-requests';

let env: TestWorkflowEnvironment;
let simulator: Simulator;
let llm: FakeLlm;
let cwd: string;
const agents = new AgentProcesses(() => cwd);

beforeAll(async () => {
  [env, simulator, llm] = await Promise.all([
    localEnv(),
    startSimulator({ accessKey: 'split-key', webhookRetryDelayMs: 200 }),
    startFakeLlm(),
  ]);
  cwd = mkdtempSync(join(tmpdir(), 'voipbin-agent-split-'));
}, 60_000);

afterAll(async () => {
  await agents.killAll();
  await simulator?.close();
  await llm?.close();
  await env?.teardown();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

it('ingress and worker in separate processes handle a call together', async () => {
  const [port, metricsPort] = await Promise.all([freePort(), freePort()]);
  const shared = {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: 'split-halves',
    VOIPBIN_BASE_URL: simulator.baseUrl,
    VOIPBIN_API_KEY: simulator.accessKey,
  };
  // Each writes the modules it loaded when it exits (test/helpers/loaded-modules.cjs).
  const loaded = (half: string) => ({
    NODE_OPTIONS: `--require ${join(PROJECT_ROOT, 'test', 'helpers', 'loaded-modules.cjs')}`,
    LOADED_MODULES_FILE: join(cwd, `${half}-modules.txt`),
  });
  // No VOIPBIN_WEBHOOK_SECRET: the ingress reads the customer's secret from GET /customer.
  const ingress = agents.start(['ingress'], {
    ...shared,
    ...loaded('ingress'),
    PORT: String(port),
    HOST: '127.0.0.1',
  });
  const worker = agents.start(['worker'], {
    ...shared,
    ...loaded('worker'),
    OPENAI_BASE_URL: llm.baseUrl,
    METRICS_PORT: String(metricsPort),
    HOST: '127.0.0.1',
  });
  await Promise.all([ingress.waitReady(port), worker.waitOutput('worker metrics listening')]);
  expect(ingress.output).toContain('signed=true');
  simulator.setWebhookUri(`http://127.0.0.1:${port}/webhooks/voipbin`);

  const call = simulator.startInboundCall({
    from: '+15550005555',
    to: '+15550006666',
    script: {
      steps: [
        { say: 'Is anyone there?', quietMs: 600 },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await call.ended;
  const summary = await env.client.workflow.getHandle<typeof callWorkflow>(callWorkflowId(call.id)).result();
  expect(summary).toMatchObject({ endReason: 'caller-hangup', turns: 1 });
  expect(call.heard()).toEqual([
    'Hello, thanks for calling. How can I help?',
    'You said: Is anyone there.',
    'How else can I help you today?',
  ]);
  expect(requestSequence(simulator)).toEqual([
    ...SESSIONS_CREATED,
    'POST /speakings/{id}/say Hello, thanks for calling. How can I help? -> 200',
    'POST /speakings/{id}/say You said: Is anyone there. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);

  // Each half serves its own metrics: the worker's on METRICS_PORT, with the Temporal SDK's.
  const workerMetrics = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(metricValue(workerMetrics, 'voipbin_agent_turns_total', { outcome: 'completed' })).toBe(1);
  expect(metricValue(workerMetrics, 'voipbin_agent_calls_ended_total', { reason: 'caller-hangup' })).toBe(1);
  expect(metricValue(workerMetrics, 'temporal_activity_execution_latency_seconds_count')).toBeGreaterThan(0);
  expect(metricValue(workerMetrics, 'voipbin_agent_events_total')).toBeUndefined();
  const ingressMetrics = await scrape(`http://127.0.0.1:${port}/metrics`);
  expect(metricValue(ingressMetrics, 'voipbin_agent_events_total', { outcome: 'delivered' })).toBeGreaterThan(
    0,
  );
  expect(metricValue(ingressMetrics, 'voipbin_agent_turns_total')).toBeUndefined();

  ingress.kill('SIGTERM');
  worker.kill('SIGTERM');
  expect(await Promise.all([ingress.exited(), worker.exited()])).toEqual([0, 0]);

  // Production processes never load the sandbox (the simulator, the fake model, the demo call):
  // only `serve` with no VOIPBIN_API_KEY does.
  for (const half of ['ingress', 'worker']) {
    const modules = readFileSync(join(cwd, `${half}-modules.txt`), 'utf8')
      .trim()
      .split('\n');
    expect(modules.some((m) => m.includes(`${sep}dist${sep}src${sep}ingress${sep}`))).toBe(true);
    expect(modules.filter((m) => m.includes(`${sep}src${sep}sandbox${sep}`))).toEqual([]);
  }
}, 90_000);

describe('start-up refuses bad configuration, naming what is wrong', () => {
  it.each([
    [['worker'], {}, 'VOIPBIN_API_KEY'],
    [['ingress'], {}, 'VOIPBIN_API_KEY'],
    [['worker'], { VOIPBIN_API_KEY: 'k' }, 'OPENAI_API_KEY'],
    [['serve'], { PORT: 'eighty' }, 'PORT'],
    [['serve'], { AGENT_CONFIG: 'missing.json' }, 'AGENT_CONFIG'],
    // The worker runs the tools: a `${VAR}` they use and it lacks is named at start-up.
    [
      ['worker'],
      {
        VOIPBIN_API_KEY: 'k',
        OPENAI_API_KEY: 'k',
        AGENT_CONFIG: join(PROJECT_ROOT, 'test', 'fixtures', 'agent.tools.json'),
        TOOL_BASE_URL: 'http://crm.test',
      },
      '${CRM_TOKEN} (profile "default", tool "get_balance")',
    ],
  ])('%j with %j', async (args, vars, named) => {
    const p = agents.start(args, vars);
    expect(await p.exited()).toBe(1);
    expect(p.output).toContain(named);
  });

  it('an unknown command prints the usage and exits 2', async () => {
    const p = agents.start(['dance'], {});
    expect(await p.exited()).toBe(2);
    expect(p.output).toContain('usage: voipbin-agent <command>');
  });
});
