// OpenTelemetry as a user turns it on: `voipbin-agent serve` and `voipbin-agent call` with
// OTEL_EXPORTER_OTLP_ENDPOINT set to a stand-in collector, real calls through the simulator and the
// fake model, and the spans they leave: one trace from a client's signal through the workflow to
// the activities, across processes, the last spans exported at shutdown. And `serve` with no
// endpoint, which loads nothing of OpenTelemetry.
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { startFakeLlm, type FakeLlm } from '../../src/sandbox/fake-llm/server';
import { PROJECT_ROOT } from '../../src/paths';
import { otelWorkerTracing, WORKFLOW_SPAN_INFO } from '../../src/runtime/otel-tracing';
import { tracingWorkflowModules } from '../../src/runtime/tracing';
import { startSimulator, type Simulator } from '../../src/sandbox/simulator';
import { callSinks } from '../../src/worker';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId } from '../../workflows/messages';
import { AgentProcesses, freePort, serveEnv, type AgentProcess } from '../helpers/cli';
import { startHttpCollector, type OtlpCollector, type ReceivedSpan } from '../helpers/otlp-collector';
import { bundleWorkflows } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait-for';

const OUR_NUMBER = '+15550007000';
const CALLEE = '+15550008000';
/** Records the modules a process loaded (test/helpers/loaded-modules.cjs). */
const PRELOAD = join(PROJECT_ROOT, 'test', 'helpers', 'loaded-modules.cjs');
/** OpenTelemetry's SDK, its exporters, Temporal's interceptors and our module that loads them. */
const OTEL_MODULE =
  /node_modules\/(@opentelemetry\/(sdk-|exporter-|otlp-|resources\/)|@temporalio\/interceptors-opentelemetry\/)|runtime\/otel-tracing\.js$/;

let simulator: Simulator;
let llm: FakeLlm;
let collector: OtlpCollector;
let cwd: string;
const agents = new AgentProcesses(() => cwd);

beforeAll(async () => {
  [simulator, llm, collector] = await Promise.all([
    startSimulator({
      accessKey: 'tracing-key',
      webhookRetryDelayMs: 200,
      outboundScript: { steps: [{ waitForAgent: true, quietMs: 300 }, { hangup: true }] },
    }),
    startFakeLlm({ firstTokenDelayMs: 50, chunkDelayMs: 5 }),
    startHttpCollector(),
  ]);
  cwd = mkdtempSync(join(tmpdir(), 'voipbin-agent-tracing-'));
  writeFileSync(
    join(cwd, 'agent.config.json'),
    JSON.stringify({
      // Replies said by the workflow: its sentence signals and say activities are what the spans
      // below follow (a speaking turn's /says are requests inside its llmTurn span).
      profiles: { default: { replySpeech: 'workflow' } },
      routes: [
        { to: '*', profile: 'default' },
        { to: '*', profile: 'default', direction: 'outbound', from: OUR_NUMBER },
      ],
    }),
  );
}, 60_000);

afterAll(async () => {
  await agents.stopAll();
  await simulator?.close();
  await llm?.close();
  await collector?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

/** `serve` on ports of its own, its loaded modules written to `modulesFile` when it exits. */
async function startServe(
  name: string,
  extra: Record<string, string>,
): Promise<{ serve: AgentProcess; temporalPort: number; modulesFile: string }> {
  const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const modulesFile = join(cwd, `${name}-modules.txt`);
  const serve = agents.start(
    ['serve'],
    serveEnv(
      simulator,
      llm.baseUrl,
      { port, temporalPort, uiPort, dataDir: join(cwd, name) },
      { NODE_OPTIONS: `--require ${PRELOAD}`, LOADED_MODULES_FILE: modulesFile, ...extra },
    ),
  );
  await serve.waitReady(port);
  simulator.setWebhookUri(`http://127.0.0.1:${port}/webhooks/voipbin`);
  return { serve, temporalPort, modulesFile };
}

/** An inbound call: the caller asks one thing, hears the answer, hangs up; once it has ended. */
async function inboundCall(from: string): Promise<string> {
  const call = simulator.startInboundCall({
    from,
    to: '+15550002222',
    script: {
      steps: [
        { say: 'What are your opening hours?', quietMs: 600 },
        { waitForAgent: true, quietMs: 300 },
        { hangup: true },
      ],
    },
  });
  await call.ended;
  return call.id;
}

async function connect(temporalPort: number): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address: `127.0.0.1:${temporalPort}` }) });
}

const loadedModules = (file: string): string[] => readFileSync(file, 'utf8').trim().split('\n');

describe('with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  const otel = (delayMs: number) => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    // Batches leave every minute only: what reaches the collector sooner, shutdown sent.
    OTEL_BSP_SCHEDULE_DELAY: String(delayMs),
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=e2e',
  });
  let spans: ReceivedSpan[];
  let byId: Map<string, ReceivedSpan>;
  /** The span, its parent, its parent's parent... up to the trace's root. */
  const ancestry = (span: ReceivedSpan): ReceivedSpan[] => {
    const chain = [span];
    for (let s = span; s.parentSpanId;) {
      s = byId.get(s.parentSpanId)!;
      chain.push(s);
    }
    return chain;
  };
  const named = (name: string, workflowId: string) =>
    spans.filter(
      (s) =>
        s.name === name && (s.attributes['workflowId'] ?? s.attributes['temporalWorkflowId']) === workflowId,
    );
  let inbound: string;
  let outbound: string;
  let serveOutput: string;
  let modulesFile: string;
  let history: unknown;

  beforeAll(async () => {
    const subscribed = simulator.socketSubscribes.length;
    const started = await startServe('traced', otel(60_000));
    modulesFile = started.modulesFile;
    await waitFor(
      () => simulator.socketSubscribes.length > subscribed,
      'the event socket subscribed',
      10_000,
    );
    const client = await connect(started.temporalPort);
    try {
      inbound = callWorkflowId(await inboundCall('+15550001111'));
      await client.workflow.getHandle<typeof callWorkflow>(inbound).result();

      const placing = agents.start(['call', '--to', CALLEE], {
        TEMPORAL_DEV_PORT: String(started.temporalPort),
        VOIPBIN_BASE_URL: simulator.baseUrl,
        VOIPBIN_API_KEY: simulator.accessKey,
        ...otel(60_000),
      });
      expect(await placing.exited()).toBe(0);
      const [callId, workflowId] = placing.output.trim().split(/\s+/);
      outbound = workflowId!;
      await simulator.calls.get(callId!)!.ended;
      await client.workflow.getHandle<typeof callWorkflow>(outbound).result();

      // `call` flushed its spans as it exited; serve, still running, holds all of its own.
      const roles = new Set(collector.spans().map((s) => s.resource['voipbin_agent.role']));
      expect([...roles]).toEqual(['call']);
      history = await client.workflow.getHandle(inbound).fetchHistory();
    } finally {
      await client.connection.close();
    }
    started.serve.kill('SIGTERM');
    expect(await started.serve.exited()).toBe(0);
    serveOutput = started.serve.output;
    spans = collector.spans();
    byId = new Map(spans.map((s) => [s.spanId, s]));
  }, 120_000);

  it('exports the spans of serve at shutdown, with the resource of the process', () => {
    const served = spans.filter((s) => s.resource['voipbin_agent.role'] === 'serve');
    expect(served.length).toBeGreaterThan(20);
    for (const s of served) {
      expect(s.resource).toMatchObject({ 'service.name': 'voipbin-agent', 'deployment.environment': 'e2e' });
    }
    // The last spans: the workflow's run, ended with the call, and the sessions stopped at hangup.
    expect(named('RunWorkflow:callWorkflow', inbound)).toHaveLength(1);
    expect(named('RunActivity:stopSpeaking', inbound)).toHaveLength(1);
    expect(named('RunActivity:stopTranscribe', inbound)).toHaveLength(1);
  });

  it('carries ids and no phone number, transcript or key', () => {
    const [run] = named('RunWorkflow:callWorkflow', inbound);
    expect(Object.keys(run!.attributes).sort()).toEqual(
      WORKFLOW_SPAN_INFO.filter((k) => k !== 'continuedFromExecutionRunId').sort(),
    );
    const exported = collector.requests.map((r) => r.body.toString()).join('\n');
    for (const secret of ['+15550001111', CALLEE, 'opening hours', simulator.accessKey]) {
      expect(exported).not.toContain(secret);
    }
  });

  it('links every span to its parent: none is missing', () => {
    for (const s of spans) if (s.parentSpanId) expect(byId.has(s.parentSpanId)).toBe(true);
  });

  it("runs the workflow under the ingress's SignalWithStart, in the same trace", () => {
    const [run] = named('RunWorkflow:callWorkflow', inbound);
    expect(ancestry(run!).map((s) => [s.name, s.scope, s.resource['voipbin_agent.role']])).toEqual([
      ['RunWorkflow:callWorkflow', '@temporalio/interceptor-workflow', 'serve'],
      ['SignalWithStartWorkflow:callWorkflow', '@temporalio/interceptor-client', 'serve'],
    ]);
    expect(byId.get(run!.parentSpanId!)!.attributes['temporalWorkflowId']).toBe(inbound);
    expect(new Set(ancestry(run!).map((s) => s.traceId)).size).toBe(1);
    // The workflow's log lines name the span they were written in (here the hangup's signal).
    const logged = new RegExp(`call ended .*trace_id=(\\w+) span_id=(\\w+) .*workflowId=${inbound}`).exec(
      serveOutput,
    );
    const loggedIn = byId.get(logged![2]!)!;
    expect([loggedIn.traceId, loggedIn.attributes['workflowId']]).toEqual([logged![1], inbound]);
  });

  it('runs each activity under the workflow span that scheduled it', () => {
    for (const activity of ['createTranscribe', 'createSpeaking', 'say', 'llmTurn', 'stopSpeaking']) {
      const runs = named(`RunActivity:${activity}`, inbound);
      expect(runs.length).toBeGreaterThan(0);
      for (const run of runs) {
        const [, start, ...up] = ancestry(run);
        expect([start!.name, start!.scope]).toEqual([
          `StartActivity:${activity}`,
          '@temporalio/interceptor-workflow',
        ]);
        // Up to the client's signal that woke the workflow: the trace's root.
        expect(up.at(-1)!.scope).toBe('@temporalio/interceptor-client');
        expect(new Set([run, start!, ...up].map((s) => s.traceId)).size).toBe(1);
      }
    }
  });

  it("says the model's sentences under the turn that streamed them: signalled by the activity, said by the workflow", () => {
    const [turn, ...more] = named('RunActivity:llmTurn', inbound);
    expect(more).toEqual([]);
    const saidInTurn = named('RunActivity:say', inbound).filter((say) => ancestry(say).includes(turn!));
    expect(saidInTurn.length).toBeGreaterThan(0);
    expect(
      ancestry(saidInTurn[0]!)
        .slice(0, 5)
        .map((s) => s.name),
    ).toEqual([
      'RunActivity:say',
      'StartActivity:say',
      'HandleSignal:sentence',
      'SignalWorkflow:sentence',
      'RunActivity:llmTurn',
    ]);
  });

  it("continues `call`'s trace in serve's worker: the outbound call's workflow runs under the start `call` made", () => {
    const [run] = named('RunWorkflow:callWorkflow', outbound);
    const start = byId.get(run!.parentSpanId!)!;
    expect([
      start.name,
      start.resource['voipbin_agent.role'],
      start.attributes['temporalWorkflowId'],
    ]).toEqual(['SignalWithStartWorkflow:callWorkflow', 'call', outbound]);
    expect(run!.resource['voipbin_agent.role']).toBe('serve');
    expect(run!.traceId).toBe(start.traceId);
    expect(named('SignalWorkflow:reconcile', outbound)[0]!.resource['voipbin_agent.role']).toBe('call');
  });

  it('loaded OpenTelemetry and bundled its workflow interceptors', () => {
    expect(loadedModules(modulesFile).filter((m) => OTEL_MODULE.test(m)).length).toBeGreaterThan(10);
    expect(serveOutput).toContain('@opentelemetry/');
  });

  it('records a history that replays with tracing off and on', async () => {
    const [plain, traced] = await Promise.all([
      bundleWorkflows(),
      bundleWorkflows(undefined, tracingWorkflowModules()),
    ]);
    await Worker.runReplayHistory(
      { workflowBundle: plain, replayName: 'plain', sinks: callSinks() },
      history,
    );
    const exporter = new InMemorySpanExporter();
    const tracing = otelWorkerTracing(
      new SimpleSpanProcessor(exporter),
      Resource.default(),
      new BasicTracerProvider().getTracer('replay'),
    );
    await Worker.runReplayHistory(
      { workflowBundle: traced, replayName: 'traced', sinks: { ...callSinks(), ...tracing.sinks } },
      history,
    );
    expect(exporter.getFinishedSpans()).toEqual([]);
  }, 60_000);
});

it('serve with no endpoint loads nothing of OpenTelemetry and bundles no interceptor', async () => {
  const before = collector.requests.length;
  const { serve, temporalPort, modulesFile } = await startServe('untraced', {});
  const client = await connect(temporalPort);
  try {
    const workflowId = callWorkflowId(await inboundCall('+15550003333'));
    expect(await client.workflow.getHandle<typeof callWorkflow>(workflowId).result()).toMatchObject({
      turns: 1,
    });
  } finally {
    await client.connection.close();
  }
  serve.kill('SIGTERM');
  expect(await serve.exited()).toBe(0);
  const modules = loadedModules(modulesFile);
  // The file is this process's: the worker and the lazy loader were loaded, OpenTelemetry was not.
  expect(modules.some((m) => m.endsWith('dist/src/runtime/tracing.js'))).toBe(true);
  expect(modules.filter((m) => OTEL_MODULE.test(m))).toEqual([]);
  expect(serve.output).toContain('Workflow bundle created');
  expect(serve.output).not.toContain('@opentelemetry/');
  expect(collector.requests.length).toBe(before);
}, 90_000);
