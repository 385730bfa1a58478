// The failover scenario, shared by test/e2e/failover.test.ts and test/e2e/drain.test.ts (which
// check it) and `npm run bench -- failover` / `drain` (which time it over many runs): real processes
// (a Temporal server on a database file, `voipbin-agent ingress`, two `voipbin-agent worker`s), the
// simulator's signed webhooks, and a model that streams slowly and words a regenerated answer
// differently. The worker streaming the reply is SIGKILLed (a crash) or sent SIGTERM (a deploy).
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defaultReply,
  startFakeLlm,
  type FakeLlm,
  type FakeLlmRequest,
} from '../../src/sandbox/fake-llm/server';
import {
  startSimulator,
  type RecordedRequest,
  type SimCall,
  type Simulator,
} from '../../src/sandbox/simulator';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId, type CallSummary } from '../../workflows/messages';
import { AgentProcess, freePort } from './cli';
import { TemporalServer } from './temporal-server';
import { SESSIONS_CREATED, saysOf } from './voipbin-requests';
import { waitFor } from './wait-for';

export const GREETING = 'Hello, thanks for calling. How can I help?';
/** The reply as the model first words it: six sentences, a pause of 1.5 s after each. */
export const FIRST = [
  'Sure, here is everything about your account.',
  'It was opened in March two thousand nineteen.',
  'It has two cards and one savings pocket.',
  'Your last payment was on the first of the month.',
  'Your next statement is due in ten days.',
  'Is there anything else I can help you with?',
];
/** The same reply regenerated: a real model words it differently. */
export const REGENERATED = [
  'Of course, this is what your account looks like.',
  'You opened it back in March of two thousand nineteen.',
  'There are two cards and a savings pocket on it.',
  'The last payment arrived on the first.',
  'A statement is due ten days from now.',
  'What else can I do for you?',
];
export const SENTENCE_PAUSE_MS = 1500;
/**
 * What VoIPBIN receives over the whole call when the first reply goes out whole, once, in its
 * first wording (whatever happened to the worker saying it): then another turn, the hangup.
 */
export const WHOLE_CALL = [
  ...SESSIONS_CREATED,
  `POST /speakings/{id}/say ${GREETING} -> 200`,
  ...FIRST.map((s) => `POST /speakings/{id}/say ${s} -> 200`),
  'POST /speakings/{id}/say You said: What is my balance. -> 200',
  'POST /speakings/{id}/say How else can I help you today? -> 200',
  'POST /speakings/{id}/stop -> 200',
  'POST /transcribes/{id}/stop -> 200',
];
const WORKERS = ['/worker-1', '/worker-2'];

const isLongQuestion = (r: FakeLlmRequest) =>
  String(r.messages.at(-1)?.content).startsWith('Tell me everything');

export interface FailoverRun {
  callId: string;
  /** Which worker streamed the reply (and was killed or stopped), and which took over. */
  killed: string;
  survivor: string;
  /** performance.now() of the SIGKILL (or the SIGTERM). */
  killedAt: number;
  /** The same moment on the wall clock (Date.now()), to compare with a history's event times. */
  killedAtEpochMs: number;
  /** That worker's pid: its Temporal identity is `<pid>@<host>`. */
  killedPid: number;
  /** performance.now() when that worker's process exited, and its exit code (null: killed). */
  exitedAt: number;
  exitCode: number | null;
  /** The first `/say` VoIPBIN received after the kill. */
  nextSay: RecordedRequest;
  /** The model requests of the long reply, in order. */
  asked: FakeLlmRequest[];
  summary: CallSummary;
  /** Every request VoIPBIN received for this call's run. */
  requests: RecordedRequest[];
}

/** The longest wait at VoIPBIN between two sentences of the long reply (the model pauses SENTENCE_PAUSE_MS). */
export function longestSilence(run: Pick<FailoverRun, 'requests'>): number {
  const at = FIRST.map((s) =>
    run.requests.find((r) => (r.body as { text?: string } | undefined)?.text === s),
  );
  if (at.some((r) => !r)) throw new Error('the reply was not said in full');
  return Math.max(...at.slice(1).map((r, i) => r!.at - at[i]!.at));
}

export class FailoverStack {
  private readonly processes = new Map<string, AgentProcess>();
  private ingress?: AgentProcess;
  private port = 0;
  private calls = 0;
  /** Given to the workers the stack starts from now on (e.g. WORKER_SHUTDOWN_GRACE_SECONDS). */
  private workerEnv: Record<string, string> = {};
  /** Given to every process (e.g. AGENT_CONFIG). */
  private env: Record<string, string> = {};
  /** Given to one worker, by its prefix (e.g. where its tools are). */
  private workerEnvFor: (prefix: string) => Record<string, string> = () => ({});

  private constructor(
    readonly temporal: TemporalServer,
    readonly simulator: Simulator,
    readonly llm: FakeLlm,
    readonly client: Client,
    private readonly cwd: string,
  ) {}

  static async start(
    opts: {
      workerEnv?: Record<string, string>;
      env?: Record<string, string>;
      workerEnvFor?: (prefix: string) => Record<string, string>;
    } = {},
  ): Promise<FailoverStack> {
    const [temporal, simulator, llm] = await Promise.all([
      TemporalServer.start(),
      startSimulator({ accessKey: 'failover-key' }),
      startFakeLlm({
        // Streams like a real model: a first token after 200 ms, a pause after each sentence.
        reply: (req) =>
          isLongQuestion(req)
            ? {
                text: (req.generation ? REGENERATED : FIRST).join(' '),
                firstTokenDelayMs: 200,
                sentencePauseMs: SENTENCE_PAUSE_MS,
              }
            : { ...defaultReply(req), firstTokenDelayMs: 200 },
      }),
    ]);
    const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    const stack = new FailoverStack(
      temporal,
      simulator,
      llm,
      client,
      mkdtempSync(join(tmpdir(), 'voipbin-agent-failover-')),
    );
    stack.workerEnv = opts.workerEnv ?? {};
    stack.env = opts.env ?? {};
    if (opts.workerEnvFor) stack.workerEnvFor = opts.workerEnvFor;
    await stack.startIngress();
    return stack;
  }

  /** Stops the workers (SIGTERM, idle: nothing to drain); the next run starts two with this environment. */
  async restartWorkers(workerEnv: Record<string, string>): Promise<void> {
    this.workerEnv = workerEnv;
    const running = [...this.processes.values()].filter(
      (p) => p.child.exitCode === null && p.child.signalCode === null,
    );
    for (const p of running) p.kill('SIGTERM');
    await Promise.all(running.map((p) => p.exited()));
    this.processes.clear();
  }

  private get shared(): Record<string, string> {
    return {
      TEMPORAL_ADDRESS: this.temporal.address,
      TEMPORAL_TASK_QUEUE: 'failover',
      VOIPBIN_BASE_URL: this.simulator.baseUrl,
      VOIPBIN_API_KEY: this.simulator.accessKey,
      ...this.env,
    };
  }

  private async startIngress(): Promise<void> {
    this.port = await freePort();
    this.ingress = new AgentProcess(
      ['ingress'],
      { ...this.shared, PORT: String(this.port), HOST: '127.0.0.1' },
      this.cwd,
    );
    await this.ingress.waitReady(this.port);
    this.simulator.setWebhookUri(`http://127.0.0.1:${this.port}/webhooks/voipbin`);
  }

  /** Both workers running (one was killed by the last run: a new one takes its place). */
  async ensureWorkers(): Promise<void> {
    const starting: Promise<unknown>[] = [];
    for (const prefix of WORKERS) {
      const current = this.processes.get(prefix);
      if (current && current.child.exitCode === null && current.child.signalCode === null) continue;
      starting.push(this.startWorker(prefix).waitOutput('worker running'));
    }
    await Promise.all(starting);
  }

  /**
   * `voipbin-agent worker`, asking the model through `prefix` (the model's requests tell the
   * workers apart), with the stack's worker environment and `env`.
   */
  startWorker(prefix: string, env: Record<string, string> = {}): AgentProcess {
    const worker = new AgentProcess(
      ['worker'],
      {
        ...this.shared,
        ...this.workerEnv,
        ...this.workerEnvFor(prefix),
        ...env,
        OPENAI_BASE_URL: this.llm.baseUrl.replace(/\/v1$/, `${prefix}/v1`),
      },
      this.cwd,
    );
    this.processes.set(prefix, worker);
    return worker;
  }

  /**
   * A call whose caller asks for the long reply, waits for all of it, asks for the balance and
   * hangs up.
   */
  startLongCall(): SimCall {
    const question = `Tell me everything about my account${this.calls++ ? ` number ${this.calls}` : ''}.`;
    return this.simulator.startInboundCall({
      from: '+15550007777',
      to: '+15550008888',
      script: {
        steps: [
          { say: question, quietMs: 500 },
          // The whole reply, through the failover: playback may pause for a few seconds.
          { waitForAgent: true, quietMs: 5000 },
          { say: 'What is my balance?', quietMs: 300 },
          { waitForAgent: true, quietMs: 500 },
          { hangup: true },
        ],
      },
    });
  }

  /**
   * One call: the caller asks for the long reply; the worker streaming it gets `signal` (SIGKILL: a
   * crash; SIGTERM: a deploy stopping it) `killDelayMs` after its second sentence reached VoIPBIN
   * (the model is pausing before the third); then the caller asks something else and hangs up.
   */
  async run(killDelayMs = 0, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<FailoverRun> {
    await this.ensureWorkers();
    const firstRequest = this.simulator.requests.length;
    const firstAsk = this.llm.requests.length;
    const call = this.startLongCall();
    const requests = () => this.simulator.requests.slice(firstRequest);
    const stream = await waitFor(
      () => this.llm.requests.slice(firstAsk).find(isLongQuestion),
      'the long reply',
      30_000,
    );
    await waitFor(() => saysOf({ requests: requests() }).includes(FIRST[1]!), 'the second sentence', 30_000);
    if (killDelayMs > 0) await new Promise((r) => setTimeout(r, killDelayMs));
    const streaming = this.processes.get(stream.pathPrefix!)!;
    const exited = streaming.exited().then((code) => ({ code, at: performance.now() }));
    const killedAt = performance.now();
    const killedAtEpochMs = Date.now();
    streaming.kill(signal);
    await call.ended;
    const summary = await this.client.workflow
      .getHandle<typeof callWorkflow>(callWorkflowId(call.id))
      .result();
    const nextSay = requests().find((r) => r.at > killedAt && r.path.endsWith('/say'));
    if (!nextSay) throw new Error('nothing was said after the kill');
    const exit = await exited;
    return {
      callId: call.id,
      killed: stream.pathPrefix!,
      survivor: WORKERS.find((p) => p !== stream.pathPrefix)!,
      killedAt,
      killedAtEpochMs,
      killedPid: streaming.child.pid!,
      exitedAt: exit.at,
      exitCode: exit.code,
      nextSay,
      asked: this.llm.requests.slice(firstAsk).filter(isLongQuestion),
      summary,
      requests: requests(),
    };
  }

  /** The worker process asking the model (and its tools) through `prefix`. */
  worker(prefix: string): AgentProcess | undefined {
    return this.processes.get(prefix);
  }

  /** Everything the agent's processes printed (their logs). */
  output(): string {
    return [this.ingress, ...this.processes.values()].map((p) => p?.output ?? '').join('\n');
  }

  /** SIGTERM to what still runs; their exit codes (0: a clean shutdown). */
  async stopProcesses(): Promise<(number | null)[]> {
    const running = [this.ingress!, ...this.processes.values()].filter(
      (p) => p.child.exitCode === null && p.child.signalCode === null,
    );
    for (const p of running) p.kill('SIGTERM');
    return Promise.all(running.map((p) => p.exited()));
  }

  async close(): Promise<void> {
    for (const p of [this.ingress, ...this.processes.values()]) p?.kill();
    await this.client.connection.close();
    await this.simulator.close();
    await this.llm.close();
    await this.temporal.close();
    rmSync(this.cwd, { recursive: true, force: true });
  }
}
