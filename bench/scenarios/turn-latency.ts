import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { startFakeLlm, type FakeLlm } from '../../src/fake-llm/server';
import { CLIENT_CHANNEL_ARGS } from '../../src/runtime/temporal';
import { startSimulator, type SimCall, type Simulator } from '../../src/simulator';
import { startInProcessAgent } from '../../test/helpers/in-process-agent';
import { TemporalServer } from '../../test/helpers/temporal-server';
import { startPlainLoop } from '../plain-loop';
import { type Figure, type Scenario, max, median, ms, percentile } from '../scenario';

const CALLS = 20;
const START_EVERY_MS = 500;
// Each caller words things its own way, so that every request at VoIPBIN can be paired with its call.
const question = (i: number) => `What are your opening hours, says caller ${i}?`;
const long = (i: number) => `Tell me everything about account ${i}.`;
const stop = (i: number) => `Stop, thanks, says caller ${i}.`;
const answer = (i: number) => `Caller ${i}, we open at nine.`;
const CALLER = /caller (\d+)|account (\d+)/;

interface Latencies {
  /** The caller's final transcript sent by VoIPBIN → the answer's first `/say` at VoIPBIN. */
  answer: number[];
  /** The caller's interrupting transcript sent by VoIPBIN → the `/flush` at VoIPBIN. */
  flush: number[];
}

/** An instant model (the figures are the system's own); the long answer pauses after its first sentence. */
function instantModel(): Promise<FakeLlm> {
  return startFakeLlm({
    reply: (req) => {
      const said = String(req.messages.at(-1)?.content ?? '');
      const match = CALLER.exec(said);
      const i = Number(match?.[1] ?? match?.[2] ?? -1);
      if (said === long(i)) {
        return {
          text: 'Sure, here is everything. It was opened in March. It has two cards.',
          sentencePauseMs: 5000,
        };
      }
      return { text: said === question(i) ? `${answer(i)} We close at six.` : 'Okay.' };
    },
  });
}

/** The same callers against whatever answers the simulator's webhooks. */
async function callers(simulator: Simulator): Promise<Latencies> {
  const calls: SimCall[] = [];
  for (let i = 0; i < CALLS; i++) {
    calls.push(
      simulator.startInboundCall({
        from: `+1555030${String(i).padStart(4, '0')}`,
        to: '+15550400000',
        script: {
          steps: [
            { say: question(i), quietMs: 300 },
            { say: long(i), quietMs: 300 },
            { say: stop(i), duringAgentSpeech: true, afterMs: 300 },
            { waitForAgent: true, quietMs: 300 },
            { hangup: true },
          ],
        },
      }),
    );
    await new Promise((r) => setTimeout(r, START_EVERY_MS));
  }
  await Promise.all(calls.map((c) => c.ended));
  await simulator.webhooksIdle();
  const sentAt = (text: string) => {
    const webhook = simulator.webhooks.find(
      (w) => w.type === 'transcript_created' && w.body.includes(`"message":"${text}"`),
    );
    if (!webhook) throw new Error(`the caller's "${text}" was never sent`);
    return webhook.at;
  };
  const answers: number[] = [];
  const flushes: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const asked = sentAt(question(i));
    const said = simulator.requests.find(
      (r) => r.at > asked && (r.body as { text?: string } | undefined)?.text === answer(i),
    );
    if (!said) throw new Error(`caller ${i} was not answered`);
    answers.push(said.at - asked);
    // The call's speaking session is the one its answer was said on.
    const speaking = said.path.replace(/\/say$/, '');
    const interrupted = sentAt(stop(i));
    const flush = simulator.requests.find((r) => r.at > interrupted && r.path === `${speaking}/flush`);
    if (!flush) throw new Error(`caller ${i}'s barge-in was not flushed`);
    flushes.push(flush.at - interrupted);
  }
  return { answer: answers, flush: flushes };
}

async function plainLoop(): Promise<Latencies> {
  const [simulator, llm] = await Promise.all([startSimulator({ accessKey: 'bench' }), instantModel()]);
  const loop = await startPlainLoop({
    voipbin: { baseUrl: simulator.baseUrl, apiKey: simulator.accessKey },
    webhookSecret: simulator.customer.webhookSecret,
    llmBaseUrl: llm.baseUrl,
  });
  simulator.setWebhookUri(loop.url);
  try {
    return await callers(simulator);
  } finally {
    await loop.close();
    await simulator.close();
    await llm.close();
  }
}

/** As `serve` runs: one process, the dev server on a database file. */
async function agent(): Promise<Latencies> {
  const temporal = await TemporalServer.start();
  const [simulator, llm] = await Promise.all([startSimulator({ accessKey: 'bench' }), instantModel()]);
  const connection = await Connection.connect({
    address: temporal.address,
    channelArgs: CLIENT_CHANNEL_ARGS,
  });
  const native = await NativeConnection.connect({ address: temporal.address });
  const running = await startInProcessAgent({
    client: new Client({ connection }),
    connection: native,
    taskQueue: 'turn-latency',
    simulator,
    llm,
  });
  try {
    return await callers(simulator);
  } finally {
    await running.close();
    await native.close();
    await connection.close();
    await simulator.close();
    await llm.close();
    await temporal.close();
  }
}

const spread = (values: number[]) =>
  `${ms(median(values))} / ${ms(percentile(values, 95))} / ${ms(max(values))}`;

/**
 * The latency a turn adds, beside a plain in-memory loop measured in the same run against the same
 * simulator and model: 20 calls half a second apart (unloaded), each caller asking a question,
 * then asking for a long answer and talking over it. An instant model, so the figures are the
 * system's own. (The 200-call load and its p99 bar are issue #7's benchmark.)
 */
export const turnLatency: Scenario = {
  name: 'turn-latency',
  title: `${CALLS} calls, unloaded: transcript → first /say and barge-in → /flush, beside a plain loop`,
  async run(): Promise<Figure[]> {
    const plain = await plainLoop();
    const durable = await agent();
    return [
      {
        label: 'plain loop: transcript → first /say, p50 / p95 / max',
        value: spread(plain.answer),
        unit: 'ms',
      },
      {
        label: 'voipbin-agent: transcript → first /say, p50 / p95 / max',
        value: spread(durable.answer),
        unit: 'ms',
      },
      { label: 'plain loop: barge-in → /flush, p50 / p95 / max', value: spread(plain.flush), unit: 'ms' },
      {
        label: 'voipbin-agent: barge-in → /flush, p50 / p95 / max',
        value: spread(durable.flush),
        unit: 'ms',
      },
    ];
  },
};
