// A scenario's expectations against a call as its workflow recorded it (a committed history).
import { join } from 'node:path';
import { readHistoryFile } from '../../src/histories';
import { buildTimeline } from '../../src/inspect/timeline';
import { checkExpectations } from '../../src/sandbox/expectations';
import type { Expectation } from '../../src/sandbox/scenario';

const run = readHistoryFile(join(__dirname, '..', 'replay', 'histories', 'barge-in-and-end-call.json'));
const timeline = buildTimeline(run.workflowId, [{ runId: run.runId, history: run.history }]);
const verdicts = (expect: Expectation[]) => checkExpectations(timeline, expect).map((r) => r.ok);

it('meets expectations in order, each after the one before', () => {
  const results = checkExpectations(timeline, [
    { agent: { contains: 'Sure, here is' } },
    { bargeIn: true },
    { agent: 'You said: Stop, just the balance please.', withinMs: 100 },
    { agent: { matches: '^Goodbye!?$' } },
    { ended: 'agent-ended' },
  ]);
  expect(results.map((r) => [r.ok, r.detail])).toEqual([
    [true, 'at +3.448s'],
    [true, 'at +3.674s'],
    // 31 ms from the caller's "Stop" (+3.661 s) to its answer's /say (+3.692 s).
    [true, "31 ms after the caller's words, at +3.692s"],
    [true, 'at +9.012s'],
    [true, 'ended so'],
  ]);
});

it('fails a line said out of order, too late, never, or an end reason that was not', () => {
  // The answer came before the goodbye, not after it.
  expect(verdicts([{ agent: 'Goodbye!' }, { agent: 'How else can I help you today?' }])).toEqual([
    true,
    false,
  ]);
  expect(verdicts([{ agent: 'You said: Stop, just the balance please.', withinMs: 30 }])).toEqual([false]);
  expect(verdicts([{ agent: 'We open at nine.' }, { ended: 'agent-ended' }])).toEqual([false, false]);
  expect(verdicts([{ reprompt: true }])).toEqual([false]);
  expect(verdicts([{ ended: 'silence' }])).toEqual([false]);
  expect(verdicts([{ turns: 3 }])).toEqual([true]);
  expect(verdicts([{ turns: 2 }])).toEqual([false]);
  const never = checkExpectations(timeline, [{ agent: 'We open at nine.' }])[0]!;
  expect(never.detail).toContain('the agent said "Hello, thanks for calling. How can I help?"');
});

it('meets a tool call by its name, its arguments and how it went', () => {
  const tools = readHistoryFile(join(__dirname, '..', 'replay', 'histories', 'tools-and-transfer.json'));
  const t = buildTimeline(tools.workflowId, [{ runId: tools.runId, history: tools.history }]);
  const check = (expect: Expectation[]) => checkExpectations(t, expect).map((r) => [r.ok, r.detail]);
  expect(
    check([
      { tool: 'get_balance', arguments: { contains: '"account":"42"' }, ok: true },
      { agent: { contains: 'balance $12.50' } },
      { tool: 'get_balance', arguments: { contains: '"7"' } },
      { tool: 'transfer_call' },
      { ended: 'transferred' },
    ]).map(([ok]) => ok),
  ).toEqual([true, true, true, true, true]);
  // A failure it never had, arguments it never got, a tool never called: each says what was called.
  expect(check([{ tool: 'get_balance', ok: false }])).toEqual([
    [
      false,
      expect.stringContaining(
        'the agent called get_balance {"account":"42"} (ok), get_balance {"account":"7"} (ok), transfer_call',
      ),
    ],
  ]);
  expect(check([{ tool: 'get_balance', arguments: { contains: '"99"' } }])[0]![0]).toBe(false);
  expect(check([{ tool: 'book_appointment' }])[0]![0]).toBe(false);
});
