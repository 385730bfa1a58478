// Speaking turns (profile `replySpeech: direct`): the LLM activity says its own sentences, and the
// workflow learns what was said from its result or from the flush that cut it off.
import { DEFAULT_AGENT_CONFIG, type AgentProfile } from '../../src/agent-config';
import * as call from '../../workflows/call-state';
import { estimatePlaybackMs } from '../../workflows/playback';
import { CallDriver, SETTINGS } from '../helpers/call-driver';

const speaking = () => CallDriver.answered({ turnSpeaks: true });

function startOf(d: CallDriver): Extract<call.Command, { kind: 'startTurn' }> {
  const start = d.last.find((c) => c.kind === 'startTurn');
  if (start?.kind !== 'startTurn') throw new Error('no turn started');
  return start;
}

const said = (text: string, at: number, outcome: 'done' | 'failed' = 'done') => ({ text, at, outcome });

/**
 * "What is my balance?" answered with "Let me look that up for you.", cut off by "Wait, cancel
 * that.": the conversation (the new turn's line, empty until it ends, last) and what the next turn
 * reads.
 */
function expectCutOff(d: CallDriver): void {
  expect(d.s.messages.slice(1, -1).map((m) => [m.role, m.text, m.interrupted ?? false])).toEqual([
    ['caller', 'What is my balance?', false],
    ['agent', 'Let me look that up for you.', true],
    ['caller', 'Wait, cancel that.', false],
  ]);
  expect(startOf(d).context.messages.slice(1)).toEqual([
    { role: 'user', content: 'What is my balance?' },
    { role: 'assistant', content: 'Let me look that up for you.' },
    { role: 'user', content: 'Wait, cancel that.' },
  ]);
}

describe('a speaking turn', () => {
  it('starts with the session to say its sentences on; its result puts them in the conversation', () => {
    const d = speaking();
    const heardAt = d.now;
    expect(d.caller('I need help with my bill.')).toEqual(['startTurn 1 speaking @sp-1']);
    expect(startOf(d).context.messages.at(-1)).toEqual({
      role: 'user',
      content: 'I need help with my bill.',
    });
    // Nothing is sent by the workflow: the activity says the sentences.
    d.now += 900;
    const replied = d.turnDone(1, {
      kind: 'completed',
      endCall: false,
      spoken: { said: [said('Sure.', heardAt + 300), said('What is your account number?', heardAt + 350)] },
    });
    expect(replied).toEqual([]);
    expect(d.s.phase).toBe('listening');
    expect(call.view(d.s).messages.map((m) => [m.role, m.text, m.kind])).toEqual([
      ['agent', SETTINGS.greeting, 'greeting'],
      ['caller', 'I need help with my bill.', undefined],
      ['agent', 'Sure. What is your account number?', 'reply'],
    ]);
    // The caller waited until the first sentence was sent; the reply plays from when it was sent.
    expect(d.s.firstSentenceLatenciesMs).toEqual([300]);
    expect(d.s.speech.playbackEndsAt).toBe(
      heardAt + 300 + estimatePlaybackMs('Sure.') + estimatePlaybackMs('What is your account number?'),
    );
    expect(d.log.filter((l) => l.startsWith('say') || l.startsWith('flush'))).toEqual([
      `say ${SETTINGS.greeting} @sp-1`,
    ]);
  });

  it('waits for what the workflow is sending (a flush over the greeting) before it starts', () => {
    const d = new CallDriver({ turnSpeaks: true });
    d.status('progressing');
    d.sessions();
    d.drain(); // the greeting plays
    d.now += 500;
    expect(d.caller('Hi, it is Sam.')).toEqual(['flush @sp-1']);
    expect(d.s.phase).toBe('thinking');
    // The turn's own /say must not overtake the flush.
    expect(d.spoken()).toEqual(['startTurn 1 speaking @sp-1']);
  });

  it('a reply that said nothing (a tool call only) leaves no empty line in the conversation', () => {
    const d = speaking();
    d.caller('Hello?');
    d.turnDone(1, { kind: 'completed', endCall: false, spoken: { said: [] } });
    expect(d.s.messages.map((m) => m.role)).toEqual(['agent', 'caller']);
    expect(d.s.speech.lastSaid?.kind).toBe('greeting');
  });
});

describe("the worker's clock", () => {
  it('sentence times are placed on the workflow clock by when the result was reported', () => {
    const d = speaking();
    d.caller('What is my balance?');
    const heardAt = d.now;
    d.now += 1000;
    // A worker whose clock is an hour behind: sent at its 100, reported at its 400.
    const behind = heardAt - 3_600_000;
    d.turnDone(1, {
      kind: 'completed',
      endCall: false,
      spoken: { said: [said('Ten dollars.', behind + 100)], at: behind + 400 },
    });
    // Sent 300 ms before the report reached the workflow (at heardAt + 1000).
    expect(d.s.firstSentenceLatenciesMs).toEqual([700]);
    expect(d.s.speech.playbackEndsAt).toBe(heardAt + 700 + estimatePlaybackMs('Ten dollars.'));
  });
});

describe("the worker's clock, for a turn cut off", () => {
  it("what the flush reports is placed on the workflow's clock too", () => {
    const d = speaking();
    d.caller('What is my balance?');
    const heardAt = d.now;
    d.now += 2000;
    d.caller('Wait.');
    d.now += 100;
    // The flush's worker: an hour behind; the sentence sent 1,500 ms before its report.
    const behind = heardAt - 3_600_000;
    d.flushed({ spoken: { said: [said('Let me see.', behind)], at: behind + 1500 }, flushed: true });
    expect(d.s.firstSentenceLatenciesMs).toEqual([600]);
  });
});

describe('a speaking turn that ends the call', () => {
  it('with its own farewell: no goodbye of the profile, the hangup once it has played', () => {
    const d = speaking();
    d.caller('That is all, bye.');
    expect(
      d.turnDone(1, { kind: 'completed', endCall: true, spoken: { said: [said('Goodbye, Sam!', d.now)] } }),
    ).toEqual([]);
    expect(d.advance(10_000)).toEqual(['hangup']);
  });

  it("without a word: the profile's goodbye", () => {
    const d = speaking();
    d.caller('Bye.');
    expect(d.turnDone(1, { kind: 'completed', endCall: true, spoken: { said: [] } })).toEqual([
      `say ${SETTINGS.goodbyeText} @sp-1`,
    ]);
  });
});

describe('cutting a speaking turn off', () => {
  it('a barge-in: the turn is cancelled and flushed as a turn, and the next one waits for what it said', () => {
    const d = speaking();
    d.caller('What is my balance?');
    const t = d.now;
    d.now += 2000;
    expect(d.caller('Wait, cancel that.')).toEqual(['cancelTurn 1', 'flushTurn 1 @sp-1']);
    expect(d.s.bargeIns).toBe(1);
    // The caller's turn is there, waiting for the flush.
    expect(d.s.turn).toMatchObject({ id: 2, speaks: { waiting: true } });
    // The flush says what the turn had said when it was cut off; then the next turn starts.
    expect(
      d.flushed({ spoken: { said: [said('Let me look that up for you.', t + 300)] }, flushed: true }),
    ).toEqual(['startTurn 2 speaking @sp-1']);
    // The caller waited 300 ms for its first sentence, cut off or not.
    expect(d.s.firstSentenceLatenciesMs).toEqual([300]);
    expect(d.s.messages[0]).toMatchObject({ role: 'agent', text: SETTINGS.greeting });
    expectCutOff(d);
    // The cut turn's own result comes later: said once, nothing started or said again.
    expect(
      d.turnDone(1, {
        kind: 'cancelled',
        spoken: { said: [said('Let me look that up for you.', t + 300)] },
      }),
    ).toEqual([]);
    expect(d.s.messages.filter((m) => m.text === 'Let me look that up for you.')).toHaveLength(1);
    expect(d.s.cut).toBeUndefined();
  });

  it('when its activity had already ended, its result says what it said: the next turn waits for it', () => {
    const d = speaking();
    d.caller('What is my balance?');
    d.caller('Wait, cancel that.');
    expect(d.flushed({ flushed: true })).toEqual([]);
    expect(d.s.turn?.speaks?.waiting).toBe(true);
    expect(
      d.turnDone(1, {
        kind: 'completed',
        endCall: false,
        spoken: { said: [said('Ten dollars.', d.now)] },
      }),
    ).toEqual(['startTurn 2 speaking @sp-1']);
    expect(d.s.messages.map((m) => [m.text, m.interrupted ?? false])).toContainEqual(['Ten dollars.', true]);
  });

  it('the result before the flush: what it said is taken once, and the flush still comes first', () => {
    const d = speaking();
    d.caller('What is my balance?');
    d.caller('Wait, cancel that.');
    expect(d.turnDone(1, { kind: 'cancelled', spoken: { said: [said('Ten dollars.', d.now)] } })).toEqual([]);
    expect(d.flushed({ spoken: { said: [said('Ten dollars.', d.now)] }, flushed: true })).toEqual([
      'startTurn 2 speaking @sp-1',
    ]);
    expect(d.s.messages.filter((m) => m.text.includes('Ten dollars.'))).toMatchObject([
      { role: 'agent', text: 'Ten dollars.', interrupted: true },
    ]);
  });

  it('a turn cut off before it said anything leaves no line, and the flush is told nothing plays', () => {
    const d = speaking();
    d.now += 20_000; // the greeting has long finished playing
    d.caller('What time do you open?');
    expect(d.caller('On Sundays.')).toEqual(['cancelTurn 1', 'flushTurn 1 @sp-1']);
    expect(d.flushed({ spoken: { said: [] }, flushed: false })).toEqual(['startTurn 2 speaking @sp-1']);
    expect(startOf(d).context.messages.slice(-1)).toEqual([
      { role: 'user', content: 'What time do you open? On Sundays.' },
    ]);
    // Only the new turn's own line, in flight, is empty.
    expect(d.s.messages.map((m) => [m.role, m.text])).toEqual([
      ['agent', SETTINGS.greeting],
      ['caller', 'What time do you open?'],
      ['caller', 'On Sundays.'],
      ['agent', ''],
    ]);
  });

  it('a turn still waiting to start is only dropped: there is nothing to flush', () => {
    const d = new CallDriver({ turnSpeaks: true });
    d.status('progressing');
    d.sessions();
    d.drain();
    d.now += 500;
    d.caller('Hi.'); // the flush over the greeting is in flight: the turn waits
    // Its activity never started: no flush of it.
    expect(d.caller('Hello, anyone there?')).toEqual(['cancelTurn 1']);
    expect(d.spoken()).toEqual(['startTurn 2 speaking @sp-1']);
    expect(d.log).not.toContain('startTurn 1 speaking @sp-1');
  });

  it('the call reaching its maximum length: the turn is flushed, then the goodbye', () => {
    const d = speaking();
    d.caller('Tell me everything.');
    const lines = d.advance(SETTINGS.maxCallMs);
    expect(lines.slice(-2)).toEqual(['cancelTurn 1', 'flushTurn 1 @sp-1']);
    expect(d.flushed({ spoken: { said: [said('Well.', d.now)] }, flushed: true })).toEqual([
      `say ${SETTINGS.goodbyeText} @sp-1`,
    ]);
  });

  it('no rollover while a cut-off turn is not yet accounted for', () => {
    const d = speaking();
    d.caller('What is my balance?');
    d.caller('Wait.');
    d.s.rollover = {};
    d.turnDone(2, { kind: 'completed', endCall: false });
    expect(call.readyToRollOver(d.s, d.now + 60_000)).toBe(false);
  });
});

describe('a speaking turn when the caller hangs up', () => {
  it('its result, which comes after the call ended, still puts what it said in the conversation', () => {
    const d = speaking();
    d.caller('What is my balance?');
    const heardAt = d.now;
    d.now += 600;
    expect(d.status('hangup')).toEqual(['cancelTurn 1', 'finish tr-1 sp-1']);
    // Nothing is flushed on a call that is gone; the turn, cancelled, returns what it said.
    d.now += 200;
    d.turnDone(1, {
      kind: 'cancelled',
      spoken: { said: [said('Your balance is ten dollars.', heardAt + 300)] },
    });
    expect(call.summary(d.s).messages.map((m) => [m.role, m.text])).toEqual([
      ['agent', SETTINGS.greeting],
      ['caller', 'What is my balance?'],
      ['agent', 'Your balance is ten dollars.'],
    ]);
    expect(d.s.firstSentenceLatenciesMs).toEqual([300]);
  });

  it('a turn that had said nothing leaves no empty line', () => {
    const d = speaking();
    d.caller('What is my balance?');
    d.status('hangup');
    d.turnDone(1, { kind: 'cancelled', spoken: { said: [] } });
    expect(call.summary(d.s).messages.map((m) => m.role)).toEqual(['agent', 'caller']);
  });
});

describe('a speaking turn that could not say everything', () => {
  it('the speaking session gone (404): a new one, and the rest of the reply said on it by the workflow', () => {
    const d = speaking();
    d.caller('What is my balance?');
    const t = d.now;
    expect(
      d.turnDone(1, {
        kind: 'completed',
        endCall: false,
        spoken: { said: [said('Let me see.', t + 100)], unsaid: ['It is ten dollars.', 'Anything else?'] },
      }),
    ).toEqual(['createSpeaking', 'reconcile']);
    expect(d.step((s, now) => call.onSpeakingCreated(s, 'sp-2', now))).toEqual([
      'say It is ten dollars. @sp-2',
    ]);
    d.drain();
    expect(d.s.messages.at(-1)).toMatchObject({
      role: 'agent',
      text: 'Let me see. It is ten dollars. Anything else?',
    });
  });

  it('nothing said before the session was gone: the first sentence on the new one ends the wait', () => {
    const d = speaking();
    d.caller('What is my balance?');
    d.turnDone(1, { kind: 'completed', endCall: false, spoken: { said: [], unsaid: ['Ten dollars.'] } });
    d.now += 200;
    d.step((s, now) => call.onSpeakingCreated(s, 'sp-2', now));
    d.now += 50;
    d.spoken();
    expect(d.s.firstSentenceLatenciesMs).toEqual([250]);
  });

  it('a failed turn: what it said stays, then the apology', () => {
    const d = speaking();
    d.caller('What is my balance?');
    expect(d.turnDone(1, { kind: 'failed', spoken: { said: [said('Let me see.', d.now)] } })).toEqual([
      `say ${SETTINGS.apologyText} @sp-1`,
    ]);
    expect(d.s.messages.slice(-2).map((m) => m.text)).toEqual(['Let me see.', '']);
  });
});

describe('a speaking turn with tools', () => {
  it('the next step starts once the filler said meanwhile has been sent', () => {
    const d = speaking();
    d.s.settings.tools.lookup = { fillerText: 'One moment.' };
    d.caller('Where is my order?');
    expect(
      d.turnDone(1, {
        kind: 'completed',
        endCall: false,
        toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{}' }],
        spoken: { said: [] },
      }),
    ).toEqual(['callTool lookup {} (turn 1 step 0 #0)']);
    expect(d.advance(SETTINGS.toolFillerDelayMs)).toEqual(['say One moment. @sp-1']);
    // The tool's result is in while the filler's /say is out: the step waits for it.
    expect(d.toolDone(1, 0, 0, { ok: true, content: 'shipped', ms: 1200 })).toEqual([]);
    expect(d.spoken()).toEqual(['startTurn 1 step 1 speaking @sp-1']);
    // The model reads the filler as words of the reply that called the tool, then the result.
    expect(startOf(d).context.messages.slice(-2)).toEqual([
      { role: 'assistant', content: 'One moment.', tool_calls: [expect.objectContaining({ id: 'c1' })] },
      { role: 'tool', tool_call_id: 'c1', content: 'shipped' },
    ]);
    d.turnDone(1, {
      kind: 'completed',
      endCall: false,
      step: 1,
      spoken: { said: [said('It has shipped.', d.now)] },
    });
    expect(d.s.messages.at(-1)).toMatchObject({ role: 'agent', text: 'It has shipped.', kind: 'reply' });
    expect(d.s.turn).toBeUndefined();
  });
});

describe('a speaking turn that cut itself off where the caller was heard (its result: onHearing)', () => {
  it('its result before the words: the barge-in is done, nothing flushed again, the words start the next turn at once', () => {
    const d = speaking();
    d.now += 20_000; // the greeting has long finished playing
    d.caller('What is my balance?');
    const t = d.now;
    d.now += 2000;
    expect(
      d.turnDone(1, {
        kind: 'cancelled',
        spoken: { said: [said('Let me look that up for you.', t + 300)] },
        onHearing: { at: d.now - 20, flushed: true },
      }),
    ).toEqual([]);
    expect(d.s.bargeIns).toBe(1);
    expect(d.s.turn).toBeUndefined();
    expect(d.s.cut).toBeUndefined();
    // Nothing of it plays any more: no flush of the workflow's, no wait for one.
    expect(d.caller('Wait, cancel that.')).toEqual(['startTurn 2 speaking @sp-1']);
    expect(d.s.bargeIns).toBe(1);
    expect(d.s.firstSentenceLatenciesMs).toEqual([300]);
    expectCutOff(d);
  });

  it('its result after the words, which cut it as usual: taken once, one barge-in', () => {
    const d = speaking();
    d.now += 20_000;
    d.caller('What is my balance?');
    expect(d.caller('Wait, cancel that.')).toEqual(['cancelTurn 1', 'flushTurn 1 @sp-1']);
    expect(
      d.turnDone(1, {
        kind: 'cancelled',
        spoken: { said: [said('Ten dollars.', d.now)] },
        onHearing: { at: d.now, flushed: true },
      }),
    ).toEqual([]);
    expect(d.flushed({ flushed: true, onHearing: { at: d.now } })).toEqual(['startTurn 2 speaking @sp-1']);
    expect(d.s.bargeIns).toBe(1);
    expect(d.s.messages.filter((m) => m.text.includes('Ten dollars.'))).toMatchObject([
      { role: 'agent', text: 'Ten dollars.', interrupted: true },
    ]);
  });

  it('nothing of it had been said: no line, nothing to flush', () => {
    const d = speaking();
    d.now += 20_000;
    d.caller('What time do you open?');
    expect(
      d.turnDone(1, { kind: 'cancelled', spoken: { said: [] }, onHearing: { at: d.now, flushed: false } }),
    ).toEqual([]);
    expect(d.caller('On Sundays.')).toEqual(['startTurn 2 speaking @sp-1']);
    expect(d.s.messages.filter((m) => m.role === 'agent').map((m) => m.text)).toEqual([
      SETTINGS.greeting,
      '',
    ]);
  });

  it('what the workflow said before it still plays, which the turn did not know of: the workflow flushes it', () => {
    const d = speaking();
    d.s.settings.tools.lookup = {};
    d.now += 20_000;
    d.caller('Where is my order?');
    d.turnDone(1, {
      kind: 'completed',
      endCall: false,
      toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{}' }],
      spoken: { said: [said('Let me check that order for you right now.', d.now)] },
    });
    expect(d.toolDone(1, 0, 0, { ok: true, content: 'shipped', ms: 100 })).toEqual([
      'startTurn 1 step 1 speaking @sp-1',
    ]);
    d.now += 200; // 'Let me check…' still plays
    expect(
      d.turnDone(1, {
        kind: 'cancelled',
        step: 1,
        spoken: { said: [] },
        onHearing: { at: d.now, flushed: false },
      }),
    ).toEqual(['flush @sp-1']);
    expect(d.s.bargeIns).toBe(1);
  });

  it('the speaking session was gone when it flushed: a new one', () => {
    const d = speaking();
    d.now += 20_000;
    d.caller('What is my balance?');
    expect(
      d.turnDone(1, {
        kind: 'cancelled',
        spoken: { said: [said('Ten dollars.', d.now)] },
        onHearing: { at: d.now, flushed: false, gone: true },
      }),
    ).toContain('createSpeaking');
    expect(d.s.sessions.speakingId).toBeUndefined();
  });
});

describe('a speaking turn cut off while its tools run', () => {
  it('its step has ended and told what it said: an ordinary flush if that still plays, and the next turn starts', () => {
    const d = speaking();
    d.s.settings.tools.lookup = {};
    d.caller('Where is my order?');
    expect(
      d.turnDone(1, {
        kind: 'completed',
        endCall: false,
        toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{}' }],
        spoken: { said: [said('Let me check.', d.now)] },
      }),
    ).toEqual(['callTool lookup {} (turn 1 step 0 #0)']);
    d.now += 300; // 'Let me check.' still plays
    expect(d.caller('Never mind, where is your shop?')).toEqual(['cancelTurn 1', 'flush @sp-1']);
    expect(d.s.cut).toBeUndefined();
    expect(d.spoken()).toEqual([]); // the tool still runs: no new turn before its result
    expect(d.toolDone(1, 0, 0, { ok: true, content: 'shipped', ms: 500 })).toEqual([
      'startTurn 2 speaking @sp-1',
    ]);
  });
});

describe('settings', () => {
  it('replySpeech direct makes turns speak; workflow, or a call begun before it existed, does not', () => {
    const base = DEFAULT_AGENT_CONFIG.profiles.default!;
    expect(call.settingsOf({ ...base, replySpeech: 'direct' }).turnSpeaks).toBe(true);
    expect(call.settingsOf({ ...base, replySpeech: 'workflow' }).turnSpeaks).toBeUndefined();
    const { replySpeech, ...older } = base;
    void replySpeech;
    expect(call.settingsOf(older as AgentProfile).turnSpeaks).toBeUndefined();
  });
});
