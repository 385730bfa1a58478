// The Temporal server SIGKILLed mid-call, shared by test/e2e/temporal-outage.test.ts (which checks
// it) and `npm run bench -- outage` (which times it): a Temporal server on a database file,
// `voipbin-agent ingress` and `voipbin-agent worker` as processes, the simulator retrying webhooks
// as VoIPBIN does (3 attempts, 1 s apart).
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLlm, type FakeLlm } from '../../src/sandbox/fake-llm/server';
import { startSimulator, type SimCall, type Simulator } from '../../src/sandbox/simulator';
import type { callWorkflow } from '../../workflows/call';
import { callWorkflowId, type CallSummary } from '../../workflows/messages';
import { AgentProcess, freePort } from './cli';
import { TemporalServer } from './temporal-server';
import { saysOf } from './voipbin-requests';
import { waitFor } from './wait-for';

export const GREETING = 'Hello, thanks for calling. How can I help?';
export const FOLLOW_UP = 'How else can I help you today?';

export class OutageStack {
  readonly ingress: AgentProcess;
  readonly worker: AgentProcess;
  private calls = 0;

  private constructor(
    readonly temporal: TemporalServer,
    readonly simulator: Simulator,
    readonly llm: FakeLlm,
    private readonly port: number,
    private readonly cwd: string,
  ) {
    const shared = {
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: 'outage',
      VOIPBIN_BASE_URL: simulator.baseUrl,
      VOIPBIN_API_KEY: simulator.accessKey,
    };
    this.ingress = new AgentProcess(['ingress'], { ...shared, PORT: String(port), HOST: '127.0.0.1' }, cwd);
    this.worker = new AgentProcess(['worker'], { ...shared, OPENAI_BASE_URL: llm.baseUrl }, cwd);
  }

  static async start(): Promise<OutageStack> {
    const [temporal, simulator, llm] = await Promise.all([
      TemporalServer.start(),
      // VoIPBIN's own retry timing: 3 attempts, 1 s apart.
      startSimulator({ accessKey: 'outage-key', webhookRetryDelayMs: 1000 }),
      startFakeLlm(),
    ]);
    const cwd = mkdtempSync(join(tmpdir(), 'voipbin-agent-outage-'));
    // A long silence timeout: what brings the lost events back is the ingress, not a reprompt.
    writeFileSync(
      join(cwd, 'agent.config.json'),
      JSON.stringify({ profiles: { default: { silenceTimeoutSeconds: 600 } } }),
    );
    const stack = new OutageStack(temporal, simulator, llm, await freePort(), cwd);
    await Promise.all([stack.ingress.waitReady(stack.port), stack.worker.waitOutput('worker running')]);
    simulator.setWebhookUri(`http://127.0.0.1:${stack.port}/webhooks/voipbin`);
    return stack;
  }

  async readyz(): Promise<number> {
    return (await fetch(`http://127.0.0.1:${this.port}/readyz`)).status;
  }

  /** A call whose caller has spoken once and heard the answer; no event still in flight. */
  async answeredCall(): Promise<SimCall> {
    // The caller speaks once the greeting has played (and a breath after); the rest is driven.
    // (Each call words it differently: the model words the same conversation differently the second time.)
    const n = this.calls++;
    const call = this.simulator.startInboundCall({
      from: '+15550009999',
      to: '+15550001010',
      script: { steps: [{ say: `I need help with my bill${n ? ` number ${n}` : ''}.`, quietMs: 500 }] },
    });
    await this.heard(call, FOLLOW_UP, 1);
    await this.simulator.webhooksIdle();
    return call;
  }

  /** The server SIGKILLed, and the ingress saying so. */
  async down(): Promise<void> {
    await this.temporal.kill();
    await waitFor(async () => (await this.readyz()) === 503, '/readyz to answer 503', 10_000);
  }

  /** Resolves once VoIPBIN gave up delivering an event of `type` whose body holds `text`. */
  givenUp(type: string, text: string) {
    return waitFor(
      () =>
        this.simulator.webhooks.find(
          (w) => w.type === type && w.body.includes(text) && w.attempts === 3 && w.finalStatus === 503,
        ),
      `VoIPBIN giving up on ${type}`,
      60_000,
    );
  }

  /**
   * While the server is down the caller asks `question`; VoIPBIN gives up on it; the server comes
   * back. Resolves once the answer has played, with the time from the restart to the answer's
   * first `/say`.
   */
  async questionLost(
    call: SimCall,
    question: string,
    answers: number,
  ): Promise<{ restartToAnswerMs: number }> {
    await this.down();
    call.speak(question);
    await this.givenUp('transcript_created', question);
    const restartedAt = performance.now();
    await this.temporal.up();
    const answer = `You said: ${question.replace(/[?.!]$/, '')}.`;
    await waitFor(() => saysOf(this.simulator).includes(answer), 'the answer', 60_000);
    const answeredAt = this.simulator.requests.find(
      (r) => (r.body as { text?: string } | undefined)?.text === answer,
    )!.at;
    await this.heard(call, FOLLOW_UP, answers);
    await this.simulator.webhooksIdle();
    return { restartToAnswerMs: answeredAt - restartedAt };
  }

  /** While the server is down the caller hangs up; VoIPBIN gives up on it; the server comes back. */
  async hangupLost(call: SimCall): Promise<CallSummary> {
    await this.down();
    call.hangup();
    await this.givenUp('call_hangup', call.id);
    await this.temporal.up();
    return this.summary(call);
  }

  async summary(call: SimCall): Promise<CallSummary> {
    const client = new Client({ connection: await Connection.connect({ address: this.temporal.address }) });
    try {
      return await client.workflow.getHandle<typeof callWorkflow>(callWorkflowId(call.id)).result();
    } finally {
      await client.connection.close();
    }
  }

  /** Until the caller has heard `text` `times` times in all. */
  private heard(call: SimCall, text: string, times: number) {
    return waitFor(() => call.heard().filter((t) => t === text).length >= times, `"${text}" heard`, 60_000);
  }

  async close(): Promise<void> {
    this.ingress.kill();
    this.worker.kill();
    await this.simulator.close();
    await this.llm.close();
    await this.temporal.close();
    rmSync(this.cwd, { recursive: true, force: true });
  }
}
