import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { DEFAULT_AGENT_CONFIG, type AgentConfig } from '../../src/agent-config';
import { callHistories } from '../../src/histories';
import { callSinks } from '../../src/worker';
import { callWorkflowId, voipbinEventSignal } from '../../workflows/messages';
import { startAgentStack } from '../agent-stack';
import { type Figure, type Scenario } from '../scenario';

const TURNS = 60;
const CALLS = 3;
/** A production prompt is rarely one line: about 1,500 characters of instructions. */
const SYSTEM_PROMPT = Array.from(
  { length: 15 },
  (_, i) =>
    `Rule ${i + 1}: answer as the front desk of a dental practice would, briefly, in plain words, and ask one question at a time.`,
).join('\n');

interface Turn {
  events: number;
  bytes: number;
}

interface CallHistory {
  runs: number;
  /** Each run's history, for replaying. */
  histories: temporal.api.history.v1.IHistory[];
  /** Each run's events and encoded bytes. */
  perRun: Turn[];
  /** The first event of each run after the first: the state the call carried into it. */
  carried: number[];
  /** Events and bytes from each caller transcript to the next (the last: to the end of the call). */
  turns: Turn[];
}

const encodedSize = (event: temporal.api.history.v1.IHistoryEvent) =>
  temporal.api.history.v1.HistoryEvent.encode(event).finish().length;

/** Every run of the call's workflow, oldest first, cut into turns at each caller transcript signal. */
async function historyOf(client: Client, callId: string): Promise<CallHistory> {
  const runs = await callHistories(client, callId);
  const perRun: Turn[] = [];
  const histories: temporal.api.history.v1.IHistory[] = [];
  const carried: number[] = [];
  const turns: Turn[] = [];
  for (const { history } of runs) {
    histories.push(history);
    const run = { events: 0, bytes: 0 };
    for (const event of history.events ?? []) {
      const bytes = encodedSize(event);
      if (event.workflowExecutionStartedEventAttributes && perRun.length > 0) carried.push(bytes);
      run.events += 1;
      run.bytes += bytes;
      const signal = event.workflowExecutionSignaledEventAttributes;
      const data = signal?.input?.payloads?.[0]?.data;
      if (
        signal?.signalName === voipbinEventSignal.name &&
        data &&
        Buffer.from(data).toString().includes('"kind":"transcript"')
      ) {
        turns.push({ events: 0, bytes: 0 });
      }
      const turn = turns.at(-1);
      if (turn) {
        turn.events += 1;
        turn.bytes += bytes;
      }
    }
    perRun.push(run);
  }
  return { runs: runs.length, histories, perRun, carried, turns };
}

/** Turns until a history of `a + b·k` bytes per turn k reaches `limit` bytes (one run). */
function turnsUntil(limit: number, a: number, b: number): number {
  let total = 0;
  for (let k = 0; k < 1_000_000; k++) {
    total += a + b * k;
    if (total >= limit) return k + 1;
  }
  return Infinity;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const kb = (bytes: number) => Math.round(bytes / 102.4) / 10;

/**
 * How a call's history grows with its turns: events and bytes per turn, early and late in the
 * call, and each run's size (a run ends when the call continues as new). Three calls of 60 turns
 * through the ingress and a worker (as `serve` runs them), each caller waiting for the whole
 * answer before the next question, a 1,500-character system prompt.
 */
export const historyBudget: Scenario = {
  name: 'history-budget',
  title: `${CALLS} calls of ${TURNS} turns: a call's history per turn, early and late`,
  async run(): Promise<Figure[]> {
    const agent: AgentConfig = {
      ...DEFAULT_AGENT_CONFIG,
      profiles: { default: { ...DEFAULT_AGENT_CONFIG.profiles.default!, systemPrompt: SYSTEM_PROMPT } },
    };
    const { client, simulator, close } = await startAgentStack({
      taskQueue: 'history-budget',
      agent,
      llm: {
        reply: (req) => ({
          text: `About ${String(req.messages.at(-1)?.content).slice(0, 12)}: yes. Anything else?`,
        }),
      },
    });
    try {
      const calls = Array.from({ length: CALLS }, (_, c) =>
        simulator.startInboundCall({
          from: `+1555070${String(c).padStart(4, '0')}`,
          to: '+15550400000',
          script: {
            steps: [
              ...Array.from({ length: TURNS }, (_, t) => ({ say: `Question ${t + 1} of caller ${c}?` })),
              { waitForAgent: true as const },
              { hangup: true as const },
            ],
          },
        }),
      );
      await Promise.all(calls.map((c) => c.ended));
      const histories: CallHistory[] = [];
      for (const call of calls) {
        // Every question answered once, in order: the figures are of calls that went right.
        const answers = call.agentSaid().filter((text) => text.startsWith('About '));
        if (answers.length !== TURNS)
          throw new Error(`call ${call.id}: ${answers.length} of ${TURNS} answered`);
        await client.workflow.getHandle(callWorkflowId(call.id)).result();
        histories.push(await historyOf(client, call.id));
      }
      // Turns 1 to 10 and the ten before the last (the last one holds the end of the call and its
      // summary), by their median: a turn that continued as new holds the next run's first event.
      const early = histories.flatMap((h) => h.turns.slice(0, 10));
      const late = histories.flatMap((h) => h.turns.slice(TURNS - 11, TURNS - 1));
      const earlyBytes = median(early.map((t) => t.bytes));
      const lateBytes = median(late.map((t) => t.bytes));
      // Each turn costs a few bytes more than the one before: the slope makes a history quadratic.
      const slope = (lateBytes - earlyBytes) / (TURNS - 11);
      const runs = histories.flatMap((h) => h.perRun);
      const all = histories.flatMap((h) => h.turns.slice(0, TURNS - 1));
      const carried = histories.flatMap((h) => h.carried);
      // What a worker taking the call over does first: replay the run's history (the workflow code
      // bundled beforehand, as a running worker has it), inside the 2 s workflow task timeout.
      const quiet = () => undefined;
      const bundle = await bundleWorkflowCode({
        workflowsPath: require.resolve('../../workflows'),
        logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet },
      });
      const largest = histories
        .flatMap((h) => h.histories)
        .reduce((a, b) => ((a.events?.length ?? 0) >= (b.events?.length ?? 0) ? a : b));
      const replays: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = performance.now();
        await Worker.runReplayHistory(
          { workflowBundle: bundle, replayName: 'history-budget', sinks: callSinks() },
          largest,
        );
        replays.push(performance.now() - started);
      }
      return [
        { label: 'calls / turns each, all answered once in order', value: `${CALLS} / ${TURNS}` },
        { label: 'system prompt', value: SYSTEM_PROMPT.length, unit: 'chars' },
        { label: 'events per turn, mean', value: Math.round(mean(all.map((t) => t.events)) * 10) / 10 },
        { label: 'bytes per turn, turns 1-10 (median)', value: kb(earlyBytes), unit: 'KiB' },
        {
          label: `bytes per turn, turns ${TURNS - 10}-${TURNS - 1} (median)`,
          value: kb(lateBytes),
          unit: 'KiB',
        },
        { label: 'growth of a turn per turn before it', value: Math.round(slope), unit: 'bytes' },
        ...(
          [
            ['4 MB (continue-as-new suggested)', 4e6],
            ['10 MB (warning)', 10e6],
            ['50 MB (the run is terminated)', 50e6],
          ] as const
        ).map(([what, limit]) => ({
          label: `turns until one run reaches ${what}, extrapolated`,
          value:
            runs.length > CALLS ? 'n/a: the call continues as new' : turnsUntil(limit, earlyBytes, slope),
        })),
        { label: 'runs per call', value: histories.map((h) => h.runs).join(', ') },
        { label: 'largest run, events', value: Math.max(...runs.map((r) => r.events)) },
        { label: 'largest run, bytes', value: kb(Math.max(...runs.map((r) => r.bytes))), unit: 'KiB' },
        {
          label: `replay of the largest run (${largest.events?.length} events), median of 5`,
          value: Math.round(median(replays)),
          unit: 'ms',
        },
        {
          label: 'state carried into a new run (its first event), largest',
          value: carried.length ? kb(Math.max(...carried)) : 'n/a',
          unit: carried.length ? 'KiB' : undefined,
        },
      ];
    } finally {
      await close();
    }
  },
};
