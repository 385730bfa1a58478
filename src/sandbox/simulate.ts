// `voipbin-agent simulate`: scenario files run against the whole agent (a Temporal dev server of its
// own, the worker, the ingress) on the VoIPBIN simulator, with the fake model or OPENAI_BASE_URL's.
// Each call is checked as the workflow recorded it (the `inspect` timeline).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config';
import { formatTimeline } from '../inspect/format';
import { loadCallTimeline } from '../inspect/load';
import type { CallTimeline } from '../inspect/timeline';
import type { Logger } from '../logger';
import { startIngress } from '../runtime/ingress-runtime';
import { Stack } from '../runtime/lifecycle';
import { freePort } from '../runtime/free-port';
import { connectClient } from '../runtime/temporal';
import { startWorker } from '../runtime/worker-runtime';
import { startDevServer } from '../temporal/dev-server';
import { callWorkflowId } from '../../workflows/messages';
import { checkExpectations, type ExpectationResult } from './expectations';
import { modelOf } from './offline';
import { callerScript, type Scenario } from './scenario';
import { startSimulator } from './simulator';

export interface ScenarioOutcome {
  scenario: Scenario;
  ok: boolean;
  results: ExpectationResult[];
  timeline?: CallTimeline;
  /** The call did not end in time, or the agent failed: why. */
  error?: string;
}

/** Runs each scenario, one call at a time, on one agent; `report` hears each outcome as it comes. */
export async function runScenarios(
  scenarios: Scenario[],
  config: AppConfig,
  log: Logger,
  report: (outcome: ScenarioOutcome) => void,
): Promise<ScenarioOutcome[]> {
  const stack = new Stack();
  const dataDir = mkdtempSync(join(tmpdir(), 'voipbin-agent-simulate-'));
  stack.add('data', () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })));
  try {
    const openai = await modelOf(config, log, stack);
    const simulator = await startSimulator({ accessKey: 'simulate-key', webhookRetryDelayMs: 200 });
    stack.add('VoIPBIN simulator', () => simulator.close());
    const namespace = 'default';
    const server = await startDevServer({
      cliPath: config.temporal.cliPath,
      port: await freePort(),
      uiPort: await freePort(),
      namespace,
      dataDir,
      log,
    });
    stack.add('temporal dev server', server.stop);
    const target = { address: server.address, namespace, options: {}, devServer: server };
    const client = await connectClient(target);
    stack.add('temporal client', () => client.connection.close());
    const voipbin = {
      ...config.voipbin,
      baseUrl: simulator.baseUrl,
      apiKey: simulator.accessKey,
      webhookSecret: simulator.customer.webhookSecret || undefined,
      events: 'webhook' as const,
    };
    const taskQueue = 'simulate';
    const worker = await startWorker({ target, client, taskQueue, voipbin, openai, shutdownGraceMs: 0, log });
    stack.add('worker', worker.shutdown);
    const ingress = await startIngress({
      client,
      taskQueue,
      agent: config.agent,
      voipbin,
      host: '127.0.0.1',
      port: 0,
      log,
    });
    stack.add('ingress', ingress.close);
    simulator.setWebhookUri(`http://127.0.0.1:${ingress.port}/webhooks/voipbin`);

    const outcomes: ScenarioOutcome[] = [];
    for (const scenario of scenarios) {
      const outcome = await runOne(scenario);
      outcomes.push(outcome);
      report(outcome);
    }
    return outcomes;

    async function runOne(scenario: Scenario): Promise<ScenarioOutcome> {
      simulator.setFaults(scenario.faults);
      try {
        return await callOf(scenario);
      } finally {
        simulator.setFaults(undefined);
      }
    }

    async function callOf(scenario: Scenario): Promise<ScenarioOutcome> {
      const call = simulator.startInboundCall({
        from: scenario.from,
        to: scenario.to,
        script: { steps: callerScript(scenario) },
      });
      const deadline = scenario.timeoutSeconds * 1000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), deadline);
      });
      try {
        // The caller's end, then the workflow's own (its sessions stopped, its summary written).
        const ended: 'ended' | 'timeout' = await Promise.race([
          call.ended
            .then(() => client.workflow.getHandle(callWorkflowId(call.id)).result())
            .then(() => 'ended' as const),
          timedOut,
        ]);
        const timeline = await loadCallTimeline(client, call.id).catch(() => undefined);
        if (ended === 'timeout') {
          call.hangup();
          return {
            scenario,
            ok: false,
            results: [],
            timeline,
            error: `the call had not ended after ${scenario.timeoutSeconds} s (timeoutSeconds); the caller hung up`,
          };
        }
        if (!timeline) return { scenario, ok: false, results: [], error: 'the call left no history' };
        const results = checkExpectations(timeline, scenario.expect);
        return { scenario, ok: results.every((r) => r.ok), results, timeline };
      } catch (err) {
        return { scenario, ok: false, results: [], error: (err as Error).message };
      } finally {
        clearTimeout(timer);
      }
    }
  } finally {
    await stack.closeAll(log);
  }
}

/** One scenario's report: PASS or FAIL, each expectation, the turns' latencies; the call on a failure. */
export function formatOutcome(o: ScenarioOutcome): string[] {
  const lines = [`${o.ok ? 'PASS' : 'FAIL'}  ${o.scenario.title}  (${o.scenario.file})`];
  if (o.error) lines.push(`  ${o.error}`);
  for (const r of o.results) lines.push(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${r.expectation}: ${r.detail}`);
  const turns = o.timeline?.turns ?? [];
  for (const t of turns) {
    const ms = (v?: number) => (v === undefined ? '-' : `${Math.round(v)} ms`);
    lines.push(
      `  turn ${t.turn}: first token ${ms(t.firstTokenMs)}, first sentence ${ms(t.firstSentenceMs)}, first /say ${ms(t.firstSayMs)} (${t.outcome})`,
    );
  }
  if (!o.ok && o.timeline) lines.push('  the call:', ...formatTimeline(o.timeline).map((l) => `    ${l}`));
  return lines;
}
