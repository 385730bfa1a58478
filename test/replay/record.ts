// Records the histories test/replay/replay.test.ts replays: real calls through the whole stack,
// each exercising a path of the call workflow. Run it after a change that is meant to change the
// workflow's commands (and version the workflow for the calls in flight), never to make the replay
// test pass: `npx tsx test/replay/record.ts`.
import { Client, Connection } from '@temporalio/client';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_AGENT_CONFIG, parseAgentConfig } from '../../src/agent-config';
import {
  defaultReply,
  startFakeLlm,
  type FakeLlmReply,
  type FakeLlmRequest,
} from '../../src/sandbox/fake-llm/server';
import { startSimulator } from '../../src/sandbox/simulator';
import { temporalCliPath } from '../../src/temporal/binaries';
import { VoipbinClient } from '../../src/voipbin/client';
import { createCallWorker } from '../../src/worker';
import { callWorkflow } from '../../workflows/call';
import { CALL_WORKFLOW_TASK_TIMEOUT, callWorkflowId, voipbinEventSignal } from '../../workflows/messages';
import { FakeCallActivities } from '../helpers/fake-activities';
import { FailoverStack } from '../helpers/failover';
import { silentLogger } from '../../src/logger';
import { namespaceSearchAttributes } from '../../src/temporal/search-attributes';
import { startInProcessAgent } from '../helpers/in-process-agent';
import { OutageStack } from '../helpers/outage';
import { localEnv } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait-for';

const DIR = join(__dirname, 'histories');

/** A run's history as `temporal workflow show --output json` exports it (the last run without `runId`). */
function show(address: string, workflowId: string, runId?: string): string {
  return execFileSync(
    temporalCliPath(process.env.TEMPORAL_CLI_PATH),
    [
      'workflow',
      'show',
      '--address',
      address,
      '--workflow-id',
      workflowId,
      ...(runId ? ['--run-id', runId] : []),
      '--output',
      'json',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 },
  );
}

/** Once the call has ended, its history. */
async function save(client: Client, address: string, name: string, callId: string): Promise<void> {
  await client.workflow.getHandle(callWorkflowId(callId)).result();
  writeFileSync(join(DIR, `${name}.json`), show(address, callWorkflowId(callId)));
  console.log(`recorded ${name}`);
}

/**
 * A call that continues as new twice: its history budget set small, so that a run holds a turn or
 * two. Every run is saved (`continue-as-new-<n>.json`): the first ends with the switch, the later
 * ones start from carried state. Fake activities (the workflow is what is recorded).
 */
async function continueAsNew(): Promise<void> {
  const env = await localEnv();
  const fake = new FakeCallActivities(() => env.client);
  const callId = 'continue-as-new';
  const worker = await createCallWorker({
    connection: env.nativeConnection,
    namespace: 'default',
    taskQueue: 'record-can',
    activities: fake.activities(),
  });
  const profile = DEFAULT_AGENT_CONFIG.profiles.default!;
  try {
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.signalWithStart(callWorkflow, {
        workflowId: callWorkflowId(callId),
        taskQueue: 'record-can',
        args: [{ callId, profileName: 'default', profile, historyBudget: { events: 60, bytes: 1_000_000 } }],
        signal: voipbinEventSignal,
        signalArgs: [{ kind: 'call', eventType: 'call_progressing', callId, status: 'progressing' }],
        workflowTaskTimeout: CALL_WORKFLOW_TASK_TIMEOUT,
      });
      for (let i = 1; i <= 4; i++) {
        fake.replies.push({ sentences: [`Answer ${i}.`, 'Anything else?'] });
        await waitFor(
          () => fake.log.at(-1) === 'say:' + (i === 1 ? profile.greeting : 'Anything else?'),
          'speech',
        );
        await new Promise((r) => setTimeout(r, 2000)); // it plays
        await handle.signal(voipbinEventSignal, {
          kind: 'transcript',
          eventType: 'transcript_created',
          id: `t-${i}`,
          transcribeId: 'transcribe-1',
          direction: 'in',
          text: `Question ${i}?`,
        });
      }
      await waitFor(() => fake.log.at(-1) === 'say:Anything else?', 'the last answer');
      await new Promise((r) => setTimeout(r, 2000));
      await handle.signal(voipbinEventSignal, {
        kind: 'call',
        eventType: 'call_hangup',
        callId,
        status: 'hangup',
      });
      const summary = await handle.result();
      if (summary.run < 3) throw new Error(`only ${summary.run} runs`);
      let runId: string | undefined = handle.signaledRunId;
      for (let n = 1; runId; n++) {
        const json = show(env.address, handle.workflowId, runId);
        writeFileSync(join(DIR, `continue-as-new-${n}.json`), json);
        const events = (
          JSON.parse(json) as {
            events: { workflowExecutionContinuedAsNewEventAttributes?: { newExecutionRunId: string } }[];
          }
        ).events;
        runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      }
      console.log(`recorded continue-as-new (${summary.run} runs)`);
    });
  } finally {
    await env.teardown();
  }
}

/** Barge-in, a speaking session that disappears, silence (reprompt, goodbye, hangup), end_call. */
/** The long answer a barge-in cuts off: a pause after its first sentence. */
function everything(req: FakeLlmRequest): FakeLlmReply | undefined {
  if (!String(req.messages.at(-1)?.content).includes('everything')) return undefined;
  return {
    text: 'Sure, here is everything. It was opened in March. It has two cards.',
    sentencePauseMs: 30_000,
  };
}

async function inProcess(): Promise<void> {
  const env = await localEnv();
  const simulator = await startSimulator({ accessKey: 'record', webhookRetryDelayMs: 100 });
  const llm = await startFakeLlm({
    reply: (req: FakeLlmRequest) => {
      const said = String(req.messages.at(-1)?.content);
      const long = everything(req);
      if (long) return long;
      if (said.endsWith('about your plans.'))
        return {
          text: 'We have three plans, each with unlimited calls. The basic plan is ten dollars a month. The premium plan adds international minutes.',
        };
      return defaultReply(req);
    },
  });
  const agent = await startInProcessAgent({
    client: env.client,
    connection: env.nativeConnection,
    taskQueue: 'record',
    simulator,
    llm,
    agent: parseAgentConfig(
      JSON.stringify({
        profiles: { default: {}, quiet: { silenceTimeoutSeconds: 1, maxReprompts: 1 } },
        routes: [
          { to: '+15550000002', profile: 'quiet' },
          { to: '*', profile: 'default' },
        ],
      }),
      'record.json',
    ),
  });
  try {
    const bargeIn = simulator.startInboundCall({
      from: '+15550000001',
      to: '+15550000001',
      script: {
        steps: [
          { say: 'Tell me everything about my account.', quietMs: 300 },
          { say: 'Stop, just the balance please.', duringAgentSpeech: true, afterMs: 200 },
          { waitForAgent: true, quietMs: 300 },
          { say: 'Thanks, goodbye.', quietMs: 300 },
        ],
      },
    });
    await bargeIn.ended; // the model's end_call
    await save(env.client, env.address, 'barge-in-and-end-call', bargeIn.id);

    const silent = simulator.startInboundCall({ from: '+15550000003', to: '+15550000002' });
    await silent.ended;
    await save(env.client, env.address, 'silence-reprompt-goodbye', silent.id);

    const gone = simulator.startInboundCall({
      from: '+15550000004',
      to: '+15550000001',
      script: {
        steps: [
          { say: 'What is my balance?', quietMs: 1500 },
          { waitForAgent: true, quietMs: 300 },
          { hangup: true },
        ],
      },
    });
    await waitFor(() => gone.heard().length > 0, 'the greeting', 20_000);
    const voipbin = new VoipbinClient({ baseUrl: simulator.baseUrl, apiKey: simulator.accessKey });
    const speaking = (await voipbin.listSpeakings()).result.find((s) => s.reference_id === gone.id)!;
    await voipbin.stopSpeaking(speaking.id);
    await gone.ended;
    await save(env.client, env.address, 'speaking-session-gone', gone.id);

    // Turn-taking: backchannels during a reply, an utterance cut at a pause, and a barge-in on the
    // words heard before the final (a callerSpeech signal).
    const turnTaking = simulator.startInboundCall({
      from: '+15550000005',
      to: '+15550000001',
      script: {
        steps: [
          { say: 'Tell me about your plans.', quietMs: 300 },
          { say: 'Mm-hmm.', duringAgentSpeech: true, afterMs: 600 },
          { say: 'okay', duringAgentSpeech: true, afterMs: 600 },
          { waitForAgent: true, quietMs: 300 },
          { say: 'I would like to know', quietMs: 300 },
          { say: 'your opening hours please?', waitForAgent: false, afterMs: 400 },
          { waitForAgent: true, quietMs: 300 },
          { say: 'Tell me everything about my account.', quietMs: 300 },
          {
            say: 'Stop, just the balance please, thank you.',
            duringAgentSpeech: true,
            afterMs: 200,
            speakingMs: 2000,
          },
          { waitForAgent: true, quietMs: 300 },
          { hangup: true },
        ],
      },
    });
    await turnTaking.ended;
    await save(env.client, env.address, 'turn-taking', turnTaking.id);
  } finally {
    await agent.close();
    await simulator.close();
    await llm.close();
    await env.teardown();
  }
}

/**
 * Replies that speak for themselves (profile `replySpeech: direct`, #7): a reply,
 * a barge-in over a speaking turn (its flushTurn), the model's end_call; and a worker SIGKILLed
 * mid-reply, whose second attempt continues from the first one's records. The histories above
 * were recorded before it, on the signal path, and stay as they are: calls begun then keep it.
 */
async function speaking(): Promise<void> {
  await speakingBargeIn('speaking-barge-in-and-end-call');
  const stack = await FailoverStack.start({ env: { AGENT_CONFIG: speakingConfig() } });
  try {
    const run = await stack.run();
    await save(stack.client, stack.temporal.address, 'speaking-failover-continued-reply', run.callId);
  } finally {
    await stack.close();
  }
}

/**
 * The same barge-in over a speaking turn, cut off where it runs (`cutTurn`, the patch
 * `speaking-turn-cut-here`). `speaking-barge-in-and-end-call` was recorded before that patch: its
 * turn was cut off through the server (flushTurn), as a turn running on another worker still is;
 * `speaking-barge-in-cut-here` before the turn heard the caller in its own process: its `cutTurn`
 * made the flush. In `speaking-barge-in-on-hearing` the turn cut itself off when the ingress heard
 * the caller (its input carries the rule, its `cutTurn` answers `onHearing`), and waited for the
 * workflow's cancellation; in `speaking-barge-in-ended-on-hearing` it ended once its flush was
 * answered, its result saying so (`onHearing`).
 */
async function speakingBargeIn(name: string): Promise<void> {
  const env = await localEnv();
  const simulator = await startSimulator({ accessKey: 'record', webhookRetryDelayMs: 100 });
  const llm = await startFakeLlm({ reply: (req: FakeLlmRequest) => everything(req) ?? defaultReply(req) });
  const agent = await startInProcessAgent({
    client: env.client,
    connection: env.nativeConnection,
    taskQueue: 'record-speaking',
    simulator,
    llm,
    agent: {
      ...DEFAULT_AGENT_CONFIG,
      profiles: { default: { ...DEFAULT_AGENT_CONFIG.profiles.default!, replySpeech: 'direct' } },
    },
  });
  try {
    const bargeIn = simulator.startInboundCall({
      from: '+15550000011',
      to: '+15550000001',
      script: {
        steps: [
          { say: 'What are your opening hours?', quietMs: 1000 },
          { say: 'Tell me everything about my account.', quietMs: 300 },
          { say: 'Stop, just the balance please.', duringAgentSpeech: true, afterMs: 200 },
          { waitForAgent: true, quietMs: 300 },
          { say: 'Thanks, goodbye.', quietMs: 300 },
        ],
      },
    });
    await bargeIn.ended; // the model's end_call
    await save(env.client, env.address, name, bargeIn.id);
  } finally {
    await agent.close();
    await simulator.close();
    await llm.close();
    await env.teardown();
  }
}

/** An agent config file whose one profile speaks directly, for the processes of a stack. */
function speakingConfig(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'record-speaking-')), 'agent.config.json');
  writeFileSync(file, JSON.stringify({ profiles: { default: { replySpeech: 'direct' } } }));
  return file;
}

/** A worker SIGKILLed mid-reply: the LLM turn's second attempt continues it. */
async function failover(): Promise<void> {
  const stack = await FailoverStack.start();
  try {
    const run = await stack.run();
    await save(stack.client, stack.temporal.address, 'failover-continued-reply', run.callId);
  } finally {
    await stack.close();
  }
}

/** The Temporal server down while the caller speaks, then while the caller hangs up: reconciled. */
async function outage(): Promise<void> {
  const stack = await OutageStack.start();
  try {
    const call = await stack.answeredCall();
    await stack.questionLost(call, 'What are your opening hours?', 2);
    await stack.hangupLost(call);
    const client = new Client({ connection: await Connection.connect({ address: stack.temporal.address }) });
    await save(client, stack.temporal.address, 'outage-reconciled', call.id);
    await client.connection.close();
  } finally {
    await stack.close();
  }
}

/**
 * A call started with its search attributes and keeping them up to date (status, end reason): the
 * upserts are commands, so a change to when they happen must be caught. Phone numbers opted in.
 */
async function searchAttributes(): Promise<void> {
  const env = await localEnv();
  const simulator = await startSimulator({ accessKey: 'record', webhookRetryDelayMs: 100 });
  const llm = await startFakeLlm({});
  const agent = await startInProcessAgent({
    client: env.client,
    connection: env.nativeConnection,
    taskQueue: 'record-search-attributes',
    simulator,
    llm,
    searchAttributes: namespaceSearchAttributes(env.client, { phoneNumbers: true, log: silentLogger }),
  });
  try {
    const call = simulator.startInboundCall({
      from: '+15550000011',
      to: '+15550000012',
      script: { steps: [{ say: 'What is my balance?', quietMs: 300 }, { hangup: true }] },
    });
    await call.ended;
    await save(env.client, env.address, 'search-attributes', call.id);
  } finally {
    await agent.close();
    await simulator.close();
    await llm.close();
    await env.teardown();
  }
}

/**
 * Tools: an HTTP tool slow enough for its filler, answered in a second step; the same tool with
 * the caller cutting in over the filler (the tool finishes, the next turn reads its result); then
 * `transfer_call` (the line, POST /transfers, the call ended as transferred). Then a call whose
 * transfer VoIPBIN accepts while the call stays with the agent (a simulator fault).
 */
async function tools(only?: 'transfer-not-done'): Promise<void> {
  const env = await localEnv();
  const simulator = await startSimulator({ accessKey: 'record', webhookRetryDelayMs: 100 });
  const llm = await startFakeLlm({});
  const crm = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ balance: '$12.50' }));
      }, 2000),
    );
  });
  await new Promise<void>((resolve) => crm.listen(0, '127.0.0.1', resolve));
  const port = (crm.address() as AddressInfo).port;
  const agent = await startInProcessAgent({
    client: env.client,
    connection: env.nativeConnection,
    taskQueue: 'record-tools',
    simulator,
    llm,
    agent: parseAgentConfig(
      JSON.stringify({
        profiles: {
          default: {
            tools: [
              {
                name: 'get_balance',
                description: "Look up the caller's account balance.",
                parameters: {
                  type: 'object',
                  properties: { account: { type: 'string' } },
                  required: ['account'],
                },
                http: { url: `http://127.0.0.1:${port}/balance`, timeoutSeconds: 5 },
                fillerText: 'One moment while I check that.',
              },
            ],
            transfer: { to: '+15550001111', text: 'Let me put you through.' },
          },
        },
      }),
      'record.json',
    ),
  });
  try {
    if (!only) {
      const call = simulator.startInboundCall({
        from: '+15550000021',
        to: '+15550000022',
        script: {
          steps: [
            { say: 'What is my balance? Account 42.', quietMs: 300 },
            { waitForAgent: true, quietMs: 1500 },
            { say: 'And the balance of account 7?', quietMs: 300 },
            { say: 'Sorry, go on.', duringAgentSpeech: true, afterMs: 300 },
            { waitForAgent: true, quietMs: 1500 },
            { say: 'Can I talk to a person?', quietMs: 300 },
          ],
        },
      });
      await call.ended; // transferred
      await save(env.client, env.address, 'tools-and-transfer', call.id);
    }

    // VoIPBIN answers the transfer 200 but the call stays: the agent finds out by reconciling and
    // goes back to the model, which tells the caller; then the caller hangs up.
    simulator.setFaults({ transfers: { keepCall: true } });
    const kept = simulator.startInboundCall({
      from: '+15550000023',
      to: '+15550000022',
      script: {
        steps: [
          { say: 'Can I talk to a person?', quietMs: 300 },
          { waitForAgent: true, quietMs: 1500 },
          { hangup: true },
        ],
      },
    });
    await kept.ended;
    await save(env.client, env.address, 'transfer-not-done', kept.id);
  } finally {
    await agent.close();
    await simulator.close();
    await llm.close();
    crm.closeAllConnections();
    crm.close();
    await env.teardown();
  }
}

async function main(): Promise<void> {
  const only = process.argv[2];
  if (only === 'continue-as-new') return continueAsNew();
  if (only === 'search-attributes') return searchAttributes();
  if (only === 'tools') return tools();
  if (only === 'transfer-not-done') return tools('transfer-not-done');
  if (only === 'speaking') return speaking();
  if (only === 'speaking-cut-here') return speakingBargeIn('speaking-barge-in-cut-here');
  if (only === 'speaking-on-hearing') return speakingBargeIn('speaking-barge-in-on-hearing');
  // The same call, its first events (dialing, ringing, progressing) in its first workflow task.
  if (only === 'first-events-in-one-task') return speakingBargeIn('first-events-in-one-task');
  // The turn cut off on hearing ends at once: its result, not the workflow's cancellation, ends it.
  if (only === 'speaking-ended-on-hearing') return speakingBargeIn('speaking-barge-in-ended-on-hearing');
  await searchAttributes();
  await tools();
  await continueAsNew();
  await inProcess();
  await failover();
  await outage();
  await speaking();
  await speakingBargeIn('speaking-barge-in-cut-here');
  await speakingBargeIn('speaking-barge-in-on-hearing');
  await speakingBargeIn('first-events-in-one-task');
  await speakingBargeIn('speaking-barge-in-ended-on-hearing');
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
