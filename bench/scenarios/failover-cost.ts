import { decodeTimeoutType, type Duration } from '@temporalio/common';
import { spawn } from 'node:child_process';
import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import type { SimCall } from '../../src/sandbox/simulator';
import { STICKY_QUEUE_TIMEOUT } from '../../src/worker';
import { callWorkflowId } from '../../workflows/messages';
import { startAgentStack } from '../agent-stack';
import { type Figure, type Scenario, ms } from '../scenario';

const CALLS = 200;
const START_EVERY_MS = 25;
const ANSWER = 'Sure, let me check that for you. Your balance is forty two dollars. Anything else?';
const GREETING = DEFAULT_AGENT_CONFIG.profiles.default!.greeting;
const EXPECTED = [GREETING, ...ANSWER.split(/(?<=[.?]) /)];

interface LoadRun {
  wallMs: number;
  wholeAnswers: number;
  turns: number;
  workflowTasks: number;
  stickyTimeouts: number;
  taskTimeouts: number;
  retriedTurns: number;
}

/** `busy`: another process keeps one of the two cores busy the whole time. */
async function runLoad(opts: { stickyQueueTimeout: Duration; busy: boolean }): Promise<LoadRun> {
  const hog = opts.busy ? spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }) : undefined;
  const { client, simulator, llm, close } = await startAgentStack({
    taskQueue: 'failover-cost',
    simulator: { speechCharsPerSecond: 60 },
    // A model that streams: a first token after 300 ms, then 20 ms between chunks.
    llm: { reply: () => ({ text: ANSWER, firstTokenDelayMs: 300, chunkDelayMs: 20 }) },
    stickyQueueTimeout: opts.stickyQueueTimeout,
  });
  try {
    const started = performance.now();
    const calls: SimCall[] = [];
    for (let i = 0; i < CALLS; i++) {
      calls.push(
        simulator.startInboundCall({
          from: `+1555010${String(i).padStart(4, '0')}`,
          to: '+15550200000',
          script: {
            steps: [
              { say: 'What is my balance?', quietMs: 300 },
              // The whole answer, however slowly it comes under load.
              { waitForAgent: true, quietMs: 3000 },
              { hangup: true },
            ],
          },
        }),
      );
      await new Promise((r) => setTimeout(r, START_EVERY_MS));
    }
    await Promise.all(calls.map((c) => c.ended));
    const wallMs = performance.now() - started;
    const run: LoadRun = {
      wallMs,
      wholeAnswers: 0,
      turns: llm.requests.filter((r) => !r.continuation).length,
      workflowTasks: 0,
      stickyTimeouts: 0,
      taskTimeouts: 0,
      // A retried LLM turn asks the model to continue: the fake model records it as such.
      retriedTurns: llm.requests.filter((r) => r.continuation).length,
    };
    for (const call of calls) {
      // The answer, in order, once: all of it, or its beginning when the caller hung up first.
      const said = call.agentSaid();
      if (JSON.stringify(said) !== JSON.stringify(EXPECTED.slice(0, said.length)))
        throw new Error(`call ${call.id} was told ${JSON.stringify(said)}`);
      if (said.length === EXPECTED.length) run.wholeAnswers++;
      const handle = client.workflow.getHandle(callWorkflowId(call.id));
      await handle.result();
      for (const event of (await handle.fetchHistory()).events ?? []) {
        if (event.workflowTaskStartedEventAttributes) run.workflowTasks++;
        const timeout = decodeTimeoutType(event.workflowTaskTimedOutEventAttributes?.timeoutType);
        if (timeout === 'SCHEDULE_TO_START') run.stickyTimeouts++;
        if (timeout === 'START_TO_CLOSE') run.taskTimeouts++;
      }
    }
    return run;
  } finally {
    hog?.kill();
    await close();
  }
}

/**
 * What the failover settings cost when nothing fails: 200 calls on one worker in one process (as
 * `serve` runs them) with the dev server on its database file, 2 cores; idle, then with another
 * process keeping one core busy, then the same with the SDK's default sticky queue timeout. A task
 * that waits out the sticky queue timeout goes to any worker, which replays the call's history (a
 * cache miss); a workflow task that takes over 2 s times out; an LLM turn whose heartbeat is over
 * 500 ms late is retried. Each call is checked: the greeting and the answer, in order, once.
 */
export const failoverCost: Scenario = {
  name: 'failover-cost',
  title: `${CALLS} calls, ${START_EVERY_MS} ms apart: the failover settings' timeouts and retries when nothing fails`,
  async run(): Promise<Figure[]> {
    const variants: { name: string; stickyQueueTimeout: Duration; busy: boolean }[] = [
      { name: `sticky ${STICKY_QUEUE_TIMEOUT}, idle`, stickyQueueTimeout: STICKY_QUEUE_TIMEOUT, busy: false },
      {
        name: `sticky ${STICKY_QUEUE_TIMEOUT}, one core busy`,
        stickyQueueTimeout: STICKY_QUEUE_TIMEOUT,
        busy: true,
      },
      { name: 'sticky 10s (SDK default), one core busy', stickyQueueTimeout: '10s', busy: true },
    ];
    const figures: Figure[] = [];
    for (const v of variants) {
      const r = await runLoad(v);
      figures.push(
        { label: `${v.name}: calls, all told the answer in order, once`, value: CALLS },
        { label: `${v.name}: calls that heard the whole answer`, value: r.wholeAnswers },
        { label: `${v.name}: wall time`, value: ms(r.wallMs), unit: 'ms' },
        { label: `${v.name}: workflow tasks`, value: r.workflowTasks },
        { label: `${v.name}: sticky queue timeouts (a replay each)`, value: r.stickyTimeouts },
        { label: `${v.name}: workflow task timeouts (2 s)`, value: r.taskTimeouts },
        { label: `${v.name}: LLM turns / retried (heartbeat late)`, value: `${r.turns} / ${r.retriedTurns}` },
      );
    }
    return figures;
  },
};
