import { OutageStack } from '../../test/helpers/outage';
import { type Figure, type Scenario, max, median, min, ms } from '../scenario';

const RUNS = 3;

/**
 * The Temporal server SIGKILLed while the caller asks something, kept down until VoIPBIN gives up
 * on the transcript (test/e2e/temporal-outage.test.ts), then restarted: how long from the restart
 * to the answer's first `/say`. Each run is a new call; each answer is checked to be said once.
 */
export const outage: Scenario = {
  name: 'outage',
  title: 'Temporal server down while the caller speaks: restart to the answer at VoIPBIN',
  async run(): Promise<Figure[]> {
    const stack = await OutageStack.start();
    try {
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const call = await stack.answeredCall();
        const question = `Are you open on day ${i + 1}?`;
        const { restartToAnswerMs } = await stack.questionLost(call, question, 2);
        const answers = call.agentSaid().filter((t) => t.includes(question.replace(/\?$/, '')));
        if (answers.length !== 1) throw new Error(`the answer was said ${answers.length} times`);
        times.push(restartToAnswerMs);
        call.hangup();
        await stack.summary(call);
      }
      return [
        { label: 'runs (each: the lost question answered once)', value: times.length },
        { label: 'restart → answer, min', value: ms(min(times)), unit: 'ms' },
        { label: 'restart → answer, median', value: ms(median(times)), unit: 'ms' },
        { label: 'restart → answer, max', value: ms(max(times)), unit: 'ms' },
      ];
    } finally {
      await stack.close();
    }
  },
};
