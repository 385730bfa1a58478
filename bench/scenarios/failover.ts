import { FIRST, FailoverStack, GREETING, REGENERATED } from '../../test/helpers/failover';
import { saysOf } from '../../test/helpers/voipbin-requests';
import { type Figure, type Scenario, max, median, min, ms } from '../scenario';

/** Where in the model's 1.5 s pause after the second sentence the worker is killed, run by run. */
const KILL_DELAYS_MS = [0, 300, 600, 900, 1200, 0, 300, 600, 900, 1200];

/**
 * A worker SIGKILLed between two sentences of a streamed reply (test/e2e/failover.test.ts, run over
 * and over, killing at a different point of the model's pause each time): how long the caller
 * waits for the next sentence. Each run is checked: the whole first reply, once, in order.
 */
export const failover: Scenario = {
  name: 'failover',
  title: 'worker SIGKILLed mid-reply: kill to the next sentence at VoIPBIN',
  async run(): Promise<Figure[]> {
    const stack = await FailoverStack.start();
    try {
      const gaps: number[] = [];
      for (const delay of KILL_DELAYS_MS) {
        const run = await stack.run(delay);
        const says = saysOf(run);
        if (
          JSON.stringify(says.slice(0, 7)) !== JSON.stringify([GREETING, ...FIRST]) ||
          says.some((s) => REGENERATED.includes(s))
        )
          throw new Error(`run killed ${delay} ms into the pause said ${JSON.stringify(says)}`);
        gaps.push(run.nextSay.at - run.killedAt);
      }
      return [
        { label: 'runs (each: the whole first reply, once, in order)', value: gaps.length },
        { label: 'kill → next sentence, min', value: ms(min(gaps)), unit: 'ms' },
        { label: 'kill → next sentence, median', value: ms(median(gaps)), unit: 'ms' },
        { label: 'kill → next sentence, max', value: ms(max(gaps)), unit: 'ms' },
        {
          label: 'per run (killed 0/300/600/900/1200 ms into the pause, twice)',
          value: gaps.map((g) => Math.round(g)).join(', '),
          unit: 'ms',
        },
      ];
    } finally {
      await stack.close();
    }
  },
};
