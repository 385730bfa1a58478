import { loadAgent, loadPlainLoop } from '../load';
import { type Figure, type Scenario, max, median, ms, percentile } from '../scenario';

const CALLS = 20;
const START_EVERY_MS = 500;

const spread = (values: number[]) =>
  `${ms(median(values))} / ${ms(percentile(values, 95))} / ${ms(max(values))}`;

/**
 * The latency a turn adds, beside a plain in-memory loop (and voipbin-agent with its replies said by
 * the workflow, the path before `replySpeech: direct`) measured in the same run against the same
 * simulator and model: the `load` scenario's callers (a question, then a long answer interrupted
 * on its first sentence), but only 20 of them, half a second apart: unloaded. An instant model, so
 * the figures are the system's own.
 */
export const turnLatency: Scenario = {
  name: 'turn-latency',
  title: `${CALLS} calls, unloaded: transcript → first /say and barge-in → /flush, beside a plain loop`,
  async run(): Promise<Figure[]> {
    const options = { calls: CALLS, startEveryMs: START_EVERY_MS };
    const plain = await loadPlainLoop(options);
    const before = await loadAgent({ ...options, replySpeech: 'workflow' });
    const durable = await loadAgent({ ...options, replySpeech: 'direct' });
    const added = (agent: number[], loop: number[]) => ms(median(agent) - median(loop));
    return [
      {
        label: 'plain loop: transcript → first /say, p50 / p95 / max',
        value: spread(plain.answer),
        unit: 'ms',
      },
      {
        label: 'voipbin-agent, replySpeech workflow: transcript → first /say, p50 / p95 / max',
        value: spread(before.answer),
        unit: 'ms',
      },
      {
        label: 'voipbin-agent, replySpeech direct: transcript → first /say, p50 / p95 / max',
        value: spread(durable.answer),
        unit: 'ms',
      },
      { label: 'plain loop: barge-in → /flush, p50 / p95 / max', value: spread(plain.flush), unit: 'ms' },
      {
        label: 'voipbin-agent, replySpeech workflow: barge-in → /flush, p50 / p95 / max',
        value: spread(before.flush),
        unit: 'ms',
      },
      {
        label: 'voipbin-agent, replySpeech direct: barge-in → /flush, p50 / p95 / max',
        value: spread(durable.flush),
        unit: 'ms',
      },
      {
        label: 'replySpeech direct: added over the plain loop, first /say / /flush, p50 (bars 30 / 25)',
        value: `${added(durable.answer, plain.answer)} / ${added(durable.flush, plain.flush)}`,
        unit: 'ms',
      },
    ];
  },
};
