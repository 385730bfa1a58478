import { loadAgent, loadPlainLoop, type LoadFigures, type LoadOptions } from '../load';
import { type Figure, type Scenario, ms, percentile } from '../scenario';

/** Issue #7's bar: transcript → first /say and barge-in → /flush, both under this at p99. */
const P99_BAR_MS = 250;
const LADDER = [25, 50, 100, 150, 200, 300, 500];

interface Step {
  calls: number;
  answerP99: number;
  flushP99: number;
  /** Why the step does not hold: over the bar, or a call that went wrong. */
  failed?: string;
}

/** Climbs the ladder until a step does not hold; returns every step tried. */
async function climb(run: (opts: LoadOptions) => Promise<LoadFigures>): Promise<Step[]> {
  const steps: Step[] = [];
  for (const calls of LADDER) {
    let step: Step;
    try {
      const f = await run({ calls, startEveryMs: 25 });
      step = { calls, answerP99: percentile(f.answer, 99), flushP99: percentile(f.flush, 99) };
      if (Math.max(step.answerP99, step.flushP99) >= P99_BAR_MS) step.failed = 'p99 over the bar';
    } catch (err) {
      // A call that went wrong under this load: the load does not hold.
      step = { calls, answerP99: NaN, flushP99: NaN, failed: (err as Error).message };
    }
    steps.push(step);
    if (step.failed) break;
  }
  return steps;
}

function report(system: string, steps: Step[]): Figure[] {
  const held = steps.filter((s) => !s.failed).at(-1);
  return [
    {
      label: `${system}: largest load holding both p99 under ${P99_BAR_MS} ms`,
      value: held ? held.calls : `none of ${LADDER[0]}+`,
      unit: held ? 'calls' : undefined,
    },
    {
      label: `${system}: each step, calls: first /say p99, /flush p99`,
      value: steps
        .map(
          (s) =>
            `${s.calls}: ${s.failed && isNaN(s.answerP99) ? s.failed : `${ms(s.answerP99)}, ${ms(s.flushP99)}`}`,
        )
        .join('; '),
      unit: 'ms',
    },
  ];
}

/**
 * The largest number of concurrent calls (issue #7's callers, started 25 ms apart) for which
 * transcript → first `/say` and barge-in → `/flush` both stay under 250 ms at p99 with every call
 * correct, for the plain loop and for voipbin-agent, climbing 25, 50, 100, 150, 200, 300, 500.
 */
export const loadCapacity: Scenario = {
  name: 'load-capacity',
  title: `the most concurrent calls with both p99 under ${P99_BAR_MS} ms, beside the plain loop`,
  async run(): Promise<Figure[]> {
    const plain = await climb(loadPlainLoop);
    const agent = await climb((opts) => loadAgent(opts));
    return [...report('plain loop', plain), ...report('voipbin-agent', agent)];
  },
};
