// `voipbin-agent simulate`: scenario files run against the whole agent (a Temporal dev server of its
// own, the worker, the ingress) on the VoIPBIN simulator, with the fake model or OPENAI_BASE_URL's.
// Each call is checked as the workflow recorded it (the `inspect` timeline).
import type { AppConfig } from '../config';
import { formatTimeline } from '../inspect/format';
import { loadCallTimeline } from '../inspect/load';
import type { CallTimeline } from '../inspect/timeline';
import type { Logger } from '../logger';
import { Stack } from '../runtime/lifecycle';
import { callWorkflowId } from '../../workflows/messages';
import { checkExpectations, type ExpectationResult } from './expectations';
import { startSandboxStack } from './sandbox-stack';
import { callerScript, type Scenario } from './scenario';

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
  try {
    const { simulator, client } = await startSandboxStack(config, log, stack, { name: 'simulate' });
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
