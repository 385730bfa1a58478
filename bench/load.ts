// Many concurrent calls through one system, as a user runs them: the callers of issue #7 (a
// question at a random moment, then a long answer interrupted on its first sentence), measured at
// VoIPBIN (the simulator), with the memory and CPU the system used. The same callers run against
// the plain in-memory loop and against voipbin-agent, in the same process, one after the other.
import { Client, Connection } from '@temporalio/client';
import { decodeTimeoutType } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_AGENT_CONFIG, type AgentConfig, type AgentProfile } from '../src/agent-config';
import { startFakeLlm } from '../src/sandbox/fake-llm/server';
import { callHistories } from '../src/histories';
import { formatTimeline } from '../src/inspect/format';
import { loadCallTimeline } from '../src/inspect/load';
import type { FakeLlmOptions } from '../src/sandbox/fake-llm/types';
import { startSimulator, type CallerScript, type SimCall, type Simulator } from '../src/sandbox/simulator';
import { AgentProcess, childrenOf, freePort, serveEnv } from '../test/helpers/cli';
import { startAgentStack } from './agent-stack';
import { startPlainLoop } from './plain-loop';

const GREETING = DEFAULT_AGENT_CONFIG.profiles.default!.greeting;
// Each caller words things its own way, so that every request at VoIPBIN pairs with its call.
const question = (i: number) => `What are your opening hours, says caller ${i}?`;
const long = (i: number) => `Tell me everything about account ${i}.`;
const stop = (i: number) => `Stop, thanks, says caller ${i}.`;
const answer = (i: number) => `Caller ${i}, we open at nine.`;
// About 6 s of playback: under this load the interruption can take more than a second to reach the
// agent, and past the sentence's playback there is nothing left to flush.
const LONG_FIRST =
  'Sure, here is everything we have on that account, from the day it was opened until this morning.';
const LONG_REST = ['It was opened in March.', 'It has two cards.'];
const CALLER = /caller (\d+)|account (\d+)/;
/** Paced callers: this many questions before the long answer. */
const PACED_QUESTIONS = 5;
const pacedQuestion = (i: number, k: number) => `On day ${k}, when do you open, says caller ${i}?`;
const pacedAnswer = (i: number, k: number) => `Caller ${i}, on day ${k} we open at nine.`;
const PACED = /^On day (\d+), when do you open, says caller \d+\?$/;

export interface LoadOptions {
  calls: number;
  startEveryMs: number;
  /** How events reach `serve` (loadServe): default webhook; both adds the WebSocket's copies. */
  events?: 'webhook' | 'both';
  /**
   * What each caller does: the conversation above (default); `paced`, at a conversation's pace
   * (PACED_QUESTIONS questions, each after 8 to 12 s of quiet, then the long answer and its
   * interruption); or only listen to the greeting and hang up: what a call's start and end cost,
   * without its turns.
   */
  callers?: 'conversation' | 'paced' | 'greeting';
  /**
   * voipbin-agent only (loadAgent): how replies reach `/say` (profile `replySpeech`): `direct` (the
   * product's default, and here) or `workflow`.
   */
  replySpeech?: AgentProfile['replySpeech'];
}

export interface LoadFigures {
  /** The caller's final transcript sent → the answer's first `/say` received, per call. */
  answer: number[];
  /** The interrupting transcript sent → the `/flush` received, per call. */
  flush: number[];
  /** `call_progressing` sent → the greeting's `/say` received, per call. */
  greeting: number[];
  /** Each webhook's last attempt sent → its answer. */
  webhookAck: number[];
  /** Resident memory added while the calls were up (this process and any server), per call. */
  memoryPerCallMiB: number;
  /** CPU time used (this process, the server, `serve` when apart), per call. */
  cpuPerCallMs: number;
  /** Of which the Temporal server's. */
  serverCpuPerCallMs: number;
  /** Of which the `voipbin-agent serve` process's (worker and ingress), when it runs apart. */
  agentProcessCpuPerCallMs?: number;
  wallMs: number;
  /** voipbin-agent only: what the calls' histories hold, per call (the round trips a call costs). */
  histories?: HistoryFigures;
}

export interface HistoryFigures {
  events: number;
  workflowTasks: number;
  signals: number;
  activities: number;
  /**
   * Workflow tasks that waited out the sticky queue's schedule-to-start timeout (src/worker.ts
   * STICKY_QUEUE_TIMEOUT) and went to the normal queue: each one a replay of the whole history.
   */
  stickyTimeouts: number;
  /** Workflow task scheduled → started (the wait for a poll), all tasks of all calls, ms. */
  taskWaits: number[];
  /**
   * Workflow task started → completed, all tasks of all calls: the worker's time on a task (its
   * activations through the main thread and the workflow thread, its local activities), ms.
   */
  taskRuns: number[];
  /** The same for the tasks that went to the normal queue after a sticky timeout, ms. */
  normalQueueWaits: number[];
  /**
   * The same for each call's first task (on the normal queue, which sdk-core polls with one poller
   * while its sticky queue has a backlog): how long a call waited to be taken up, ms.
   */
  firstTaskWaits: number[];
  /**
   * Each call's first task, started → completed: the workflow's start, its two session creates
   * (local activities) and the greeting's `say` scheduled, all in it, ms.
   */
  firstTaskRuns: number[];
}

/** An instant model (the figures are the system's own); the long answer pauses after its first sentence. */
const INSTANT_MODEL: FakeLlmOptions = {
  reply: (req) => {
    const said = String(req.messages.at(-1)?.content ?? '');
    const match = CALLER.exec(said);
    const i = Number(match?.[1] ?? match?.[2] ?? -1);
    if (said === long(i)) return { text: [LONG_FIRST, ...LONG_REST].join(' '), sentencePauseMs: 5000 };
    const paced = PACED.exec(said);
    if (paced) return { text: `${pacedAnswer(i, Number(paced[1]))} We close at six.` };
    return { text: said === question(i) ? `${answer(i)} We close at six.` : 'Okay.' };
  },
};

/** What caller `i` does (LoadOptions.callers); `random` gives the same moments every run. */
function scriptOf(i: number, callers: LoadOptions['callers'], random: () => number): CallerScript {
  const longAnswerCutOff = [
    // Three seconds of quiet after the answer: under load its sentences can come seconds apart, and
    // a question asked between them is merged with the one before.
    { say: long(i), quietMs: 3000 },
    { say: stop(i), duringAgentSpeech: true, afterMs: 200 },
    { waitForAgent: true as const, quietMs: 300 },
    { hangup: true as const },
  ];
  switch (callers) {
    case 'greeting':
      // Hears the greeting out and hangs up.
      return { steps: [{ waitForAgent: true, quietMs: 300 }, { hangup: true }] };
    case 'paced':
      // A question after each 8 to 12 s of quiet, as a caller thinks and talks.
      return {
        steps: [
          ...Array.from({ length: PACED_QUESTIONS }, (_, k) => ({
            say: pacedQuestion(i, k + 1),
            quietMs: 8000 + Math.round(random() * 4000),
          })),
          ...longAnswerCutOff,
        ],
      };
    default:
      // The greeting plays (about 3 s); the caller asks within 10 s of the call's start.
      return {
        steps: [
          { say: question(i), waitForAgent: false, afterMs: 3000 + Math.round(random() * 7000) },
          ...longAnswerCutOff,
        ],
      };
  }
}

/** The questions caller `i` asks before the long answer, each with its answer's first sentence. */
function questionsOf(i: number, callers: LoadOptions['callers']): { asked: string; answer: string }[] {
  if (callers === 'paced')
    return Array.from({ length: PACED_QUESTIONS }, (_, k) => ({
      asked: pacedQuestion(i, k + 1),
      answer: pacedAnswer(i, k + 1),
    }));
  return [{ asked: question(i), answer: answer(i) }];
}

/** A fixed pseudo-random sequence: every run asks at the same moments. */
function moments(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/** Resident memory (bytes) and CPU time (ms) of a process, from /proc; zeros once it is gone. */
function processUsage(pid: number): { rss: number; cpuMs: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      rss: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024,
      // utime and stime, in clock ticks (100 a second on Linux).
      cpuMs: (Number(fields[11]) + Number(fields[12])) * 10,
    };
  } catch {
    return { rss: 0, cpuMs: 0 };
  }
}

/** The other processes of the system measured: the Temporal server, and `serve` when it runs apart. */
interface Processes {
  server?: number;
  agent?: number;
}

/** Memory and CPU of this process and the others, and of each of those apart. */
function usage(pids: Processes): { rss: number; cpuMs: number; serverCpuMs: number; agentCpuMs: number } {
  const self = process.cpuUsage();
  const server = pids.server === undefined ? { rss: 0, cpuMs: 0 } : processUsage(pids.server);
  const agent = pids.agent === undefined ? { rss: 0, cpuMs: 0 } : processUsage(pids.agent);
  return {
    rss: process.memoryUsage.rss() + server.rss + agent.rss,
    cpuMs: (self.user + self.system) / 1000 + server.cpuMs + agent.cpuMs,
    serverCpuMs: server.cpuMs,
    agentCpuMs: agent.cpuMs,
  };
}

async function drive(simulator: Simulator, opts: LoadOptions, pids: Processes = {}): Promise<LoadFigures> {
  const random = moments(7);
  const before = usage(pids);
  let peakRss = before.rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, usage(pids).rss);
  }, 200);
  const started = performance.now();
  const calls: SimCall[] = [];
  /** Greeting-only callers: when each call's greeting started playing (its `/say` arrived). */
  const greetedAt = new Map<string, number>();
  try {
    for (let i = 0; i < opts.calls; i++) {
      calls.push(
        simulator.startInboundCall({
          from: `+1555030${String(i).padStart(4, '0')}`,
          to: '+15550400000',
          script: scriptOf(i, opts.callers, random),
        }),
      );
      const call = calls.at(-1)!;
      if (opts.callers === 'greeting')
        call.onPlayback((e) => {
          if (e.kind === 'playing' && !greetedAt.has(call.id)) greetedAt.set(call.id, performance.now());
        });
      await new Promise((r) => setTimeout(r, opts.startEveryMs));
    }
    await Promise.all(calls.map((c) => c.ended));
    await simulator.webhooksIdle();
  } finally {
    clearInterval(sampler);
  }
  const wallMs = performance.now() - started;
  const after = usage(pids);
  return {
    ...(opts.callers === 'greeting'
      ? measureGreetings(simulator, calls, greetedAt)
      : measure(simulator, calls, opts.callers)),
    memoryPerCallMiB: (peakRss - before.rss) / 2 ** 20 / opts.calls,
    cpuPerCallMs: (after.cpuMs - before.cpuMs) / opts.calls,
    serverCpuPerCallMs: (after.serverCpuMs - before.serverCpuMs) / opts.calls,
    ...(pids.agent !== undefined && {
      agentProcessCpuPerCallMs: (after.agentCpuMs - before.agentCpuMs) / opts.calls,
    }),
    wallMs,
  };
}

/** The figures, each request paired with its own call; throws if any call went wrong. */
function measure(
  simulator: Simulator,
  calls: SimCall[],
  callers: LoadOptions['callers'],
): Omit<LoadFigures, 'memoryPerCallMiB' | 'cpuPerCallMs' | 'serverCpuPerCallMs' | 'wallMs'> {
  const sentAt = (text: string) => {
    const webhook = simulator.webhooks.find(
      (w) => w.type === 'transcript_created' && w.body.includes(`"message":"${text}"`),
    );
    if (!webhook) throw new Error(`the caller's "${text}" was never sent`);
    return webhook.at;
  };
  const says = simulator.requests.filter((r) => r.path.endsWith('/say'));
  const sayOf = (text: string, after: number) =>
    says.find((r) => r.at > after && (r.body as { text?: string } | undefined)?.text === text);
  const figures = { answer: [] as number[], flush: [] as number[], greeting: [] as number[] };
  calls.forEach((call, i) => {
    try {
      measureCall(call, i);
    } catch (err) {
      throw new CallCheckFailed(`${(err as Error).message}\n${timeline(simulator, call, i)}`, call.id, err);
    }
  });
  function measureCall(call: SimCall, i: number): void {
    const progressing = simulator.webhooks.find(
      (w) => w.type === 'call_progressing' && w.body.includes(`"id":"${call.id}"`),
    );
    if (!progressing) throw new Error(`call ${i}: no call_progressing`);
    const questions = questionsOf(i, callers);
    let speaking = '';
    for (const q of questions) {
      const asked = sentAt(q.asked);
      const said = sayOf(q.answer, asked);
      if (!said) throw new Error(`caller ${i} was not answered: ${q.asked}`);
      figures.answer.push(said.at - asked);
      // The call's speaking session is the one its answers were said on; the greeting came first on it.
      speaking = said.path.replace(/\/say$/, '');
    }
    const greeted = says.find(
      (r) => r.path === `${speaking}/say` && (r.body as { text?: string }).text === GREETING,
    );
    if (!greeted) throw new Error(`call ${i} was not greeted`);
    figures.greeting.push(greeted.at - progressing.at);
    const interrupted = sentAt(stop(i));
    const flush = simulator.requests.find((r) => r.at > interrupted && r.path === `${speaking}/flush`);
    if (!flush) {
      // Say how late the interruption reached the agent: past the first sentence's playback, there
      // is nothing left to flush, and the agent rightly only cancels the turn.
      const started = says.find(
        (r) =>
          r.path === `${speaking}/say` &&
          r.at < interrupted &&
          (r.body as { text?: string }).text === LONG_FIRST,
      );
      const answered = says.find((r) => r.path === `${speaking}/say` && r.at > interrupted);
      const ms = (at?: number) => (at === undefined ? 'never' : `${Math.round(at - interrupted)} ms`);
      throw new Error(
        `caller ${i}'s barge-in was not flushed (relative to the interruption: first sentence said ${ms(started?.at)}, ` +
          `its playback over ${ms(started && started.at + (LONG_FIRST.length / 15) * 1000)}, the interruption answered ${ms(answered?.at)})`,
      );
    }
    figures.flush.push(flush.at - interrupted);
    // Nothing of the interrupted answer after its flush; every caller heard an answer to each question.
    const stale = says.find(
      (r) =>
        r.path === `${speaking}/say` &&
        r.at > flush.at &&
        LONG_REST.includes((r.body as { text: string }).text),
    );
    if (stale) throw new Error(`caller ${i} heard a sentence of the interrupted answer after the flush`);
    const heard = call.agentSaid();
    for (const q of questions)
      if (heard.filter((t) => t === q.answer).length !== 1)
        throw new Error(`caller ${i}: answer said ${heard.join(' | ')}`);
    if (!heard.includes(LONG_FIRST)) throw new Error(`caller ${i}: the long answer was never started`);
  }
  return { ...figures, webhookAck: webhookAcks(simulator) };
}

/** Greeting-only callers: each greeted once, on its own call; nothing else said. */
function measureGreetings(
  simulator: Simulator,
  calls: SimCall[],
  greetedAt: Map<string, number>,
): Omit<LoadFigures, 'memoryPerCallMiB' | 'cpuPerCallMs' | 'serverCpuPerCallMs' | 'wallMs'> {
  const greeting: number[] = [];
  calls.forEach((call, i) => {
    const progressing = simulator.webhooks.find(
      (w) => w.type === 'call_progressing' && w.body.includes(`"id":"${call.id}"`),
    );
    const heard = call.agentSaid();
    const at = greetedAt.get(call.id);
    if (!progressing || at === undefined || heard.length !== 1 || heard[0] !== GREETING)
      throw new CallCheckFailed(
        `caller ${i} heard ${JSON.stringify(heard)}\n${timeline(simulator, call, i)}`,
        call.id,
        undefined,
      );
    greeting.push(at - progressing.at);
  });
  return { answer: [], flush: [], greeting, webhookAck: webhookAcks(simulator) };
}

/** Each webhook's last attempt → its answer; throws if any was not answered 200. */
function webhookAcks(simulator: Simulator): number[] {
  const failed = simulator.webhooks.filter((w) => w.finalStatus !== 200);
  if (failed.length) throw new Error(`${failed.length} webhooks not acknowledged with 200`);
  return simulator.webhooks
    .filter((w) => w.sentAt !== undefined && w.answeredAt !== undefined)
    .map((w) => w.answeredAt! - w.sentAt!);
}

/** A call failed the run's correctness check: its id, to keep its history. */
class CallCheckFailed extends Error {
  constructor(
    message: string,
    readonly callId: string,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}

/**
 * The failed call as the workflow saw it: its timeline (`inspect`) appended to the error, and its
 * histories saved under reports/bench-failures/ (for `replay`, `inspect` and the Temporal UI).
 */
async function explained<T>(address: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof CallCheckFailed)) throw err;
    let more: string;
    const client = new Client({ connection: await Connection.connect({ address }) });
    try {
      const runs = await callHistories(client, err.callId);
      const dir = join(__dirname, '..', 'reports', 'bench-failures');
      mkdirSync(dir, { recursive: true });
      for (const r of runs)
        writeFileSync(join(dir, `${r.workflowId}-${r.runId}.json`), historyToJSON(r.history));
      const timeline = formatTimeline(await loadCallTimeline(client, err.callId));
      more = `as the workflow saw it (its histories are in ${dir}):\n${timeline.join('\n')}`;
    } catch (cause) {
      more = `(its history could not be read: ${(cause as Error).message})`;
    } finally {
      await client.connection.close();
    }
    throw new CallCheckFailed(`${err.message}\n${more}`, err.callId, err.cause);
  }
}

/** The calls' histories on the server at `address`, counted: the round trips the calls cost. */
async function historyFigures(address: string): Promise<HistoryFigures> {
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const total = { events: 0, workflowTasks: 0, signals: 0, activities: 0, stickyTimeouts: 0 };
    const taskWaits: number[] = [];
    const taskRuns: number[] = [];
    const normalQueueWaits: number[] = [];
    const firstTaskWaits: number[] = [];
    const firstTaskRuns: number[] = [];
    const calls = new Set<string>();
    for await (const run of client.workflow.list()) {
      calls.add(run.workflowId);
      const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      const scheduledAt = new Map<string, { at: number; afterStickyTimeout: boolean }>();
      let afterStickyTimeout = false;
      let firstTaskTaken = false;
      let firstTaskStartedAt: number | undefined;
      let taskStartedAt: number | undefined;
      for (const event of history.events ?? []) {
        total.events++;
        const at = tsToMs(event.eventTime);
        if (event.workflowTaskScheduledEventAttributes) {
          total.workflowTasks++;
          scheduledAt.set(String(event.eventId), { at, afterStickyTimeout });
          afterStickyTimeout = false;
        } else if (event.workflowTaskStartedEventAttributes) {
          const scheduled = scheduledAt.get(
            String(event.workflowTaskStartedEventAttributes.scheduledEventId),
          );
          if (scheduled) {
            taskWaits.push(at - scheduled.at);
            taskStartedAt = at;
            if (!firstTaskTaken) {
              firstTaskWaits.push(at - scheduled.at);
              firstTaskStartedAt = at;
            }
            firstTaskTaken = true;
            if (scheduled.afterStickyTimeout) normalQueueWaits.push(at - scheduled.at);
          }
        } else if (event.workflowTaskCompletedEventAttributes) {
          if (taskStartedAt !== undefined) taskRuns.push(at - taskStartedAt);
          if (firstTaskStartedAt !== undefined) firstTaskRuns.push(at - firstTaskStartedAt);
          taskStartedAt = firstTaskStartedAt = undefined;
        } else if (event.workflowExecutionSignaledEventAttributes) total.signals++;
        else if (event.activityTaskScheduledEventAttributes) total.activities++;
        else if (
          decodeTimeoutType(event.workflowTaskTimedOutEventAttributes?.timeoutType) === 'SCHEDULE_TO_START'
        ) {
          total.stickyTimeouts++;
          afterStickyTimeout = true;
        }
      }
    }
    const per = (n: number) => Math.round((n / Math.max(calls.size, 1)) * 10) / 10;
    return {
      events: per(total.events),
      workflowTasks: per(total.workflowTasks),
      signals: per(total.signals),
      activities: per(total.activities),
      stickyTimeouts: total.stickyTimeouts,
      taskWaits,
      taskRuns,
      normalQueueWaits,
      firstTaskWaits,
      firstTaskRuns,
    };
  } finally {
    await connection.close();
  }
}

/** One call's webhooks and requests, in time order, relative to its first: what a failed check saw. */
function timeline(simulator: Simulator, call: SimCall, i: number): string {
  const ours = new RegExp(`${call.id}|caller ${i}\\b|account ${i}\\b`, 'i');
  const lines: { at: number; line: string }[] = [];
  for (const w of simulator.webhooks) {
    if (!ours.test(w.body)) continue;
    const message = /"message":"([^"]*)"/.exec(w.body)?.[1];
    lines.push({ at: w.at, line: `webhook ${w.type}${message ? ` "${message}"` : ''} -> ${w.finalStatus}` });
  }
  const sessions = new Set<string>();
  for (const r of simulator.requests) {
    const body = JSON.stringify(r.body ?? '');
    const session = r.path.split('/').slice(0, 3).join('/');
    if (session.split('/').length === 3 && ours.test(body)) sessions.add(session);
  }
  for (const r of simulator.requests) {
    const body = JSON.stringify(r.body ?? '');
    if (!ours.test(body) && !ours.test(r.path) && !sessions.has(r.path.split('/').slice(0, 3).join('/')))
      continue;
    const text = (r.body as { text?: string } | undefined)?.text;
    lines.push({ at: r.at, line: `${r.method} ${r.path}${text ? ` "${text}"` : ''}` });
  }
  lines.sort((a, b) => a.at - b.at);
  const t0 = lines[0]?.at ?? 0;
  return lines.map((l) => `  ${String(Math.round(l.at - t0)).padStart(6)} ms  ${l.line}`).join('\n');
}

export async function loadPlainLoop(opts: LoadOptions): Promise<LoadFigures> {
  const [simulator, llm] = await Promise.all([
    startSimulator({ accessKey: 'bench' }),
    startFakeLlm(INSTANT_MODEL),
  ]);
  const loop = await startPlainLoop({
    voipbin: { baseUrl: simulator.baseUrl, apiKey: simulator.accessKey },
    webhookSecret: simulator.customer.webhookSecret,
    llmBaseUrl: llm.baseUrl,
  });
  simulator.setWebhookUri(loop.url);
  try {
    return await drive(simulator, opts);
  } finally {
    await loop.close();
    await simulator.close();
    await llm.close();
  }
}

/** As `serve` runs: one process with the worker and the ingress, the dev server on a database file. */
export async function loadAgent(opts: LoadOptions): Promise<LoadFigures> {
  const stack = await startAgentStack({
    taskQueue: 'load',
    llm: INSTANT_MODEL,
    agent: withReplySpeech(opts.replySpeech ?? 'direct'),
  });
  try {
    const figures = await explained(stack.temporal.address, () =>
      drive(stack.simulator, opts, { server: stack.temporal.pid }),
    );
    return { ...figures, histories: await historyFigures(stack.temporal.address) };
  } finally {
    await stack.close();
  }
}

/** The built-in config, its profile's replies said one way or the other. */
function withReplySpeech(replySpeech: AgentProfile['replySpeech']): AgentConfig {
  const profile = DEFAULT_AGENT_CONFIG.profiles.default!;
  return { ...DEFAULT_AGENT_CONFIG, profiles: { default: { ...profile, replySpeech } } };
}

/**
 * As a user runs it: `voipbin-agent serve` in a process of its own (worker and ingress; its
 * embedded dev server, a child of it, on a database file), against the simulator and the model in
 * this process, as VoIPBIN and the model run elsewhere in production.
 */
export async function loadServe(opts: LoadOptions): Promise<LoadFigures> {
  const [simulator, llm] = await Promise.all([
    startSimulator({ accessKey: 'bench' }),
    startFakeLlm(INSTANT_MODEL),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-load-'));
  const port = await freePort();
  const at = { port, temporalPort: await freePort(), uiPort: await freePort(), dataDir: dir };
  const serve = new AgentProcess(
    ['serve'],
    serveEnv(simulator, llm.baseUrl, at, {
      // Webhooks only by default, as the plain loop gets its events.
      VOIPBIN_EVENTS: opts.events ?? 'webhook',
      OPENAI_API_KEY: 'bench',
      LOG_LEVEL: 'warn',
      ...(process.env.TEMPORAL_CLI_PATH && { TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH }),
    }),
    dir,
  );
  try {
    await serve.waitReady(port);
    simulator.setWebhookUri(`http://127.0.0.1:${port}/webhooks/voipbin`);
    const agent = serve.child.pid!;
    const server = childrenOf(agent)[0];
    if (server === undefined) throw new Error('serve started no Temporal dev server');
    const address = `127.0.0.1:${at.temporalPort}`;
    const figures = await explained(address, () => drive(simulator, opts, { server, agent }));
    return { ...figures, histories: await historyFigures(address) };
  } finally {
    serve.kill('SIGTERM');
    await serve.exited();
    await simulator.close();
    await llm.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
