// The call's decisions about tools (workflows/call-state.ts): HTTP tools run as activities and the
// turn goes back to the model with their results; a slow one gets its filler said once; silence
// waits for them; a barge-in lets them finish; `transfer_call` says its line, then transfers.
import * as call from '../../workflows/call-state';
import { MAX_TOOL_STEPS } from '../../workflows/call-state';
import type { ToolCallRequest } from '../../activities/types';
import { CallDriver } from '../helpers/call-driver';

const TOOLS = {
  tools: { get_balance: { fillerText: 'One moment while I check that.' }, book: {} },
  toolFillerDelayMs: 1000,
};
const TRANSFER = { transfer: { to: '+15550001111', text: 'Let me put you through.' } };

const balance = (id = 'call_a', account = '42'): ToolCallRequest => ({
  id,
  name: 'get_balance',
  arguments: JSON.stringify({ account }),
});
const tools = (...toolCalls: ToolCallRequest[]) => ({
  kind: 'completed' as const,
  endCall: false,
  toolCalls,
});

/** What the turn the last step started is given of the conversation. */
function context(d: CallDriver) {
  const start = d.last.find((c) => c.kind === 'startTurn');
  if (!start) throw new Error(`no turn started: ${JSON.stringify(d.last)}`);
  return start.context.messages;
}

/** The filler, said while the tool ran, as the words of the reply that called it. */
const fillerCalling = (id: string) => ({
  role: 'assistant',
  content: 'One moment while I check that.',
  tool_calls: [expect.objectContaining({ id })],
});

describe('an HTTP tool', () => {
  it('runs as an activity, then the turn goes back to the model with its result', () => {
    const d = CallDriver.answered(TOOLS);
    expect(d.caller("What's my balance? Account 42.")).toEqual(['startTurn 1']);
    expect(d.turnDone(1, tools(balance()))).toEqual([
      'callTool get_balance {"account":"42"} (turn 1 step 0 #0)',
    ]);
    expect(d.s.phase).toBe('thinking');
    d.now += 300;
    const next = d.toolDone(1, 0, 0, { ok: true, content: '{"balance":"$12.50"}', ms: 300 });
    expect(next).toEqual(['startTurn 1 step 1']);
    const messages = context(d);
    expect(messages.slice(-3)).toEqual([
      { role: 'user', content: "What's my balance? Account 42." },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_a',
            type: 'function',
            function: { name: 'get_balance', arguments: '{"account":"42"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '{"balance":"$12.50"}' },
    ]);
    // A late sentence of step 0 is not the answer; step 1's is, and it is said.
    expect(d.sentence(1, 0, 'Stale.', 1, 0)).toEqual([]);
    expect(d.sentence(1, 0, 'Your balance is $12.50.', 1, 1)).toEqual(['say Your balance is $12.50. @sp-1']);
    d.drain();
    // The caller waited 300 ms of tool and the model: the latency counts it.
    expect(d.s.firstSentenceLatenciesMs).toEqual([300]);
    expect(d.turnDone(1)).toEqual([]);
    expect(d.s.phase).toBe('listening');
    expect(d.s.turn).toBeUndefined();
  });

  it('keeps what the reply said before calling as the same reply, before its tool calls', () => {
    const d = CallDriver.answered(TOOLS);
    d.caller('My balance please, account 7.');
    // Said, but not yet sent: a say is in flight ahead of it.
    d.sentence(1, 0, 'Sure, let me look.');
    d.turnDone(1, tools(balance('call_b', '7')));
    d.drain();
    d.toolDone(1, 0, 0, {
      ok: false,
      error: 'get_balance answered 404: no such account',
      ms: 20,
      status: 404,
    });
    const messages = context(d);
    expect(messages.slice(-2)).toEqual([
      {
        role: 'assistant',
        content: 'Sure, let me look.',
        tool_calls: [
          { id: 'call_b', type: 'function', function: { name: 'get_balance', arguments: '{"account":"7"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_b', content: 'error: get_balance answered 404: no such account' },
    ]);
    // The conversation holds the tool call where it was made, with how it went.
    const toolMessage = d.s.messages.find((m) => m.role === 'tool');
    expect(toolMessage?.tool).toMatchObject({ name: 'get_balance', ok: false, ms: 20 });
  });

  it('runs several calls of one reply together and asks the model once all are in', () => {
    const d = CallDriver.answered(TOOLS);
    d.caller('Check 1 and 2, then book.');
    expect(
      d.turnDone(
        1,
        tools(balance('c1', '1'), balance('c2', '2'), { id: 'c3', name: 'book', arguments: '{}' }),
      ),
    ).toEqual([
      'callTool get_balance {"account":"1"} (turn 1 step 0 #0)',
      'callTool get_balance {"account":"2"} (turn 1 step 0 #1)',
      'callTool book {} (turn 1 step 0 #2)',
    ]);
    expect(d.toolDone(1, 0, 1, { ok: true, content: 'two', ms: 5 })).toEqual([]);
    expect(d.toolDone(1, 0, 1, { ok: true, content: 'again', ms: 5 })).toEqual([]); // a repeat
    expect(d.toolDone(1, 0, 2, { ok: true, content: 'booked', ms: 5 })).toEqual([]);
    expect(d.toolDone(1, 0, 0, { ok: true, content: 'one', ms: 5 })).toEqual(['startTurn 1 step 1']);
    const messages = context(d);
    const [assistant, ...results] = messages.slice(-4);
    expect(assistant).toMatchObject({ role: 'assistant', content: null });
    expect(assistant?.role === 'assistant' && assistant.tool_calls?.map((c) => c.id)).toEqual([
      'c1',
      'c2',
      'c3',
    ]);
    expect(results).toEqual([
      { role: 'tool', tool_call_id: 'c1', content: 'one' },
      { role: 'tool', tool_call_id: 'c2', content: 'two' },
      { role: 'tool', tool_call_id: 'c3', content: 'booked' },
    ]);
  });

  it('runs the tools of a reply that also ends the call, and lets the model decide after their results', () => {
    const d = CallDriver.answered(TOOLS);
    d.caller('Book it and goodbye.');
    expect(
      d.turnDone(1, {
        kind: 'completed',
        endCall: true,
        toolCalls: [{ id: 'b', name: 'book', arguments: '{}' }],
      }),
    ).toEqual(['callTool book {} (turn 1 step 0 #0)']);
    expect(d.s.ending).toBeUndefined();
    expect(d.toolDone(1, 0, 0, { ok: true, content: 'booked', ms: 5 })).toEqual(['startTurn 1 step 1']);
    // The next step's own end_call ends it, with its farewell.
    d.sentence(1, 0, 'Booked. Goodbye!', 1, 1);
    d.drain();
    d.turnDone(1, { kind: 'completed', endCall: true });
    expect(d.s.ending?.reason).toBe('agent-ended');
  });

  it('answers a tool the profile does not define at once, with an error for the model', () => {
    const d = CallDriver.answered(TOOLS);
    d.caller('Delete my account.');
    expect(d.turnDone(1, tools({ id: 'x', name: 'delete_account', arguments: '{}' }))).toEqual([
      'startTurn 1 step 1',
    ]);
    const messages = context(d);
    expect(messages.at(-1)).toEqual({
      role: 'tool',
      tool_call_id: 'x',
      content: 'error: there is no tool named delete_account',
    });
  });

  it('stops going back to the model after MAX_TOOL_STEPS steps of tool calls', () => {
    const d = CallDriver.answered(TOOLS);
    d.caller('Balance?');
    for (let step = 0; step < MAX_TOOL_STEPS - 1; step++) {
      expect(d.turnDone(1, tools(balance(`c${step}`)))).toEqual([
        `callTool get_balance {"account":"42"} (turn 1 step ${step} #0)`,
      ]);
      d.toolDone(1, step, 0, { ok: true, content: '{}', ms: 1 });
    }
    // Nothing said in all those steps: the caller hears the apology, not silence.
    expect(d.turnDone(1, tools(balance('again')))).toEqual([`say ${d.s.settings.apologyText} @sp-1`]);
    expect(d.s.turn).toBeUndefined();
  });
});

describe('a slow tool', () => {
  it('gets its filler said once, after the delay, and the silence timer waits for it', () => {
    const d = CallDriver.answered({ ...TOOLS, silenceMs: 5000 });
    d.caller('Balance for 42?');
    d.turnDone(1, tools(balance()));
    expect(d.advance(999)).toEqual([]);
    expect(d.advance(1)).toEqual(['say One moment while I check that. @sp-1']);
    d.drain();
    // Long after the silence timeout: no reprompt while the tool runs (only the minute's check with VoIPBIN).
    d.advanceReconciling(60_000);
    expect(d.log.filter((l) => l.startsWith('say')).at(-1)).toBe('say One moment while I check that. @sp-1');
    expect(d.toolDone(1, 0, 0, { ok: true, content: '12', ms: 61_000 })).toEqual(['startTurn 1 step 1']);
    // The model reads the result last, after the filler that was said while it ran.
    expect(context(d).slice(-2)).toEqual([
      fillerCalling('call_a'),
      { role: 'tool', tool_call_id: 'call_a', content: '12' },
    ]);
    // A second slow tool in the same turn: no second filler.
    d.turnDone(1, tools(balance('c2')));
    expect(d.advance(5000)).toEqual([]);
    expect(d.s.messages.filter((m) => m.kind === 'filler')).toHaveLength(1);
  });

  it('says nothing when the tool is back before the delay', () => {
    const d = CallDriver.answered(TOOLS);
    d.caller('Balance for 42?');
    d.turnDone(1, tools(balance()));
    d.advance(900);
    d.toolDone(1, 0, 0, { ok: true, content: '12', ms: 900 });
    expect(d.advance(5000)).toEqual([]);
    expect(d.log.some((l) => l.includes('One moment'))).toBe(false);
  });

  it('has no filler when its profile gives none', () => {
    const d = CallDriver.answered(TOOLS);
    d.caller('Book it.');
    d.turnDone(1, tools({ id: 'b', name: 'book', arguments: '{}' }));
    expect(d.advance(10_000)).toEqual([]);
  });

  it('is let finish by a barge-in, and the caller is answered with its result in context', () => {
    const d = CallDriver.answered(TOOLS);
    d.caller('Balance for 42?');
    d.turnDone(1, tools(balance()));
    d.advance(1000);
    d.drain(); // the filler was sent
    // The caller talks over the filler: the turn is cancelled, but the tool keeps running.
    const cut = d.caller('Actually also tell me my last payment.');
    expect(cut).toContain('cancelTurn 1');
    expect(cut).not.toContain('startTurn 2');
    expect(d.s.toolsRunning).toBe(1);
    const before = d.log.length;
    d.advanceReconciling(60_000); // no reprompt, no turn, while it runs
    expect(d.log.slice(before)).toEqual(['reconcile']);
    expect(d.toolDone(1, 0, 0, { ok: true, content: '{"balance":12}', ms: 61_000 })).toEqual(['startTurn 2']);
    // The filler was said while the tool ran: before its call, so the model reads the result after it.
    expect(context(d).slice(-3)).toEqual([
      fillerCalling('call_a'),
      { role: 'tool', tool_call_id: 'call_a', content: '{"balance":12}' },
      { role: 'user', content: 'Actually also tell me my last payment.' },
    ]);
  });

  it('keeps the call from continuing as new until it is in', () => {
    const d = CallDriver.answered(TOOLS);
    d.caller('Balance for 42?');
    d.turnDone(1, tools(balance()));
    d.caller('Hello?'); // barge-in: no turn, the tool still runs
    call.onHistoryFull(d.s, d.now);
    d.advance(30_000);
    expect(call.readyToRollOver(d.s, d.now)).toBe(false);
  });
});

describe('the context a turn is given', () => {
  it('never begins with a tool result cut from the reply that called it', () => {
    const d = CallDriver.answered({ ...TOOLS, contextMessages: 2 });
    d.caller('Balance?');
    d.turnDone(1, tools(balance('c1'), balance('c2')));
    d.toolDone(1, 0, 0, { ok: true, content: 'a', ms: 1 });
    d.toolDone(1, 0, 1, { ok: true, content: 'b', ms: 1 });
    const messages = context(d);
    expect(messages[0]).toMatchObject({
      role: 'assistant',
      tool_calls: [{ id: 'c1' }, { id: 'c2' }],
    });
    expect(messages).toHaveLength(3);
  });
});

describe('transfer_call', () => {
  const transfer = (): ToolCallRequest => ({
    id: 't1',
    name: 'transfer_call',
    arguments: '{"reason":"asked"}',
  });
  /** A caller asked for a person, and the model called `transfer_call`. */
  const askedForAPerson = (): CallDriver => {
    const d = CallDriver.answered({ ...TOOLS, ...TRANSFER });
    d.caller('A human please.');
    d.turnDone(1, tools(transfer()));
    return d;
  };

  it('says the reply and the line, then transfers; the call leaving ends it as transferred', () => {
    const d = CallDriver.answered({ ...TOOLS, ...TRANSFER });
    d.caller('Can I talk to a person?');
    d.sentence(1, 0, 'Of course.');
    expect(d.turnDone(1, tools(transfer()))).toEqual([]);
    expect(d.drain()).toEqual(['Of course.', 'Let me put you through.']);
    // The line plays out before the transfer.
    const plays = d.s.speech.playbackEndsAt - d.now;
    expect(d.advance(plays - 1)).toEqual([]);
    expect(d.advance(1)).toEqual(['transfer +15550001111']);
    expect(d.transferDone({ ok: true, content: 'transferred to +15550001111', ms: 40 })).toEqual([
      'reconcile',
    ]);
    expect(d.reconciled({ call: 'hangup', transcripts: [] })).toEqual(['finish tr-1 sp-1']);
    expect(call.summary(d.s).endReason).toBe('transferred');
    expect(d.log.filter((l) => l === 'hangup')).toEqual([]);
  });

  it('goes back to the model when the transfer fails, so the caller hears why', () => {
    const d = askedForAPerson();
    d.drain();
    d.advance(10_000);
    expect(d.transferDone({ ok: false, error: 'the transfer failed: answered 400', ms: 30 })).toEqual([
      'startTurn 2',
    ]);
    expect(d.s.ending).toBeUndefined();
    const messages = context(d);
    expect(messages.at(-1)).toEqual({
      role: 'tool',
      tool_call_id: 't1',
      content: 'error: the transfer failed: answered 400',
    });
  });

  it('goes back to the model when VoIPBIN accepted the transfer but the call is still with the agent', () => {
    const d = askedForAPerson();
    d.drain();
    d.advance(10_000);
    expect(d.transferDone({ ok: true, content: 'transferred to +15550001111', ms: 40 })).toEqual([
      'reconcile',
    ]);
    // A blind transfer hangs the call up before VoIPBIN answers: progressing means it did not happen.
    expect(d.reconciled({ call: 'progressing', transcripts: [] })).toEqual(['startTurn 2']);
    expect(d.s.ending).toBeUndefined();
    expect(context(d).at(-1)).toEqual({
      role: 'tool',
      tool_call_id: 't1',
      content: 'error: VoIPBIN accepted the transfer, but the call is still with the agent',
    });
  });

  it('does not take a reconcile that read the call before the transfer for its answer', () => {
    const d = askedForAPerson();
    d.drain();
    d.s.reconcile.nextAt = d.now + 500;
    // The minute's check goes out while the line plays, before the transfer.
    expect(d.advance(500)).toEqual(['reconcile']);
    expect(d.advance(5000)).toEqual(['transfer +15550001111']);
    expect(d.transferDone({ ok: true, content: 'transferred', ms: 40 })).toEqual([]);
    // Its answer (read before the transfer) does not count; the one after it does.
    expect(d.reconciled({ call: 'progressing', transcripts: [] })).toEqual(['reconcile']);
    expect(d.reconciled({ call: 'terminating', transcripts: [] })).toEqual(['finish tr-1 sp-1']);
    expect(call.summary(d.s).endReason).toBe('transferred');
  });

  it('ends as the caller hanging up when they leave before the transfer went out', () => {
    const d = askedForAPerson();
    expect(d.status('hangup')).toEqual(['finish tr-1 sp-1']);
    expect(call.summary(d.s).endReason).toBe('caller-hangup');
  });

  it('is refused to a profile without `transfer`: the model hears it cannot', () => {
    const d = CallDriver.answered(TOOLS);
    d.caller('A human please.');
    expect(d.turnDone(1, tools(transfer()))).toEqual(['startTurn 1 step 1']);
    const messages = context(d);
    expect(messages.at(-1)).toMatchObject({
      content: 'error: transferring is not allowed on this call',
    });
  });
});
