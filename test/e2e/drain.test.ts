// A worker sent SIGTERM mid-reply, as a deploy stops it. It must drain: poll no more, let the LLM
// turn it is streaming finish (the same attempt: no retry, no continuation), and exit within its
// grace period, while the other worker says the sentences. A reply longer than the grace is cut
// there and continued by the other worker, as after a crash. (The scenario: test/helpers/failover.ts;
// its timing over many runs: `npm run bench -- drain`.)
import { decodeTimeoutType } from '@temporalio/common';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callWorkflowId } from '../../workflows/messages';
import {
  FIRST,
  FailoverStack,
  WHOLE_CALL,
  GREETING,
  REGENERATED,
  SENTENCE_PAUSE_MS,
  longestSilence,
  type FailoverRun,
} from '../helpers/failover';
import { requestSequence, saysOf } from '../helpers/voipbin-requests';

const GRACE_SECONDS = 15;
let stack: FailoverStack;

beforeAll(async () => {
  stack = await FailoverStack.start({ workerEnv: { WORKER_SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS) } });
}, 60_000);

afterAll(() => stack?.close());

async function historyOf(callId: string, on: FailoverStack = stack) {
  const history = await on.client.workflow.getHandle(callWorkflowId(callId)).fetchHistory();
  return history.events ?? [];
}

/**
 * The workflow tasks that timed out: which timeout, who had started them, and when (ms after the
 * signal, on the wall clock).
 */
function timeouts(events: Awaited<ReturnType<typeof historyOf>>, run: FailoverRun) {
  const started = new Map(
    events.filter((e) => e.workflowTaskStartedEventAttributes).map((e) => [String(e.eventId), e]),
  );
  return events
    .map((e) => e.workflowTaskTimedOutEventAttributes)
    .filter((t) => !!t)
    .map((t) => {
      const start = started.get(String(t.startedEventId));
      return {
        timeout: decodeTimeoutType(t.timeoutType),
        byTheStoppedWorker: !!start?.workflowTaskStartedEventAttributes?.identity?.startsWith(
          `${run.killedPid}@`,
        ),
        startedAfterMs: start?.eventTime ? epochMs(start.eventTime) - run.killedAtEpochMs : undefined,
      };
    });
}

function epochMs(t: { seconds?: unknown; nanos?: number | null }): number {
  return Number(t.seconds) * 1000 + (t.nanos ?? 0) / 1e6;
}

/**
 * The one task a drain can still lose, in SDK 1.24: sdk-core ends its workflow processing as soon
 * as its cached calls are idle (workflow_stream.rs `shutdown_done`), while its last poll is still
 * open waiting for the server to answer it empty (graceful poll shutdown). A workflow task the server
 * hands to that poll in the instant of the signal is never run and times out (START_TO_CLOSE, 2 s).
 * Seen in 2 runs of this test in 10, the task started 0.5 and 1.9 ms after the SIGTERM.
 */
function lostInTheShutdownInstant(t: ReturnType<typeof timeouts>[number]): boolean {
  return (
    t.timeout === 'START_TO_CLOSE' &&
    t.byTheStoppedWorker &&
    t.startedAfterMs !== undefined &&
    Math.abs(t.startedAfterMs) < SHUTDOWN_INSTANT_MS
  );
}
const SHUTDOWN_INSTANT_MS = 250;

/** For every LLM turn, in order, the attempt that ended it. */
function llmAttempts(events: Awaited<ReturnType<typeof historyOf>>): number[] {
  const llm = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'llmTurn')
      .map((e) => String(e.eventId)),
  );
  return events
    .map((e) => e.activityTaskStartedEventAttributes)
    .filter((a) => a && llm.has(String(a.scheduledEventId)))
    .map((a) => a!.attempt ?? 0);
}

it('a worker stopped mid-reply drains: its turn finishes the reply, said once by the other worker, and it exits', async () => {
  const run = await stack.run(0, 'SIGTERM');

  // Every sentence of the first generation exactly once, in order; nothing of a regeneration.
  const says = saysOf(run);
  expect(says.slice(0, 7)).toEqual([GREETING, ...FIRST]);
  for (const sentence of REGENERATED) expect(says).not.toContain(sentence);
  // One ask of the model, from the stopped worker: the turn was neither cut nor retried.
  expect(run.asked.map((r) => [r.pathPrefix, r.generation, r.continuation])).toEqual([
    [run.killed, 0, undefined],
  ]);
  const events = await historyOf(run.callId);
  expect(llmAttempts(events)).toEqual([1, 1]);
  // No workflow task timed out: the stopped worker gave its sticky queue back at once (no task
  // waited it out), and finished the tasks it held. The one exception is the SDK's race at the
  // very instant of the signal, at most once.
  const timedOut = timeouts(events, run);
  expect(timedOut.filter((t) => !lostInTheShutdownInstant(t))).toEqual([]);
  expect(timedOut.length).toBeLessThanOrEqual(1);
  // The caller heard no more silence than the model's own pause between sentences, plus a little
  // (plus the 2 s workflow task timeout, if the SDK's race lost the task before a sentence).
  expect(longestSilence(run)).toBeLessThan(SENTENCE_PAUSE_MS + 1000 + (timedOut.length ? 2000 : 0));

  // The worker exited cleanly, once the reply was streamed (four more pauses) and within its grace.
  expect(run.exitCode).toBe(0);
  expect(run.exitedAt - run.killedAt).toBeGreaterThan(4 * SENTENCE_PAUSE_MS);
  expect(run.exitedAt - run.killedAt).toBeLessThan(GRACE_SECONDS * 1000);
  const logs = stack.output();
  expect(logs).toContain('worker draining');
  expect(logs).toMatch(/worker drained ms=\d+/);

  // The call went on with the other worker: another turn, the caller's hangup, sessions stopped.
  expect(requestSequence(run)).toEqual(WHOLE_CALL);
  expect(run.summary).toMatchObject({ endReason: 'caller-hangup', turns: 2, bargeIns: 0 });
}, 120_000);

it('a reply longer than the grace period: cut at the grace, continued by the other worker, nothing twice', async () => {
  await cutAtTheGrace(stack);
}, 120_000);

it('the same with replies said by the workflow: the sentence cut at the grace is not said again', async () => {
  // By default (replySpeech direct) sdk-core reports the cut as a failure carrying its last
  // heartbeat details, which the server keeps: they must be the turn's newest record, or the next
  // attempt says a sentence again. Said by the workflow, the sentences are signals.
  const dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-drain-workflow-'));
  const config = join(dir, 'agent.config.json');
  writeFileSync(config, JSON.stringify({ profiles: { default: { replySpeech: 'workflow' } } }));
  const signalled = await FailoverStack.start({ env: { AGENT_CONFIG: config } });
  try {
    await cutAtTheGrace(signalled);
  } finally {
    await signalled.close();
  }
}, 180_000);

async function cutAtTheGrace(stack: FailoverStack): Promise<void> {
  const graceSeconds = 2;
  await stack.restartWorkers({ WORKER_SHUTDOWN_GRACE_SECONDS: String(graceSeconds) });
  const run = await stack.run(0, 'SIGTERM');

  const says = saysOf(run);
  expect(says.slice(0, 7)).toEqual([GREETING, ...FIRST]);
  for (const sentence of REGENERATED) expect(says).not.toContain(sentence);
  // Cut after the third sentence (streamed 1.5 s into the 2 s grace), continued after it.
  expect(run.asked.map((r) => [r.pathPrefix, r.continuation?.said])).toEqual([
    [run.killed, undefined],
    [run.survivor, FIRST.slice(0, 3).join(' ')],
  ]);
  // (A history records only the attempt that ended an activity: the second, here.)
  expect(llmAttempts(await historyOf(run.callId, stack))).toEqual([2, 1]);
  // Exited at the grace, well before the force time (5 s later).
  expect(run.exitCode).toBe(0);
  expect(run.exitedAt - run.killedAt).toBeGreaterThan(graceSeconds * 1000);
  expect(run.exitedAt - run.killedAt).toBeLessThan(graceSeconds * 1000 + 3000);
  expect(run.summary).toMatchObject({ endReason: 'caller-hangup', turns: 2 });
}
