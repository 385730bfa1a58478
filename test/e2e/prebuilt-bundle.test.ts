// The call workflows bundled ahead of time, as the image does (`npm run build:bundle`): a worker
// started with WORKFLOW_BUNDLE runs that bundle instead of bundling as it starts, and refuses one
// that is missing, is no bundle, or was built from other workflow code.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm, type FakeLlm } from '../../src/sandbox/fake-llm/server';
import { PROJECT_ROOT } from '../../src/paths';
import { startSimulator, type Simulator } from '../../src/sandbox/simulator';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId } from '../../workflows/messages';
import { AgentProcesses, freePort } from '../helpers/cli';
import { localEnv } from '../helpers/temporal-env';

let env: TestWorkflowEnvironment;
let simulator: Simulator;
let llm: FakeLlm;
let cwd: string;
let bundle: string;
const agents = new AgentProcesses(() => cwd);

beforeAll(async () => {
  [env, simulator, llm] = await Promise.all([
    localEnv(),
    startSimulator({ accessKey: 'bundle-key', webhookRetryDelayMs: 200 }),
    startFakeLlm(),
  ]);
  cwd = mkdtempSync(join(tmpdir(), 'voipbin-agent-bundle-'));
  bundle = join(cwd, 'workflow-bundle.js');
  // The build step, as the Dockerfile runs it (after `npm run build`, which `npm test` runs first).
  const built = spawnSync(process.execPath, [join(PROJECT_ROOT, 'scripts', 'bundle-workflows.mjs'), bundle], {
    encoding: 'utf8',
  });
  expect(built.stderr).toBe('');
  expect(built.status).toBe(0);
  expect(built.stdout).toContain(`call workflows bundled into ${bundle}`);
}, 60_000);

afterAll(async () => {
  await agents.killAll();
  await simulator?.close();
  await llm?.close();
  await env?.teardown();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

function workerEnv(extra: Record<string, string>): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_TASK_QUEUE: 'prebuilt-bundle',
    VOIPBIN_BASE_URL: simulator.baseUrl,
    VOIPBIN_API_KEY: simulator.accessKey,
    OPENAI_BASE_URL: llm.baseUrl,
    HOST: '127.0.0.1',
    ...extra,
  };
}

it('a worker started with WORKFLOW_BUNDLE runs the calls on that bundle, bundling nothing itself', async () => {
  const port = await freePort();
  const ingress = agents.start(['ingress'], { ...workerEnv({}), PORT: String(port) });
  const worker = agents.start(['worker'], workerEnv({ WORKFLOW_BUNDLE: bundle }));
  await Promise.all([ingress.waitReady(port), worker.waitOutput('worker running')]);
  simulator.setWebhookUri(`http://127.0.0.1:${port}/webhooks/voipbin`);

  const call = simulator.startInboundCall({
    from: '+15550007777',
    to: '+15550008888',
    script: {
      steps: [
        { say: 'Can you hear me?', quietMs: 600 },
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
    'You said: Can you hear me.',
    'How else can I help you today?',
  ]);
  expect(worker.output).toContain('workflow bundle built ahead of time');
  // The SDK logs this line whenever it bundles workflow code (split-cli.test.ts's worker does).
  expect(worker.output).not.toContain('Workflow bundle created');

  ingress.kill('SIGTERM');
  worker.kill('SIGTERM');
  expect(await Promise.all([ingress.exited(), worker.exited()])).toEqual([0, 0]);
}, 90_000);

describe('a worker refuses a WORKFLOW_BUNDLE it cannot run, before it connects', () => {
  it.each([
    ['that does not exist', () => join(cwd, 'missing.js'), 'does not exist'],
    ['that is not a bundle', () => join(PROJECT_ROOT, 'package.json'), 'is not a call workflows bundle'],
    [
      'built from other workflow code',
      () => {
        const stale = join(cwd, 'stale-bundle.js');
        const text = readFileSync(bundle, 'utf8');
        writeFileSync(stale, text.replace(/^(\/\/ voipbin-agent call workflows bundle )\w+/, '$10123abcd'));
        return stale;
      },
      'was built from other workflow code',
    ],
  ])('one %s', async (_what, path, message) => {
    const p = agents.start(['worker'], workerEnv({ WORKFLOW_BUNDLE: path() }));
    expect(await p.exited()).toBe(1);
    expect(p.output).toContain('WORKFLOW_BUNDLE');
    expect(p.output).toContain(message);
    expect(p.output).not.toContain('worker running');
  });
});

it('with tracing on, a bundle built without its interceptors is set aside and the workflows bundled with them', async () => {
  // The image's bundle has no tracing; its workflows would make no spans. Nothing listens here:
  // the worker only has to start, the spans have nowhere to go.
  const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}` };
  const worker = agents.start(['worker'], workerEnv({ WORKFLOW_BUNDLE: bundle, ...tracing }));
  await worker.waitOutput('worker running');
  expect(worker.output).toContain('tracing is on and WORKFLOW_BUNDLE was built without it');
  expect(worker.output).toContain('Workflow bundle created');
  worker.kill('SIGTERM');
  expect(await worker.exited()).toBe(0);

  // Another build's bundle is still refused.
  const stale = join(cwd, 'stale-traced-bundle.js');
  writeFileSync(
    stale,
    readFileSync(bundle, 'utf8').replace(/^(\/\/ voipbin-agent call workflows bundle )\w+/, '$10123abcd'),
  );
  const refused = agents.start(['worker'], workerEnv({ WORKFLOW_BUNDLE: stale, ...tracing }));
  expect(await refused.exited()).toBe(1);
  expect(refused.output).toContain('was built from other workflow code');
}, 90_000);
