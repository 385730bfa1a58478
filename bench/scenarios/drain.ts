import { FIRST, FailoverStack, GREETING, REGENERATED, longestSilence } from '../../test/helpers/failover';
import { saysOf } from '../../test/helpers/voipbin-requests';
import { type Figure, type Scenario, max, median, min, ms } from '../scenario';

/** Where in the model's 1.5 s pause after the second sentence the worker gets SIGTERM, run by run. */
const SIGNAL_DELAYS_MS = [0, 300, 600, 900, 1200];

/**
 * A worker sent SIGTERM between two sentences of a streamed reply, as a deploy stops it
 * (test/e2e/drain.test.ts, over and over): with the default grace (30 s) it drains, and, for
 * comparison, with a grace of 0 (the SDK's default) its turn is cut and continued elsewhere.
 * Each run is checked: the whole first reply, once, in order.
 */
export const drain: Scenario = {
  name: 'drain',
  title: 'worker sent SIGTERM mid-reply: SIGTERM to exit, and the caller’s longest silence',
  async run(): Promise<Figure[]> {
    const stack = await FailoverStack.start();
    try {
      const runs = async (expectedAsks: number) => {
        const exits: number[] = [];
        const silences: number[] = [];
        for (const delay of SIGNAL_DELAYS_MS) {
          const run = await stack.run(delay, 'SIGTERM');
          const says = saysOf(run);
          if (
            JSON.stringify(says.slice(0, 7)) !== JSON.stringify([GREETING, ...FIRST]) ||
            says.some((s) => REGENERATED.includes(s)) ||
            run.asked.length !== expectedAsks ||
            run.exitCode !== 0
          )
            throw new Error(
              `run stopped ${delay} ms into the pause: said ${JSON.stringify(says)}, the model asked ` +
                `${run.asked.length} times (expected ${expectedAsks}), the worker exited ${run.exitCode}`,
            );
          exits.push(run.exitedAt - run.killedAt);
          silences.push(longestSilence(run));
        }
        return { exits, silences };
      };
      const drained = await runs(1);
      await stack.restartWorkers({ WORKER_SHUTDOWN_GRACE_SECONDS: '0' });
      const cut = await runs(2);
      const list = (values: number[]) => values.map((v) => Math.round(v)).join(', ');
      return [
        {
          label: 'runs per grace (each: the whole first reply, once, in order)',
          value: SIGNAL_DELAYS_MS.length,
        },
        { label: 'the model’s own pause between sentences', value: 1500, unit: 'ms' },
        { label: 'grace 30 s (default): one generation, no retry', value: 'yes' },
        { label: 'grace 30 s: SIGTERM → worker exit, min', value: ms(min(drained.exits)), unit: 'ms' },
        { label: 'grace 30 s: SIGTERM → worker exit, max', value: ms(max(drained.exits)), unit: 'ms' },
        { label: 'grace 30 s: longest silence, median', value: ms(median(drained.silences)), unit: 'ms' },
        { label: 'grace 30 s: longest silence, max', value: ms(max(drained.silences)), unit: 'ms' },
        { label: 'grace 30 s: longest silence per run', value: list(drained.silences), unit: 'ms' },
        { label: 'grace 0 (SDK default): the turn cut, continued by the other worker', value: 'yes' },
        { label: 'grace 0: SIGTERM → worker exit, max', value: ms(max(cut.exits)), unit: 'ms' },
        { label: 'grace 0: longest silence, median', value: ms(median(cut.silences)), unit: 'ms' },
        { label: 'grace 0: longest silence, max', value: ms(max(cut.silences)), unit: 'ms' },
        { label: 'grace 0: longest silence per run', value: list(cut.silences), unit: 'ms' },
      ];
    } finally {
      await stack.close();
    }
  },
};
