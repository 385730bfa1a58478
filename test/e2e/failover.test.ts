// A worker SIGKILLed between two sentences of a long reply, as an operator's worker dies. The
// caller must hear the rest of the SAME reply, every sentence once, within seconds, and the call
// must go on. (The scenario: test/helpers/failover.ts; its timing over many runs: `npm run bench -- failover`.)
import { FIRST, FailoverStack, GREETING, REGENERATED } from '../helpers/failover';
import { SESSIONS_CREATED, requestSequence, saysOf } from '../helpers/voipbin-requests';

let stack: FailoverStack;

beforeAll(async () => {
  stack = await FailoverStack.start();
}, 60_000);

afterAll(() => stack?.close());

it('a worker killed mid-reply: another continues the same reply, every sentence once, in seconds', async () => {
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
  // Kill → next sentence: the bar is 3 s (the figures over many runs: docs/benchmarks.md).
  expect((run.nextSay.body as { text: string }).text).toBe(FIRST[2]);
  expect(run.nextSay.at - run.killedAt).toBeLessThan(3000);

  // The call went on: another turn, the caller's hangup, both sessions stopped, one speaking session.
  expect(requestSequence(run)).toEqual([
    ...SESSIONS_CREATED,
    `POST /speakings/{id}/say ${GREETING} -> 200`,
    ...FIRST.map((s) => `POST /speakings/{id}/say ${s} -> 200`),
    'POST /speakings/{id}/say You said: What is my balance. -> 200',
    'POST /speakings/{id}/say How else can I help you today? -> 200',
    'POST /speakings/{id}/stop -> 200',
    'POST /transcribes/{id}/stop -> 200',
  ]);
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
}, 120_000);
