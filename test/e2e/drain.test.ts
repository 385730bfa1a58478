// A worker sent SIGTERM mid-reply, as a deploy stops it. It must drain: poll no more, let the LLM
// turn it is streaming finish (the same attempt: no retry, no continuation), and exit within its
// grace period, while the other worker says the sentences. A reply longer than the grace is cut
// there and continued by the other worker, as after a crash. (The scenario: test/helpers/failover.ts;
// its timing over many runs: `npm run bench -- drain`.)
import { decodeTimeoutType } from '@temporalio/common';
import { callWorkflowId } from '../../workflows/messages';
import {
  FIRST,
  FailoverStack,
  WHOLE_CALL,
  GREETING,
  REGENERATED,
  SENTENCE_PAUSE_MS,
  longestSilence,
} from '../helpers/failover';
import { requestSequence, saysOf } from '../helpers/voipbin-requests';

const GRACE_SECONDS = 15;
let stack: FailoverStack;

beforeAll(async () => {
  stack = await FailoverStack.start({ workerEnv: { WORKER_SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS) } });
}, 60_000);

afterAll(() => stack?.close());

async function historyOf(callId: string) {
  const history = await stack.client.workflow.getHandle(callWorkflowId(callId)).fetchHistory();
  return history.events ?? [];
}

/** The workflow tasks that timed out: which timeout, and who had started them. */
function timeouts(events: Awaited<ReturnType<typeof historyOf>>, stoppedPid: number) {
  const startedBy = new Map(
    events
      .filter((e) => e.workflowTaskStartedEventAttributes)
      .map((e) => [String(e.eventId), e.workflowTaskStartedEventAttributes!.identity]),
  );
  return events
    .map((e) => e.workflowTaskTimedOutEventAttributes)
    .filter((t) => !!t)
    .map((t) => ({
      timeout: decodeTimeoutType(t.timeoutType),
      startedBy: startedBy.get(String(t.startedEventId)),
      byTheStoppedWorker: startedBy.get(String(t.startedEventId))?.startsWith(`${stoppedPid}@`),
    }));
}

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
  // waited it out), and finished the tasks it held.
  expect(timeouts(events, run.killedPid)).toEqual([]);
  // The caller heard no more silence than the model's own pause between sentences, plus a little.
  expect(longestSilence(run)).toBeLessThan(SENTENCE_PAUSE_MS + 1000);

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
  expect(llmAttempts(await historyOf(run.callId))).toEqual([2, 1]);
  // Exited at the grace, well before the force time (5 s later).
  expect(run.exitCode).toBe(0);
  expect(run.exitedAt - run.killedAt).toBeGreaterThan(graceSeconds * 1000);
  expect(run.exitedAt - run.killedAt).toBeLessThan(graceSeconds * 1000 + 3000);
  expect(run.summary).toMatchObject({ endReason: 'caller-hangup', turns: 2 });
}, 120_000);
