// A worker SIGKILLed between two sentences of a long reply, as an operator's worker dies. The
// caller must hear the rest of the SAME reply, every sentence once, within seconds, and the call
// must go on. (The scenario: test/helpers/failover.ts; its timing over many runs: `npm run bench -- failover`.)
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIRST, FailoverStack, GREETING, REGENERATED, WHOLE_CALL } from '../helpers/failover';
import { requestSequence, saysOf } from '../helpers/voipbin-requests';

let stack: FailoverStack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

it('a worker killed mid-reply: another continues the same reply, every sentence once, in seconds', async () => {
  stack = await FailoverStack.start();
  await killedMidReply(stack);
}, 180_000);

it('the same with replies said by the workflow: continued from the sentences the workflow received', async () => {
  // By default (replySpeech direct) the dead attempt's sentences were recorded (heartbeat details)
  // before each /say, and the survivor goes on after them. Said by the workflow, they are the
  // sentence signals in the call's history.
  const dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-failover-workflow-'));
  const config = join(dir, 'agent.config.json');
  writeFileSync(config, JSON.stringify({ profiles: { default: { replySpeech: 'workflow' } } }));
  stack = await FailoverStack.start({ env: { AGENT_CONFIG: config } });
  await killedMidReply(stack);
}, 180_000);

async function killedMidReply(stack: FailoverStack): Promise<void> {
  const run = await stack.run();

  // Every sentence of the first generation exactly once, in order; nothing of a regeneration.
  const says = saysOf(run);
  expect(says.slice(0, 7)).toEqual([GREETING, ...FIRST]);
  for (const sentence of REGENERATED) expect(says).not.toContain(sentence);
  // The survivor asked the model to go on from what the workflow had received.
  expect(run.asked.map((r) => [r.pathPrefix, r.continuation?.said])).toEqual([
    [run.killed, undefined],
    [run.survivor, FIRST.slice(0, 2).join(' ')],
  ]);
  // Kill → next sentence: the bar is 3 s, measured by `npm run bench -- failover` (median 2.4 s
  // over 10 runs, docs/benchmarks.md), not here: beside jest's other suites on two cores one run
  // once took 3,005 ms. This bound only tells a continued reply from the caller left waiting out a
  // timeout (the 10 s workflow task or sticky queue timeouts; the 18 s of silence of #3).
  expect((run.nextSay.body as { text: string }).text).toBe(FIRST[2]);
  expect(run.nextSay.at - run.killedAt).toBeLessThan(6000);

  // The call went on: another turn, the caller's hangup, both sessions stopped, one speaking session.
  expect(requestSequence(run)).toEqual(WHOLE_CALL);
  expect(run.summary).toMatchObject({ endReason: 'caller-hangup', turns: 2, bargeIns: 0 });
  expect(run.summary.messages.find((m) => m.kind === 'reply')?.text).toBe(FIRST.join(' '));

  // Failover, reconciliation and all: no transcript, phone number or key in a log line above debug.
  const logs = stack.output();
  for (const secret of [
    'Tell me everything',
    'What is my balance',
    '+15550007777',
    stack.simulator.accessKey,
  ])
    expect(logs).not.toContain(secret);

  // The processes still running shut down cleanly.
  expect(await stack.stopProcesses()).toEqual([0, 0]);
}
