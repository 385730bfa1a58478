import { loadAgent, loadPlainLoop, loadServe, type LoadFigures } from '../load';
import { type Figure, type Scenario, SomeSystemsFailed, ms, percentile } from '../scenario';

const spread = (values: number[]) => `${ms(percentile(values, 50))} / ${ms(percentile(values, 99))}`;

function figures(system: string, f: LoadFigures): Figure[] {
  return [
    ...(f.answer.length
      ? [
          { label: `${system}: transcript → first /say, p50 / p99`, value: spread(f.answer), unit: 'ms' },
          { label: `${system}: barge-in → /flush, p50 / p99`, value: spread(f.flush), unit: 'ms' },
        ]
      : []),
    {
      label: `${system}: call_progressing → greeting /say, p50 / p99`,
      value: spread(f.greeting),
      unit: 'ms',
    },
    { label: `${system}: webhook acknowledged, p50 / p99`, value: spread(f.webhookAck), unit: 'ms' },
    {
      label: `${system}: memory per active call`,
      value: Math.round(f.memoryPerCallMiB * 100) / 100,
      unit: 'MiB',
    },
    {
      label: `${system}: CPU per call (of which the Temporal server)`,
      value: `${Math.round(f.cpuPerCallMs)} (${Math.round(f.serverCpuPerCallMs)})`,
      unit: 'ms',
    },
    ...(f.agentProcessCpuPerCallMs === undefined
      ? []
      : [
          {
            label: `${system}: of which the serve process (worker and ingress)`,
            value: Math.round(f.agentProcessCpuPerCallMs),
            unit: 'ms',
          },
        ]),
    ...(f.histories
      ? [
          {
            label: `${system}: per call, history events / workflow tasks / signals / activities`,
            value: `${f.histories.events} / ${f.histories.workflowTasks} / ${f.histories.signals} / ${f.histories.activities}`,
          },
          {
            label: `${system}: workflow tasks that timed out on the sticky queue (replayed), all calls`,
            value: f.histories.stickyTimeouts,
          },
          {
            label: `${system}: workflow task scheduled → started, p50 / p99 / max`,
            value: `${spread(f.histories.taskWaits)} / ${ms(Math.max(0, ...f.histories.taskWaits))}`,
            unit: 'ms',
          },
          {
            label: `${system}: workflow task started → completed (the worker's time on it), p50 / p99`,
            value: spread(f.histories.taskRuns),
            unit: 'ms',
          },
          {
            label: `${system}: a call's first workflow task (normal queue), scheduled → started, p50 / p99 / max`,
            value: `${spread(f.histories.firstTaskWaits)} / ${ms(Math.max(0, ...f.histories.firstTaskWaits))}`,
            unit: 'ms',
          },
          {
            label: `${system}: a call's first workflow task, started → completed (sessions created in it), p50 / p99`,
            value: spread(f.histories.firstTaskRuns),
            unit: 'ms',
          },
          ...(f.histories.normalQueueWaits.length
            ? [
                {
                  label: `${system}: of which after a sticky timeout (normal queue), p50 / max`,
                  value: `${ms(percentile(f.histories.normalQueueWaits, 50))} / ${ms(Math.max(...f.histories.normalQueueWaits))}`,
                  unit: 'ms',
                },
              ]
            : []),
        ]
      : []),
    { label: `${system}: wall time`, value: Math.round(f.wallMs / 100) / 10, unit: 's' },
  ];
}

const CALLERS = {
  conversation: '',
  paced: ' at a conversation pace (a question after each 8 to 12 s of quiet)',
  greeting: ' that hang up after the greeting',
} as const;

/**
 * Issue #7's load: `calls` calls started 25 ms apart, each caller asking a question at a random
 * moment within 10 s, then asking for a long answer and interrupting it on its first sentence;
 * an instant model. The plain in-memory loop and voipbin-agent (as `serve` runs it: one process,
 * the dev server on a database file) against the same callers, in the same run. Every call is
 * checked: each question answered once, each barge-in flushed, nothing of the interrupted answer
 * said after its flush.
 */
export function load(opts: {
  name: string;
  calls: number;
  apart?: boolean;
  events?: 'webhook' | 'both';
  callers?: 'conversation' | 'paced' | 'greeting';
  /** Default 25 ms: issue #7's 40 call starts a second. */
  startEveryMs?: number;
}): Scenario {
  return {
    name: opts.name,
    title: `${opts.calls} concurrent calls${CALLERS[opts.callers ?? 'conversation']}, started ${opts.startEveryMs ?? 25} ms apart, beside the plain loop${opts.apart ? '' : ' and replies said by the workflow'}: latencies at VoIPBIN, memory, CPU${
      opts.apart ? ` (serve in a process of its own; events by ${opts.events ?? 'webhook'})` : ''
    }`,
    async run(): Promise<Figure[]> {
      const options = {
        calls: opts.calls,
        startEveryMs: opts.startEveryMs ?? 25,
        events: opts.events,
        callers: opts.callers,
      };
      const plain = await loadPlainLoop(options);
      if (opts.apart) {
        const agent = await loadServe(options);
        return [
          { label: 'calls, every one correct in both', value: opts.calls },
          ...figures('plain loop', plain),
          ...figures('voipbin-agent', agent),
        ];
      }
      // Replies said directly (the default), then by the workflow (replySpeech: workflow). Each is
      // checked on its own: one that fails its check does not take the other's figures with it.
      const measured: Figure[] = [];
      const failures: { system: string; error: unknown }[] = [];
      for (const replySpeech of ['direct', 'workflow'] as const) {
        const system = `voipbin-agent, replySpeech ${replySpeech}`;
        try {
          measured.push(...figures(system, await loadAgent({ ...options, replySpeech })));
        } catch (error) {
          failures.push({ system, error });
        }
      }
      const all = [
        {
          label: failures.length
            ? 'calls, every one correct in the systems shown'
            : 'calls, every one correct in all three',
          value: opts.calls,
        },
        ...figures('plain loop', plain),
        ...measured,
      ];
      if (failures.length) throw new SomeSystemsFailed(all, failures);
      return all;
    },
  };
}

/**
 * The same load with `voipbin-agent serve` as a process of its own (run from dist/: `npm run bench`
 * builds first), the simulator and the model in the benchmark's process, as VoIPBIN and the model
 * run elsewhere in production: the serve process's CPU is then the agent's own.
 */
export const loadServeScenario = load({ name: 'load-serve', calls: 200, apart: true });
/** The same, each event coming by webhook and (twice) by the WebSocket, as with both configured. */
export const loadServeBothScenario = load({
  name: 'load-serve-both',
  calls: 200,
  apart: true,
  events: 'both',
});

/**
 * The same calls started the same way, each caller hanging up once the greeting has played: what
 * a call's start and end cost (its webhooks, workflow start, sessions, greeting, hangup), apart from
 * its turns, beside the plain loop.
 */
export const loadGreetingScenario = load({ name: 'load-greeting', calls: 200, callers: 'greeting' });

/**
 * 200 calls at a conversation's pace: they arrive 100 ms apart (10 a second), and each caller asks
 * five questions, each after 8 to 12 s of quiet, then asks for the long answer and cuts it off.
 * About 80 s long, with all 200 calls up at once for most of it, and about 20 questions a second
 * among them.
 */
export const loadPacedScenario = load({
  name: 'load-paced',
  calls: 200,
  callers: 'paced',
  startEveryMs: 100,
});
