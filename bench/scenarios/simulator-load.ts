import { startSimulator } from '../../src/sandbox/simulator';
import {
  LOAD_AGENT_SAYS,
  LOAD_CALL_EVENTS,
  eventTypesOf,
  runInboundCallLoad,
} from '../../test/helpers/simulator-load';
import { startWebhookReceiver } from '../../test/helpers/webhook-receiver';
import { type Figure, type Scenario, max, median, ms, percentile } from '../scenario';

/**
 * Concurrent scripted calls through the VoIPBIN simulator, answered as the agent would (the same
 * run test/unit/simulator-load.test.ts checks): how long until every call is answered and done.
 */
export function simulatorLoad(opts: { name: string; calls: number }): Scenario {
  return {
    name: opts.name,
    title: `${opts.calls} concurrent calls through the VoIPBIN simulator, each to its end`,
    async run(): Promise<Figure[]> {
      const receiver = await startWebhookReceiver();
      const sim = await startSimulator({
        accessKey: 'bench',
        webhookUri: receiver.url,
        speechCharsPerSecond: 1000,
        webhookRetryDelayMs: 10,
      });
      try {
        const run = await runInboundCallLoad(sim, opts.calls);
        for (const [i, load] of run.calls.entries()) {
          const events = eventTypesOf(receiver.received, load);
          if (JSON.stringify(events) !== JSON.stringify(LOAD_CALL_EVENTS))
            throw new Error(`call ${i} got the events ${events.join(', ')}`);
          if (JSON.stringify(load.call.heard()) !== JSON.stringify([LOAD_AGENT_SAYS]))
            throw new Error(`call ${i} heard ${JSON.stringify(load.call.heard())}`);
        }
        const answered = run.calls.map((c) => c.progressingAt - c.startedAt);
        const done = run.calls.map((c) => c.doneAt - c.startedAt);
        const wall = run.idleAt - run.startedAt;
        return [
          { label: 'calls (all completed correctly)', value: opts.calls },
          { label: 'wall time, until every webhook was delivered', value: ms(wall), unit: 'ms' },
          { label: 'every call answered after', value: ms(max(answered)), unit: 'ms' },
          { label: 'start to answered, median', value: ms(median(answered)), unit: 'ms' },
          { label: 'start to answered, p95', value: ms(percentile(answered, 95)), unit: 'ms' },
          { label: 'start to script done, median', value: ms(median(done)), unit: 'ms' },
          { label: 'start to script done, p95', value: ms(percentile(done, 95)), unit: 'ms' },
          { label: 'start to script done, max', value: ms(max(done)), unit: 'ms' },
          { label: 'webhooks delivered', value: receiver.received.length },
          { label: 'webhooks per second', value: Math.round(receiver.received.length / (wall / 1000)) },
          { label: 'REST requests served', value: sim.requests.length },
          {
            label: 'resident memory after',
            value: Math.round(process.memoryUsage().rss / 2 ** 20),
            unit: 'MiB',
          },
        ];
      } finally {
        await sim.close();
        await receiver.close();
      }
    },
  };
}
