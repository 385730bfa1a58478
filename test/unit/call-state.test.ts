import type { AgentProfile } from '../../src/agent-config';
import * as call from '../../workflows/call-state';
import {
  CARRIED_MAX_CHARS,
  CONTEXT_MAX_CHARS,
  GOODBYE_PLAYBACK_CAP_MS,
  RECONCILE_EVERY_MS,
} from '../../workflows/call-state';
import { estimatePlaybackMs } from '../../workflows/playback';
import { CallDriver, SETTINGS } from '../helpers/call-driver';

describe('answering a call', () => {
  it('creates both sessions once the call is progressing, then greets', () => {
    const d = new CallDriver();
    expect(d.status('ringing')).toEqual([]);
    expect(d.status('progressing')).toEqual(['createSessions']);
    expect(d.s.phase).toBe('starting');
    expect(d.sessions()).toEqual([`say ${SETTINGS.greeting} @sp-1`]);
    expect(d.s.phase).toBe('listening');
  });

  it('ignores a repeated or late, older call snapshot', () => {
    const d = new CallDriver();
    d.status('progressing');
    expect(d.status('progressing')).toEqual([]);
    expect(d.status('ringing')).toEqual([]);
    expect(d.status('dialing')).toEqual([]);
    expect(d.s.status).toBe('progressing');
    expect(d.log).toEqual(['createSessions']);
  });

  it('leaves a call alone that is not answered within the answer timeout', () => {
    const d = new CallDriver();
    d.status('ringing');
    // Still ringing, VoIPBIN confirms every minute (a lost call_progressing would be found).
    for (let minute = 1; minute < 5; minute++) {
      expect(d.advance(RECONCILE_EVERY_MS)).toEqual(['reconcile']);
      d.reconciled({ call: 'ringing', transcripts: [] });
    }
    expect(d.advance(call.ANSWER_TIMEOUT_MS - d.now - 1)).toEqual([]);
    expect(d.advance(1)).toEqual(['finish - -']);
    expect(call.summary(d.s)).toMatchObject({ endReason: 'not-answered', phase: 'ended' });
  });

  it('a call that hangs up before it is answered ends with no session', () => {
    const d = new CallDriver();
    d.status('ringing');
    expect(d.status('hangup')).toEqual(['finish - -']);
    expect(d.s.ended?.reason).toBe('caller-hangup');
  });

  it('a session that fails to start: hang up, stop the other one, end with error', () => {
    const d = new CallDriver();
    d.status('progressing');
    expect(d.sessions({ transcribeId: 'tr-1' })).toEqual(['hangup']);
    expect(d.step((s, now) => call.onHangupDone(s, 'terminating', now))).toEqual(['finish tr-1 -']);
    expect(call.summary(d.s)).toMatchObject({ endReason: 'error', messages: [] });
  });

  it('a hangup while the sessions are being created stops them once they exist', () => {
    const d = new CallDriver();
    d.status('progressing');
    expect(d.status('hangup')).toEqual([]);
    expect(d.sessions()).toEqual(['finish tr-1 sp-1']);
    expect(d.s.ended?.reason).toBe('caller-hangup');
  });
});

describe('a turn', () => {
  it('answers a caller final: the model sees the conversation, each sentence goes to /say in order', () => {
    const d = CallDriver.answered();
    expect(d.caller('I need help with my bill.')).toEqual(['startTurn 1']);
    const start = d.last[0] as Extract<call.Command, { kind: 'startTurn' }>;
    expect(start.context.earlier).toBe(0);
    expect(start.context.messages).toEqual([
      { role: 'assistant', content: SETTINGS.greeting },
      { role: 'user', content: 'I need help with my bill.' },
    ]);
    expect(d.s.phase).toBe('thinking');
    d.now += 400;
    expect(d.sentence(1, 0, 'Sure.')).toEqual(['say Sure. @sp-1']);
    expect(d.sentence(1, 1, 'What is your account number?')).toEqual([]); // queued behind the say in flight
    d.spoken();
    d.now += 100;
    d.spoken();
    d.turnDone(1);
    expect(d.s.phase).toBe('listening');
    const v = call.view(d.s);
    expect(v.messages.map((m) => [m.role, m.text, m.kind])).toEqual([
      ['agent', SETTINGS.greeting, 'greeting'],
      ['caller', 'I need help with my bill.', undefined],
      ['agent', 'Sure. What is your account number?', 'reply'],
    ]);
    expect(v.turns).toBe(1);
    expect(d.s.firstSentenceLatenciesMs).toEqual([400]);
  });

  it('our own speech coming back as `out` transcripts is never a turn, never a barge-in', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    d.sentence(1, 0, 'Hello there.');
    expect(d.caller('Hello there.', { direction: 'out' })).toEqual([]);
    expect(d.s.bargeIns).toBe(0);
    expect(d.s.turns).toBe(1);
  });

  it('a transcript repeated (webhook and WebSocket, retries) is heard once; empty text is nothing', () => {
    const d = CallDriver.answered();
    d.caller('It is 12345.', { id: 'dup' });
    expect(d.caller('It is 12345.', { id: 'dup' })).toEqual([]);
    expect(d.caller('   ')).toEqual([]);
    expect(d.s.messages.filter((m) => m.role === 'caller')).toHaveLength(1);
  });

  it('the model failing gets the apology instead of silence', () => {
    const d = CallDriver.answered();
    d.caller('Hello?');
    expect(d.turnDone(1, { kind: 'failed' })).toEqual([`say ${SETTINGS.apologyText} @sp-1`]);
    d.drain();
    expect(d.s.messages.at(-1)).toEqual({
      role: 'agent',
      kind: 'apology',
      text: SETTINGS.apologyText,
      at: d.now,
    });
    expect(d.s.phase).toBe('listening');
  });

  it('a turn outcome of a turn that is no longer current changes nothing (no apology for a cancelled turn)', () => {
    const d = CallDriver.answered();
    d.caller('What is my balance?');
    d.caller('Wait, no.'); // cancels turn 1, starts turn 2
    expect(d.turnDone(1, { kind: 'failed' })).toEqual([]);
    expect(d.turnDone(1, { kind: 'cancelled' })).toEqual([]);
    expect(d.s.turn?.id).toBe(2);
    expect(d.log).not.toContain(`say ${SETTINGS.apologyText} @sp-1`);
  });
});

describe('sentences from the LLM activity', () => {
  it('drops a sentence of another turn, a repeat and a gap', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    expect(d.sentence(2, 0, 'Wrong turn.')).toEqual([]);
    expect(d.sentence(1, 1, 'Too early.')).toEqual([]);
    expect(d.sentence(1, 0, 'One.')).toEqual(['say One. @sp-1']);
    expect(d.sentence(1, 0, 'One again.')).toEqual([]);
    d.drain();
    expect(d.s.messages.at(-1)?.text).toBe('One.');
  });

  it('a later attempt (failover) continues where the received sentences end, and is then the only one heard', () => {
    const d = CallDriver.answered();
    d.caller('Directions please.');
    d.sentence(1, 0, 'Go north.');
    d.sentence(1, 1, 'Pass the bank.');
    d.sentence(1, 2, 'Then turn left.', 2);
    // A late sentence of the dead worker's attempt is never spliced in.
    d.sentence(1, 3, 'Old ending.', 1);
    d.sentence(1, 3, 'It is on the right.', 2);
    expect(d.drain()).toEqual(['Go north.', 'Pass the bank.', 'Then turn left.', 'It is on the right.']);
    expect(d.log).toContain('reconcile'); // a failover is a gap: compare notes with VoIPBIN
  });

  it('a later attempt that continues another prefix is dropped, not spliced', () => {
    const d = CallDriver.answered();
    d.caller('Directions please.');
    d.sentence(1, 0, 'Go north.');
    d.sentence(1, 1, 'Pass the bank.');
    expect(d.sentence(1, 1, 'Walk past the bank.', 2)).toEqual([]);
    expect(d.sentence(1, 2, 'Then left.', 2)).toEqual([]);
    // The first attempt goes on being heard: one generation, whole.
    expect(d.sentence(1, 2, 'Then turn left.', 1)).toEqual([]);
    expect(d.drain()).toEqual(['Go north.', 'Pass the bank.', 'Then turn left.']);
  });
});

describe('barge-in', () => {
  it('while the agent speaks: cancel the turn, flush after the say in flight, never a late sentence of it', () => {
    const d = CallDriver.answered();
    d.caller('What is my balance?');
    d.sentence(1, 0, 'Let me look that up for you.');
    d.sentence(1, 1, 'Your balance is ten dollars.'); // queued
    expect(d.caller('Wait, cancel that.')).toEqual(['cancelTurn 1', 'startTurn 2']);
    expect(d.s.bargeIns).toBe(1);
    // The say in flight completes; then the flush, never the queued sentence.
    expect(d.spoken()).toEqual(['flush @sp-1']);
    expect(d.sentence(1, 2, 'Anything else?')).toEqual([]);
    d.spoken();
    expect(d.sentence(2, 0, 'Of course, cancelling that.')).toEqual([
      'say Of course, cancelling that. @sp-1',
    ]);
    d.drain();
    expect(d.log.filter((l) => l.startsWith('say') || l.startsWith('flush'))).toEqual([
      `say ${SETTINGS.greeting} @sp-1`,
      'say Let me look that up for you. @sp-1',
      'flush @sp-1',
      'say Of course, cancelling that. @sp-1',
    ]);
    expect(d.s.messages.map((m) => [m.role, m.text, m.interrupted ?? false])).toEqual([
      ['agent', SETTINGS.greeting, false],
      ['caller', 'What is my balance?', false],
      ['agent', 'Let me look that up for you.', true],
      ['caller', 'Wait, cancel that.', false],
      ['agent', 'Of course, cancelling that.', false],
    ]);
    // The second turn's model saw what was actually said of the first reply.
    expect(call.llmMessages(d.s).slice(1, 4)).toEqual([
      { role: 'user', content: 'What is my balance?' },
      { role: 'assistant', content: 'Let me look that up for you.' },
      { role: 'user', content: 'Wait, cancel that.' },
    ]);
  });

  it('while the agent thinks (nothing said yet): cancel the turn, no flush, one answer to both', () => {
    const d = CallDriver.answered();
    expect(d.caller('What time do you open?')).toEqual(['startTurn 1']);
    expect(d.caller('On Sundays.')).toEqual(['cancelTurn 1', 'startTurn 2']);
    const start = d.last[1] as Extract<call.Command, { kind: 'startTurn' }>;
    expect(start.context.messages.slice(-1)).toEqual([
      { role: 'user', content: 'What time do you open? On Sundays.' },
    ]);
    expect(d.s.bargeIns).toBe(1);
    expect(d.sentence(1, 0, 'Answer to half.')).toEqual([]);
    expect(d.log).not.toContain('flush @sp-1');
  });

  it('over the greeting still playing: flush, and the greeting is marked interrupted', () => {
    const d = new CallDriver();
    d.status('progressing');
    d.sessions();
    d.drain(); // the greeting was sent and is playing
    d.now += 500;
    expect(d.caller('Hi, it is Sam.')).toEqual(['startTurn 1', 'flush @sp-1']);
    expect(d.s.messages[0]).toMatchObject({ kind: 'greeting', interrupted: true });
  });

  it('after playback ended there is nothing to flush', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    d.sentence(1, 0, 'Hello.');
    d.drain();
    d.turnDone(1);
    d.now += 10_000;
    expect(d.caller('Another question.')).toEqual(['startTurn 2']);
    expect(d.s.bargeIns).toBe(0);
  });
});

describe('turn-taking: backchannels', () => {
  /** The agent in the middle of a two-sentence reply: the first sentence sent and playing. */
  function midReply(settings = {}) {
    const d = CallDriver.answered(settings);
    d.caller('Tell me about your plans.');
    d.sentence(1, 0, 'We have three plans, each with unlimited calls.');
    d.sentence(1, 1, 'The basic plan is ten dollars a month.'); // queued behind the say in flight
    return d;
  }

  it('"Mm-hmm." and "okay" while the agent speaks: nothing cut off, no turn, in the conversation', () => {
    const d = midReply();
    d.now += 300;
    expect(d.caller('Mm-hmm.')).toEqual([]);
    d.spoken(); // the first sentence; the second follows
    d.now += 200;
    expect(d.caller('okay')).toEqual([]);
    expect(d.drain()).toEqual(['The basic plan is ten dollars a month.']);
    d.turnDone(1);
    expect(d.s.bargeIns).toBe(0);
    expect(d.s.turns).toBe(1);
    expect(d.log.filter((l) => l.startsWith('startTurn') || l.startsWith('flush'))).toEqual(['startTurn 1']);
    expect(call.view(d.s).messages.map((m) => [m.role, m.text, m.backchannel ?? false])).toEqual([
      ['agent', SETTINGS.greeting, false],
      ['caller', 'Tell me about your plans.', false],
      [
        'agent',
        'We have three plans, each with unlimited calls. The basic plan is ten dollars a month.',
        false,
      ],
      ['caller', 'Mm-hmm.', true],
      ['caller', 'okay', true],
    ]);
    // The next turn's model sees them, with what the caller says next, as one message.
    d.now += 10_000;
    d.caller('What about the premium one?');
    const start = d.last[0] as Extract<call.Command, { kind: 'startTurn' }>;
    expect(start.context.messages.slice(-1)).toEqual([
      { role: 'user', content: 'Mm-hmm. okay What about the premium one?' },
    ]);
  });

  it('a real interruption still is one: "No wait, stop." cuts the reply off and flushes', () => {
    const d = midReply();
    d.now += 300;
    expect(d.caller('Yeah.')).toEqual([]);
    expect(d.caller('No wait, stop.')).toEqual(['cancelTurn 1', 'startTurn 2']);
    expect(d.spoken()).toEqual(['flush @sp-1']);
    expect(d.s.bargeIns).toBe(1);
  });

  it('"okay" while the agent thinks does not restart its reply', () => {
    const d = CallDriver.answered();
    d.caller('Can you check my order?');
    d.now += 200;
    expect(d.caller('Okay.')).toEqual([]);
    expect(d.sentence(1, 0, 'Sure, one moment.')).toEqual(['say Sure, one moment. @sp-1']);
  });

  it('"okay" said to a silent agent is an answer: a turn of its own', () => {
    const d = CallDriver.answered();
    expect(d.caller('Okay.')).toEqual(['startTurn 1']);
  });

  it('"Yes." over "Are you still there?" is an answer, not a backchannel', () => {
    const d = CallDriver.answered();
    d.advanceReconciling(SETTINGS.silenceMs + 1000);
    expect(d.log).toContain(`say ${SETTINGS.repromptText} @sp-1`);
    d.spoken();
    d.now += 300; // the reprompt is playing
    expect(d.caller('Yes.')).toEqual(['startTurn 1']);
  });

  it('maxWords 0 turns them off; longer than maxWords is never one', () => {
    const off = midReply({ backchannel: { ...SETTINGS.backchannel, maxWords: 0 } });
    expect(off.caller('Okay.')).toEqual(['cancelTurn 1', 'startTurn 2']);
    const two = midReply({ backchannel: { ...SETTINGS.backchannel, maxWords: 2 } });
    expect(two.caller('Yeah, okay.')).toEqual([]);
    expect(two.caller('Yeah okay right.')).toEqual(['cancelTurn 1', 'startTurn 2']);
  });
});

describe('turn-taking: barge-in before the final transcript', () => {
  function midReply(settings = {}) {
    const d = CallDriver.answered(settings);
    d.caller('Tell me about your plans.');
    d.sentence(1, 0, 'We have three plans, each with unlimited calls.');
    d.sentence(1, 1, 'The basic plan is ten dollars a month.');
    d.now += 300;
    return d;
  }
  const speech = (d: CallDriver, text?: string) =>
    d.step((s, now) =>
      call.onCallerSpeech(
        s,
        {
          eventType: text ? 'transcribe_speech_interim' : 'transcribe_speech_started',
          transcribeId: 'tr-1',
          text,
        },
        now,
      ),
    );

  it('`words` (the default): two words that are not a backchannel cut the agent off at once', () => {
    const d = midReply();
    expect(speech(d)).toEqual([]);
    expect(speech(d, 'no')).toEqual([]);
    expect(speech(d, 'mm hmm')).toEqual([]);
    expect(speech(d, 'no wait')).toEqual(['cancelTurn 1']);
    expect(d.spoken()).toEqual(['flush @sp-1']);
    expect(d.s.bargeIns).toBe(1);
    // The final then starts the turn, and cuts nothing more.
    expect(d.caller('No wait, stop.')).toEqual(['startTurn 2']);
    expect(d.s.bargeIns).toBe(1);
  });

  it('`words`: acknowledgements so far, however many, are still listening', () => {
    const d = midReply();
    expect(speech(d, 'yeah yeah okay right')).toEqual([]);
    expect(speech(d, 'yeah yeah okay right but')).toEqual(['cancelTurn 1']);
  });

  it("a late copy of the words of the final's own utterance never cuts off the turn that answers it", () => {
    const d = CallDriver.answered();
    d.caller('Tell me everything about my account.', { createdAt: '2026-11-24T10:00:05.000Z' });
    const late = (at: string) =>
      d.step((s, now) =>
        call.onCallerSpeech(
          s,
          { eventType: 'transcribe_speech_interim', transcribeId: 'tr-1', text: 'Tell me everything', at },
          now,
        ),
      );
    expect(late('2026-11-24T10:00:04.500Z')).toEqual([]);
    expect(late('2026-11-24T10:00:05.000Z')).toEqual([]);
    expect(d.s.turn?.id).toBe(1);
    // Speech after the final: the caller is talking over the agent's thinking.
    expect(late('2026-11-24T10:00:05.200Z')).toEqual(['cancelTurn 1']);
  });

  it('`speech`: the start of speech is enough', () => {
    const d = midReply({ bargeIn: 'speech' });
    expect(speech(d)).toEqual(['cancelTurn 1']);
    expect(d.spoken()).toEqual(['flush @sp-1']);
  });

  it('`final`: speech events change nothing, the final does', () => {
    const d = midReply({ bargeIn: 'final' });
    expect(speech(d)).toEqual([]);
    expect(speech(d, 'no wait stop')).toEqual([]);
    expect(d.caller('No wait, stop.')).toEqual(['cancelTurn 1', 'startTurn 2']);
  });

  it('nothing to cut off: a silent agent, a reprompt playing, or the goodbye', () => {
    const silent = CallDriver.answered();
    expect(speech(silent, 'hello there')).toEqual([]);
    expect(silent.s.bargeIns).toBe(0);
    const reprompted = CallDriver.answered();
    reprompted.advanceReconciling(SETTINGS.silenceMs + 1000);
    reprompted.spoken();
    reprompted.now += 300;
    expect(speech(reprompted, 'yes I am')).toEqual([]);
  });
});

describe('turn-taking: an utterance split at a pause', () => {
  it('a final that looks unfinished waits for the rest; both are answered once, as one', () => {
    const d = CallDriver.answered();
    expect(d.caller('I would like to know')).toEqual([]);
    expect(d.advance(400)).toEqual([]);
    expect(d.caller('your opening hours please?')).toEqual(['startTurn 1']);
    const start = d.last[0] as Extract<call.Command, { kind: 'startTurn' }>;
    expect(start.context.messages.slice(-1)).toEqual([
      { role: 'user', content: 'I would like to know your opening hours please?' },
    ]);
    expect(d.s.bargeIns).toBe(0);
    // Timed from the caller's last words.
    d.now += 300;
    d.sentence(1, 0, 'We open at nine.');
    d.spoken();
    expect(d.s.firstSentenceLatenciesMs).toEqual([300]);
  });

  it('with no rest coming, answers what was said once the wait is over', () => {
    const d = CallDriver.answered();
    expect(d.caller('I need to cancel my')).toEqual([]);
    expect(d.advance(SETTINGS.unfinishedWaitMs - 1)).toEqual([]);
    expect(d.advance(1)).toEqual(['startTurn 1']);
  });

  it('a second unfinished final waits again, from its own arrival', () => {
    const d = CallDriver.answered();
    d.caller('So I was thinking, and');
    d.advance(500);
    expect(d.caller('maybe the')).toEqual([]);
    expect(d.advance(SETTINGS.unfinishedWaitMs - 1)).toEqual([]);
    expect(d.advance(1)).toEqual(['startTurn 1']);
  });

  it('a complete question is answered at once: no wait added', () => {
    const d = CallDriver.answered();
    expect(d.caller('What are your opening hours?')).toEqual(['startTurn 1']);
    const e = CallDriver.answered();
    expect(e.caller('I want to pay my bill.')).toEqual(['startTurn 1']);
  });

  it('an unfinished final still interrupts the agent at once', () => {
    const d = CallDriver.answered();
    d.caller('Tell me about your plans.');
    d.sentence(1, 0, 'We have three plans.');
    d.now += 300;
    expect(d.caller('Actually, I wanted to ask about')).toEqual(['cancelTurn 1']);
    expect(d.spoken()).toEqual(['flush @sp-1']);
    expect(d.advance(SETTINGS.unfinishedWaitMs)).toEqual(['startTurn 2']);
  });

  it('unfinishedWaitMs 0: every final is answered at once', () => {
    const d = CallDriver.answered({ unfinishedWaitMs: 0 });
    expect(d.caller('I would like to know')).toEqual(['startTurn 1']);
  });
});

describe('turn-taking: playback time by the voice pace', () => {
  it('the silence runs from when the sentence has played at the profile pace', () => {
    const text = 'This sentence is exactly forty chars ok.';
    const at = (charsPerSecond: number) => {
      const d = CallDriver.answered({ speechCharsPerSecond: charsPerSecond });
      d.caller('Hi.');
      d.sentence(1, 0, text);
      d.spoken();
      d.turnDone(1);
      return call.nextWakeAt(d.s)! - d.now;
    };
    expect(text.length).toBe(40);
    expect(at(10)).toBe(4000 + SETTINGS.silenceMs);
    expect(at(20)).toBe(2000 + SETTINGS.silenceMs);
  });
});

describe('silence', () => {
  it('reconciles, then reprompts; after maxReprompts says goodbye, lets it play, then hangs up', () => {
    const d = new CallDriver({ maxReprompts: 2 });
    d.status('progressing');
    d.sessions();
    d.drain();
    const greetingEnds = estimatePlaybackMs(SETTINGS.greeting);
    // Silence counts from the end of the greeting's playback.
    expect(d.advance(greetingEnds + SETTINGS.silenceMs - 1)).toEqual([]);
    expect(d.advance(1)).toEqual(['reconcile']);
    expect(d.reconciled()).toEqual([`say ${SETTINGS.repromptText} @sp-1`]);
    d.drain();
    d.advance(estimatePlaybackMs(SETTINGS.repromptText) + SETTINGS.silenceMs);
    expect(d.reconciled()).toEqual([`say ${SETTINGS.repromptText} @sp-1`]);
    d.drain();
    d.advance(estimatePlaybackMs(SETTINGS.repromptText) + SETTINGS.silenceMs);
    expect(d.reconciled()).toEqual([`say ${SETTINGS.goodbyeText} @sp-1`]);
    const goodbyeSentAt = d.now;
    expect(d.spoken()).toEqual([]);
    // The goodbye is allowed to finish playing before the hangup.
    const plays = estimatePlaybackMs(SETTINGS.goodbyeText);
    expect(d.advance(plays - 1)).toEqual([]);
    expect(d.advance(1)).toEqual(['hangup']);
    expect(d.now - goodbyeSentAt).toBe(plays);
    d.step((s, now) => call.onHangupDone(s, 'terminating', now));
    expect(call.summary(d.s)).toMatchObject({ endReason: 'silence', reprompts: 2, turns: 0 });
    expect(d.log.at(-1)).toBe('finish tr-1 sp-1');
    expect(d.s.messages.map((m) => [m.kind, m.interrupted])).toEqual([
      ['greeting', undefined],
      ['reprompt', undefined],
      ['reprompt', undefined],
      ['goodbye', undefined],
    ]);
  });

  it('caller speech resets the reprompt count and the silence', () => {
    const d = CallDriver.answered({ maxReprompts: 1 });
    d.advance(SETTINGS.silenceMs);
    d.reconciled();
    d.drain();
    expect(d.s.reprompts).toBe(1);
    d.caller('Sorry, I am here.');
    expect(d.s.reprompts).toBe(0);
    d.sentence(1, 0, 'Go ahead.');
    d.drain();
    d.turnDone(1);
    expect(d.s.repromptsTotal).toBe(1);
  });

  it('a final missed while nobody listened is answered instead of a reprompt', () => {
    const d = CallDriver.answered();
    d.advance(SETTINGS.silenceMs);
    expect(
      d.reconciled({
        call: 'progressing',
        transcripts: [{ id: 'lost-1', transcribeId: 'tr-1', text: 'Are you open today?', createdAt: null }],
      }),
    ).toEqual(['startTurn 1']);
    expect(d.log).not.toContain(`say ${SETTINGS.repromptText} @sp-1`);
    // Delivered late after all: heard once.
    expect(d.caller('Are you open today?', { id: 'lost-1' })).toEqual([]);
  });

  it('a hangup missed while nobody listened ends the call: no reprompt, nothing said into it', () => {
    const d = CallDriver.answered();
    d.advance(SETTINGS.silenceMs);
    expect(d.reconciled({ call: 'hangup', transcripts: [] })).toEqual(['finish tr-1 sp-1']);
    expect(d.log.filter((l) => l.startsWith('say'))).toEqual([`say ${SETTINGS.greeting} @sp-1`]);
  });

  it('reprompts anyway when VoIPBIN cannot be read', () => {
    const d = CallDriver.answered();
    d.advance(SETTINGS.silenceMs);
    expect(d.reconciled('unreadable')).toEqual([`say ${SETTINGS.repromptText} @sp-1`]);
  });
});

describe('ending', () => {
  it('the model ends the call after its reply: no goodbye of ours, hangup once the reply played', () => {
    const d = CallDriver.answered();
    d.caller('That is all, thanks.');
    d.sentence(1, 0, 'You are welcome, goodbye!');
    d.drain();
    expect(d.turnDone(1, { kind: 'completed', endCall: true })).toEqual([]);
    d.advance(estimatePlaybackMs('You are welcome, goodbye!'));
    expect(d.log.slice(-2)).toEqual(['say You are welcome, goodbye! @sp-1', 'hangup']);
    d.step((s, now) => call.onHangupDone(s, 'terminating', now));
    expect(d.s.ended?.reason).toBe('agent-ended');
  });

  it('the model ends the call without a word: our goodbye', () => {
    const d = CallDriver.answered();
    d.caller('Bye.');
    expect(d.turnDone(1, { kind: 'completed', endCall: true })).toEqual([
      `say ${SETTINGS.goodbyeText} @sp-1`,
    ]);
  });

  it('maxCallSeconds ends the call, even in the middle of a reply', () => {
    const d = CallDriver.answered({ maxCallMs: 50_000, silenceMs: 600_000 });
    d.caller('Tell me a long story.');
    d.sentence(1, 0, 'Once upon a time.');
    d.sentence(1, 1, 'There was a king.');
    const deadline = d.s.deadline;
    expect(deadline).toBe(50_000);
    expect(d.advance(deadline - d.now)).toEqual(['cancelTurn 1']);
    // The say in flight completes; the rest of the reply is dropped, then flush and goodbye.
    expect(d.spoken()).toEqual(['flush @sp-1']);
    expect(d.spoken()).toEqual([`say ${SETTINGS.goodbyeText} @sp-1`]);
    d.spoken();
    d.advance(GOODBYE_PLAYBACK_CAP_MS);
    expect(d.log.filter((l) => l === 'hangup')).toHaveLength(1);
    d.step((s, now) => call.onHangupDone(s, 'terminating', now));
    expect(d.s.ended?.reason).toBe('max-duration');
    expect(d.log).not.toContain('say There was a king. @sp-1');
    expect(
      d.s.messages.filter((m) => m.role === 'agent').map((m) => [m.kind, m.text, m.interrupted]),
    ).toEqual([
      ['greeting', SETTINGS.greeting, undefined],
      ['reply', 'Once upon a time.', true],
      ['goodbye', SETTINGS.goodbyeText, undefined],
    ]);
  });

  it('the goodbye wait is capped', () => {
    const d = CallDriver.answered({ goodbyeText: 'Bye. '.repeat(100).trim(), maxReprompts: 0 });
    d.advance(SETTINGS.silenceMs);
    d.reconciled();
    d.drain();
    expect(d.advance(GOODBYE_PLAYBACK_CAP_MS - 1)).toEqual([]);
    expect(d.advance(1)).toEqual(['hangup']);
  });

  it('caller speech during the goodbye is heard but not answered, and does not cut it', () => {
    const d = CallDriver.answered({ maxReprompts: 0 });
    d.advance(SETTINGS.silenceMs);
    d.reconciled();
    d.drain(); // the goodbye is playing
    expect(d.caller('Wait!')).toEqual([]);
    expect(d.s.messages.at(-1)).toMatchObject({ role: 'caller', text: 'Wait!' });
    expect(d.s.bargeIns).toBe(0);
    expect(d.s.messages.find((m) => m.kind === 'goodbye')?.interrupted).toBeUndefined();
  });

  it('the caller hanging up cancels the turn, drops what is queued, stops both sessions', () => {
    const d = CallDriver.answered();
    d.caller('Tell me everything.');
    d.sentence(1, 0, 'Sure.');
    d.sentence(1, 1, 'Here it goes.');
    expect(d.status('hangup')).toEqual(['cancelTurn 1', 'finish tr-1 sp-1']);
    expect(d.spoken()).toEqual([]);
    expect(d.sentence(1, 2, 'More.')).toEqual([]);
    expect(d.log.filter((l) => l.startsWith('say'))).not.toContain('say Here it goes. @sp-1');
    expect(d.s.ended?.reason).toBe('caller-hangup');
  });

  it('a failed hangup still stops the sessions', () => {
    const d = CallDriver.answered({ maxReprompts: 0 });
    d.advance(SETTINGS.silenceMs);
    d.reconciled();
    d.drain();
    d.advance(GOODBYE_PLAYBACK_CAP_MS);
    expect(d.step((s, now) => call.onHangupDone(s, undefined, now))).toEqual(['finish tr-1 sp-1']);
  });

  it('the workflow cancelled: the turn cancelled and both sessions stopped', () => {
    const d = CallDriver.answered();
    d.caller('Hello.');
    expect(d.step((s, now) => call.onCancelled(s, now))).toEqual(['cancelTurn 1', 'finish tr-1 sp-1']);
    expect(d.s.phase).toBe('ended');
  });
});

describe('speech failures', () => {
  it('/say answering 404: a new speaking session, the sentence said once on it', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    d.sentence(1, 0, 'Hello again.');
    expect(d.spoken('gone')).toEqual(['createSpeaking', 'reconcile']);
    expect(d.step((s, now) => call.onSpeakingCreated(s, 'sp-2', now))).toEqual(['say Hello again. @sp-2']);
    d.spoken();
    expect(d.s.messages.at(-1)?.text).toBe('Hello again.');
    d.status('hangup');
    expect(d.log.at(-1)).toBe('finish tr-1 sp-2');
  });

  it('no new speaking session possible: the call ends at once rather than stay mute', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    d.sentence(1, 0, 'Hello again.');
    d.spoken('gone');
    expect(d.step((s, now) => call.onSpeakingCreated(s, undefined, now))).toEqual(['cancelTurn 1', 'hangup']);
    d.step((s, now) => call.onHangupDone(s, 'terminating', now));
    expect(call.summary(d.s).endReason).toBe('error');
  });

  it('a say that may have been accepted (timeout, 5xx) is never sent again', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    d.sentence(1, 0, 'Hello.');
    d.sentence(1, 1, 'How are you?');
    expect(d.spoken('done')).toEqual(['say How are you? @sp-1']);
    expect(d.log.filter((l) => l === 'say Hello. @sp-1')).toHaveLength(1);
  });

  it('a say refused by VoIPBIN (4xx) is not in the conversation; the rest of its reply is', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    d.sentence(1, 0, 'x'.repeat(6000));
    d.spoken('rejected');
    expect(d.s.messages.map((m) => m.role)).toEqual(['agent', 'caller']);
    d.sentence(1, 1, 'Sorry, in short: yes.');
    d.spoken();
    expect(d.s.messages.map((m) => [m.role, m.text])).toEqual([
      ['agent', SETTINGS.greeting],
      ['caller', 'Hi.'],
      ['agent', 'Sorry, in short: yes.'],
    ]);
    // A refused sentence plays nothing: the agent is not speaking.
    expect(d.s.speech.playbackEndsAt).toBeLessThan(d.now + 2000);
  });
});

describe('reconciliation', () => {
  it('on request, and on a slow timer while the call is up', () => {
    const d = CallDriver.answered({ silenceMs: 3_600_000 });
    expect(d.step((s, now) => call.onReconcileRequested(s, now))).toEqual(['reconcile']);
    // One at a time: a request while one is in flight is made after it (news may have come since).
    expect(d.step((s, now) => call.onReconcileRequested(s, now))).toEqual([]);
    expect(d.reconciled()).toEqual(['reconcile']);
    expect(d.reconciled()).toEqual([]);
    expect(d.advance(RECONCILE_EVERY_MS - 1)).toEqual([]);
    expect(d.advance(1)).toEqual(['reconcile']);
  });

  it('reads transcripts after the newest one seen', () => {
    const d = CallDriver.answered();
    d.caller('One.', { createdAt: '2026-01-15T09:30:15.233415Z' });
    d.caller('Two.', { createdAt: '2026-01-15T09:30:14.1Z' });
    d.step((s, now) => call.onReconcileRequested(s, now));
    const cmd = d.last.at(-1) as Extract<call.Command, { kind: 'reconcile' }>;
    expect(cmd).toEqual({
      kind: 'reconcile',
      transcribeId: 'tr-1',
      sinceMs: Date.parse('2026-01-15T09:30:15.233Z'),
    });
  });

  it('finds the call that was answered while the event was lost', () => {
    const d = new CallDriver();
    d.status('ringing');
    d.step((s, now) => call.onReconcileRequested(s, now));
    expect(d.reconciled({ call: 'progressing', transcripts: [] })).toEqual(['createSessions']);
  });

  it('finds the call gone (404): stops the sessions, says nothing', () => {
    const d = CallDriver.answered();
    d.step((s, now) => call.onReconcileRequested(s, now));
    expect(d.reconciled({ call: 'gone', transcripts: [] })).toEqual(['finish tr-1 sp-1']);
    expect(d.s.ended?.reason).toBe('caller-hangup');
  });

  it('each missed final is heard once, in order, and answered in one turn', () => {
    const d = CallDriver.answered();
    d.step((s, now) => call.onReconcileRequested(s, now));
    d.reconciled({
      call: 'progressing',
      transcripts: [
        { id: 'a', transcribeId: 'tr-1', text: 'Hello?', createdAt: null },
        { id: 'b', transcribeId: 'tr-1', text: 'Anyone there?', createdAt: null },
      ],
    });
    expect(d.log.filter((l) => l.startsWith('startTurn'))).toEqual(['startTurn 1']);
    expect(call.llmMessages(d.s).slice(-2)).toEqual([
      { role: 'assistant', content: SETTINGS.greeting },
      // Back to back, the caller's two finals are one message to the model.
      { role: 'user', content: 'Hello? Anyone there?' },
    ]);
  });
});

describe('deadlines', () => {
  it('every deadline that falls due moves on once handled', () => {
    const d = CallDriver.answered({ maxCallMs: 200_000, maxReprompts: 3 });
    // advance() throws if a due deadline does not move: run a whole silent call through it.
    d.advance(100_000);
    while (d.s.reconcile.inFlight) {
      d.reconciled();
      d.drain();
      d.advance(35_000);
    }
    d.advance(200_000);
    expect(d.s.phase === 'ending' || d.s.phase === 'ended').toBe(true);
    expect(call.nextWakeAt(d.s) === undefined || call.nextWakeAt(d.s)! > d.now).toBe(true);
  });
});

/** One whole exchange: the caller asks, the reply is said and has played. */
function exchange(d: CallDriver, question: string, answer: string): void {
  d.caller(question);
  d.sentence(d.s.turns, 0, answer);
  d.drain();
  d.turnDone(d.s.turns);
  d.now += estimatePlaybackMs(answer) + 500;
}

const startOf = (d: CallDriver) =>
  d.last.find((c) => c.kind === 'startTurn') as Extract<call.Command, { kind: 'startTurn' }>;

describe('a long call: what each turn is given', () => {
  it('only the most recent contextMessages messages, and how many came before', () => {
    const d = CallDriver.answered({ contextMessages: 4 });
    for (let i = 1; i <= 3; i++) exchange(d, `Question ${i}?`, `Answer ${i}.`);
    d.caller('Question 4?');
    // greeting + 3 exchanges + the question: 8 messages, the last 4 given.
    expect(startOf(d).context).toEqual({
      messages: [
        { role: 'assistant', content: 'Answer 2.' },
        { role: 'user', content: 'Question 3?' },
        { role: 'assistant', content: 'Answer 3.' },
        { role: 'user', content: 'Question 4?' },
      ],
      earlier: 4,
    });
  });

  it('fewer when they are long: within CONTEXT_MAX_CHARS, the newest always given', () => {
    const d = CallDriver.answered();
    const long = 'x'.repeat(CONTEXT_MAX_CHARS / 2);
    exchange(d, 'Tell me a long story.', long);
    exchange(d, 'Another one.', long);
    d.caller('And the last?');
    // The greeting, the first question and the first story no longer fit.
    expect(startOf(d).context).toEqual({
      messages: [
        { role: 'user', content: 'Another one.' },
        { role: 'assistant', content: long },
        { role: 'user', content: 'And the last?' },
      ],
      earlier: 3,
    });
    // Exactly CONTEXT_MAX_CHARS: all of it.
    // (Not waiting for the rest of a text with no sentence end: the lengths are what counts.)
    const full = CallDriver.answered({ unfinishedWaitMs: 0 });
    full.caller('z'.repeat(CONTEXT_MAX_CHARS - SETTINGS.greeting.length));
    expect(startOf(full).context.earlier).toBe(0);
    const huge = CallDriver.answered({ unfinishedWaitMs: 0 });
    huge.caller('y'.repeat(CONTEXT_MAX_CHARS + 1));
    expect(startOf(huge).context.messages).toEqual([
      { role: 'user', content: 'y'.repeat(CONTEXT_MAX_CHARS + 1) },
    ]);
  });
});

describe('a long call: continuing as new', () => {
  it('waits for a quiet moment: no turn, nothing in flight, nothing playing', () => {
    const d = CallDriver.answered();
    d.caller('What are your opening hours?');
    expect(d.step((s, now) => call.onHistoryFull(s, now))).toEqual([]);
    expect(call.readyToRollOver(d.s, d.now)).toBe(false); // thinking
    d.sentence(1, 0, 'We open at nine.');
    expect(call.readyToRollOver(d.s, d.now)).toBe(false); // a say in flight
    d.drain();
    d.turnDone(1);
    expect(call.readyToRollOver(d.s, d.now)).toBe(false); // still playing
    const played = d.s.speech.playbackEndsAt;
    // Only time ends that wait: the call wakes when the playback ends, then is ready.
    expect(call.nextWakeAt(d.s)).toBe(played);
    d.advance(played - d.now);
    expect(call.readyToRollOver(d.s, d.now)).toBe(true);
    expect(call.nextWakeAt(d.s)).toBe(played + SETTINGS.silenceMs);
  });

  it('not while the caller waits for an answer, VoIPBIN is asked, or the call is ending', () => {
    const d = CallDriver.answered();
    d.step((s, now) => call.onHistoryFull(s, now));
    expect(call.readyToRollOver(d.s, d.now)).toBe(true);
    d.step((s, now) => call.onReconcileRequested(s, now));
    expect(call.readyToRollOver(d.s, d.now)).toBe(false);
    d.reconciled();
    expect(call.readyToRollOver(d.s, d.now)).toBe(true);
    d.caller('Bye now.');
    expect(call.readyToRollOver(d.s, d.now)).toBe(false);
    d.turnDone(1, { kind: 'completed', endCall: true });
    d.drain();
    d.now += 60_000;
    expect(d.s.phase).toBe('ending');
    expect(call.readyToRollOver(d.s, d.now)).toBe(false);
  });

  it('not before Temporal asks, and only once asked', () => {
    const d = CallDriver.answered();
    expect(call.readyToRollOver(d.s, d.now)).toBe(false);
    d.step((s, now) => call.onHistoryFull(s, now));
    const asked = d.s.rollover;
    expect(d.step((s, now) => call.onHistoryFull(s, now))).toEqual([]);
    expect(d.s.rollover).toBe(asked);
  });

  it('not while the call rings, nor while a speaking session is being created', () => {
    const ringing = new CallDriver();
    ringing.status('ringing');
    ringing.step((s, now) => call.onHistoryFull(s, now));
    expect(call.readyToRollOver(ringing.s, ringing.now)).toBe(false);
    const d = CallDriver.answered();
    d.step((s, now) => call.onHistoryFull(s, now));
    d.s.creating = 'speaking'; // the session was gone: its replacement is on its way
    expect(call.readyToRollOver(d.s, d.now)).toBe(false);
  });

  it('carries a conversation exactly at the cap whole, and always the newest message', () => {
    const d = CallDriver.answered({ unfinishedWaitMs: 0 });
    exchange(d, 'q'.repeat(CARRIED_MAX_CHARS - SETTINGS.greeting.length - 5), 'Yes.');
    d.caller('x'); // greeting + question + answer + 'x': exactly the cap
    d.turnDone(2, { kind: 'cancelled' });
    expect(d.s.messages.reduce((n, m) => n + m.text.length, 0)).toBe(CARRIED_MAX_CHARS);
    expect(call.carry(d.s).droppedMessages).toBe(0);
    const huge = CallDriver.answered();
    huge.caller('y'.repeat(CARRIED_MAX_CHARS + 1));
    const carried = call.carry(huge.s);
    expect(carried.messages.map((m) => m.text.length)).toEqual([CARRIED_MAX_CHARS + 1]);
    expect(carried.droppedMessages).toBe(1);
  });

  it('the next run goes on with the same call: conversation, dedupe keys, deadlines, counters', () => {
    const d = CallDriver.answered({ maxReprompts: 1 });
    d.caller('My order number is 42.', { id: 'final-1', createdAt: '2026-11-24T10:00:00Z' });
    d.sentence(1, 0, 'Thanks.');
    d.drain();
    d.turnDone(1);
    d.advance(SETTINGS.silenceMs + 20_000);
    d.reconciled();
    d.drain(); // the reprompt
    d.now += 5_000;
    d.step((s, now) => call.onHistoryFull(s, now));
    expect(call.readyToRollOver(d.s, d.now)).toBe(true);
    const next = d.rollOver();
    expect(call.view(next.s)).toEqual({ ...call.view(d.s), run: 2 });
    expect(next.s.rollover).toBeUndefined();
    expect(next.s.deadline).toBe(d.s.deadline);
    expect(next.s.startedAt).toBe(d.s.startedAt);
    expect(next.s.newestTranscriptMs).toBe(Date.parse('2026-11-24T10:00:00Z'));
    // VoIPBIN repeats the transcript: still heard once.
    expect(next.caller('My order number is 42.', { id: 'final-1' })).toEqual([]);
    // The reprompt already spent: the next silence ends the call, as it would have.
    next.advance(SETTINGS.silenceMs + 1000);
    next.reconciled();
    expect(next.s.phase).toBe('ending');
    expect(next.log).toEqual(['reconcile', `say ${SETTINGS.goodbyeText} @sp-1`]);
    // The speech ids go on: no op of the new run is mistaken for one of the last.
    expect(next.s.speech.inFlight?.id).toBeGreaterThan(d.s.speech.nextId - 1);
    next.drain();
    next.advance(GOODBYE_PLAYBACK_CAP_MS);
    next.step((s, now) => call.onHangupDone(s, 'hangup', now));
    expect(call.summary(next.s)).toMatchObject({
      endReason: 'silence',
      startedAt: d.s.startedAt,
      turns: 1,
      reprompts: 1,
      run: 2,
      firstSentenceLatenciesMs: d.s.firstSentenceLatenciesMs,
    });
  });

  it('a turn of the next run is given the conversation of the last one', () => {
    const d = CallDriver.answered();
    exchange(d, 'Is it raining?', 'It is not.');
    d.step((s, now) => call.onHistoryFull(s, now));
    const next = d.rollOver();
    next.caller('And tomorrow?');
    expect(next.last.map((c) => c.kind)).toEqual(['startTurn']);
    expect(startOf(next).turnId).toBe(2);
    expect(startOf(next).context.messages.map((m) => m.content)).toEqual([
      SETTINGS.greeting,
      'Is it raining?',
      'It is not.',
      'And tomorrow?',
    ]);
  });

  it('a very long conversation: the oldest messages are dropped from what is carried, and counted', () => {
    const d = CallDriver.answered({ contextMessages: 2 });
    const words = 'z'.repeat(CARRIED_MAX_CHARS * 0.4);
    for (let i = 0; i < 3; i++) exchange(d, `Part ${i}.`, words);
    d.step((s, now) => call.onHistoryFull(s, now));
    const next = d.rollOver();
    // 1.2 times the cap: the greeting, part 0 and its answer go.
    expect(next.s.droppedMessages).toBe(3);
    expect(next.s.messages.map((m) => m.text.slice(0, 6))).toEqual(['Part 1', 'zzzzzz', 'Part 2', 'zzzzzz']);
    next.caller('Done?');
    // The dropped ones, and all but the question (the answer before it is over CONTEXT_MAX_CHARS).
    expect(startOf(next).context).toEqual({ messages: [{ role: 'user', content: 'Done?' }], earlier: 3 + 4 });
    expect(call.view(next.s).droppedMessages).toBe(3);
  });
});

describe('the edges', () => {
  it('settingsOf takes a profile in seconds to milliseconds', () => {
    const profile = {
      systemPrompt: 'p',
      greeting: 'g',
      model: 'm',
      language: 'en-US',
      voice: { provider: 'x' },
      silenceTimeoutSeconds: 12.5,
      maxReprompts: 3,
      repromptText: 'r',
      goodbyeText: 'b',
      apologyText: 'a',
      maxCallSeconds: 90,
      firstTokenTimeoutSeconds: 5,
      stallTimeoutSeconds: 5,
      sentencePauseSeconds: 0.2,
      contextMessages: 12,
      backchannels: { phrases: ['Mm-hmm', 'Sure thing'], maxWords: 2 },
      unfinishedWaitSeconds: 0.5,
      speechCharsPerSecond: 12,
      bargeIn: 'speech' as const,
      bargeInWords: 3,
      replySpeech: 'workflow' as const,
    };
    expect(call.settingsOf(profile)).toEqual({
      greeting: 'g',
      repromptText: 'r',
      goodbyeText: 'b',
      apologyText: 'a',
      silenceMs: 12_500,
      maxReprompts: 3,
      maxCallMs: 90_000,
      contextMessages: 12,
      language: 'en-US',
      backchannel: { phrases: ['mm hmm', 'sure thing'], maxWords: 2 },
      unfinishedWaitMs: 500,
      speechCharsPerSecond: 12,
      bargeIn: 'speech',
      bargeInWords: 3,
      tools: {},
      toolFillerDelayMs: 1000,
    });
    // A call that began before these settings existed: its input has none of them.
    const { backchannels, unfinishedWaitSeconds, speechCharsPerSecond, bargeIn, bargeInWords, ...older } =
      profile;
    void [backchannels, unfinishedWaitSeconds, speechCharsPerSecond, bargeIn, bargeInWords];
    const settings = call.settingsOf({ ...older, language: 'de-DE' } as AgentProfile);
    expect(settings.backchannel.maxWords).toBe(3);
    expect(settings.backchannel.phrases).toContain('genau');
    expect(settings.unfinishedWaitMs).toBe(800);
    expect(settings.speechCharsPerSecond).toBe(14);
    expect(settings.bargeIn).toBe('words');
    // Built before these rules: none of them (call-agent.ts patches them in for new calls only).
    expect(call.settingsOf(profile, { turnTaking: false })).toMatchObject({
      backchannel: { phrases: [], maxWords: 0 },
      unfinishedWaitMs: 0,
      speechCharsPerSecond: 15,
      bargeIn: 'final',
    });
  });

  it('the call status as VoIPBIN last told it', () => {
    const d = new CallDriver();
    d.status('ringing');
    expect(call.view(d.s).callStatus).toBe('ringing');
  });

  it('a hangup while the sessions are created, one of them failing: the caller hung up, not a failure', () => {
    const d = new CallDriver();
    d.status('progressing');
    d.status('hangup');
    expect(d.sessions({ transcribeId: 'tr-1' })).toEqual(['finish tr-1 -']);
    expect(call.summary(d.s).endReason).toBe('caller-hangup');
  });

  it('maxCallSeconds running out while thinking, nothing said yet: the goodbye', () => {
    const d = CallDriver.answered({ maxCallMs: 50_000, silenceMs: 600_000 });
    d.caller('Hmm.');
    expect(d.advance(50_000 - d.now)).toEqual(['cancelTurn 1', `say ${SETTINGS.goodbyeText} @sp-1`]);
  });

  it('maxCallSeconds running out after a sentence played, the model still going: the reply was cut', () => {
    const d = CallDriver.answered({ maxCallMs: 50_000, silenceMs: 600_000 });
    d.caller('Tell me a story.');
    d.sentence(1, 0, 'Once.');
    d.drain();
    d.advance(50_000 - d.now);
    expect(d.s.messages.find((m) => m.kind === 'reply')).toMatchObject({ text: 'Once.', interrupted: true });
  });

  it('a refused later sentence leaves what was said of its reply', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    d.sentence(1, 0, 'Hello.');
    d.sentence(1, 1, 'x'.repeat(6000));
    d.spoken();
    d.spoken('rejected');
    expect(d.s.messages.at(-1)).toMatchObject({ kind: 'reply', text: 'Hello.' });
  });

  it('a new call is waiting, its status unknown', () => {
    const d = new CallDriver();
    expect(call.view(d.s)).toEqual({
      callId: 'call-1',
      profileName: 'default',
      phase: 'waiting',
      callStatus: 'unknown',
      messages: [],
      turns: 0,
      bargeIns: 0,
      reprompts: 0,
      run: 1,
      droppedMessages: 0,
    });
    expect(() => call.summary(d.s)).toThrow('the call has not ended');
  });

  it('after the end, nothing happens, whatever arrives', () => {
    const d = new CallDriver();
    d.status('ringing');
    d.advanceReconciling(call.ANSWER_TIMEOUT_MS);
    expect(d.s.ended?.reason).toBe('not-answered');
    const before = JSON.stringify(call.summary(d.s));
    expect(d.status('progressing')).toEqual([]);
    expect(d.caller('Hello?')).toEqual([]);
    expect(d.sentence(1, 0, 'Hi.')).toEqual([]);
    expect(d.turnDone(1)).toEqual([]);
    expect(d.step((s, now) => call.onReconcileRequested(s, now))).toEqual([]);
    expect(d.reconciled({ call: 'progressing', transcripts: [] })).toEqual([]);
    expect(d.step((s, now) => call.onCancelled(s, now))).toEqual([]);
    expect(d.step((s, now) => call.onSpeechDone(s, 1, 'done', now))).toEqual([]);
    expect(JSON.stringify(call.summary(d.s))).toBe(before);
    expect(call.nextWakeAt(d.s)).toBeUndefined();
  });

  it('answers from VoIPBIN that nothing waits for change nothing', () => {
    const d = CallDriver.answered();
    expect(d.sessions()).toEqual([]); // sessions again
    expect(d.step((s, now) => call.onSpeakingCreated(s, 'sp-9', now))).toEqual([]);
    expect(d.step((s, now) => call.onSpeechDone(s, 999, 'gone', now))).toEqual([]);
    expect(d.s.sessions).toEqual({ transcribeId: 'tr-1', speakingId: 'sp-1' });
    expect(d.turnDone(7)).toEqual([]);
  });

  it('a transcript remembers the newest creation time seen, not a missing one', () => {
    const d = CallDriver.answered();
    d.caller('One.', { createdAt: '2026-01-15T09:30:15Z' });
    d.caller('Two.', { createdAt: 'not a time' });
    d.caller('Three.');
    expect(d.s.newestTranscriptMs).toBe(Date.parse('2026-01-15T09:30:15Z'));
  });

  it('remembers the last 2000 transcript ids: an older one would be taken as new', () => {
    const d = CallDriver.answered();
    d.caller('First.', { id: 'first' });
    for (let i = 0; i < 1999; i++) d.caller('', { id: `filler-${i}`, direction: 'out' });
    expect(d.caller('First.', { id: 'first' })).toEqual([]);
    d.caller('', { id: 'one-more', direction: 'out' });
    expect(d.s.seen).toHaveLength(2000);
    expect(d.caller('First.', { id: 'first' })).toEqual(['cancelTurn 1', 'startTurn 2']);
  });

  it('a turn that ends without saying anything: silence counts from its end', () => {
    const d = CallDriver.answered();
    d.caller('Hmm.');
    d.now += 20_000; // a slow model
    d.turnDone(1);
    expect(call.nextWakeAt(d.s)).toBe(d.now + SETTINGS.silenceMs);
  });

  it('no reprompt while the agent thinks, however long', () => {
    const d = CallDriver.answered();
    d.caller('Explain everything.');
    d.advanceReconciling(SETTINGS.silenceMs * 5);
    expect(d.log.filter((l) => l.startsWith('say'))).toEqual([`say ${SETTINGS.greeting} @sp-1`]);
  });

  it('no reprompt while a say is still in flight, however long it takes', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    d.sentence(1, 0, 'Hello.');
    d.turnDone(1);
    d.advanceReconciling(SETTINGS.silenceMs * 5);
    expect(d.log.filter((l) => l.startsWith('say'))).toEqual([
      `say ${SETTINGS.greeting} @sp-1`,
      'say Hello. @sp-1',
    ]);
    expect(d.s.repromptsTotal).toBe(0);
  });

  it('the reprompt waits for the silence check, whatever else happens meanwhile', () => {
    const d = CallDriver.answered();
    expect(d.advance(SETTINGS.silenceMs)).toEqual(['reconcile']);
    expect(d.caller('(our own voice)', { direction: 'out' })).toEqual([]);
    expect(d.reconciled()).toEqual([`say ${SETTINGS.repromptText} @sp-1`]);
  });

  it('the caller interrupting a reply already said, while the model goes on, cuts it', () => {
    const d = CallDriver.answered();
    d.caller('Tell me a story.');
    d.sentence(1, 0, 'Once.');
    d.drain();
    d.now += 10_000; // played; the model is still thinking of the next sentence
    expect(d.caller('Stop.')).toEqual(['cancelTurn 1', 'startTurn 2']);
    expect(d.s.messages.find((m) => m.kind === 'reply')).toMatchObject({ text: 'Once.', interrupted: true });
  });

  it('a caller heard before the sessions exist is answered once they do, after the greeting is sent', () => {
    const d = new CallDriver();
    d.status('progressing');
    d.step((s, now) => call.onReconcileRequested(s, now));
    expect(
      d.reconciled({
        call: 'progressing',
        transcripts: [{ id: 'early', transcribeId: 'tr-1', text: 'Hello?', createdAt: null }],
      }),
    ).toEqual([]);
    expect(d.sessions()).toEqual(['startTurn 1', `say ${SETTINGS.greeting} @sp-1`]);
  });

  it('a say in flight when the caller speaks is not in what the model is told', () => {
    const d = new CallDriver();
    d.status('progressing');
    d.sessions(); // the greeting is in flight
    d.caller('Hi!');
    const start = d.last.find((c) => c.kind === 'startTurn') as Extract<call.Command, { kind: 'startTurn' }>;
    expect(start.context.messages).toEqual([{ role: 'user', content: 'Hi!' }]);
  });

  it('maxCallSeconds passing while the sessions are created: the goodbye, not the greeting', () => {
    const d = new CallDriver({ maxCallMs: 1000 });
    d.status('progressing');
    d.advance(1000);
    expect(d.sessions()).toEqual([`say ${SETTINGS.goodbyeText} @sp-1`]);
    expect(d.drain()).toEqual([SETTINGS.goodbyeText]);
    d.advance(GOODBYE_PLAYBACK_CAP_MS);
    expect(d.log.slice(-1)).toEqual(['hangup']);
  });

  it('the goodbye session gone and none to be had: the call still ends as it was ending', () => {
    const d = CallDriver.answered({ maxReprompts: 0 });
    d.advance(SETTINGS.silenceMs);
    d.reconciled();
    d.spoken('gone');
    d.reconciled();
    expect(d.step((s, now) => call.onSpeakingCreated(s, undefined, now))).toEqual(['hangup']);
    d.step((s, now) => call.onHangupDone(s, 'terminating', now));
    expect(call.summary(d.s).endReason).toBe('silence');
  });

  it('a speaking session that cannot be replaced after the call ended changes nothing', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    d.sentence(1, 0, 'Hello.');
    d.spoken('gone');
    d.status('hangup');
    expect(d.step((s, now) => call.onSpeakingCreated(s, undefined, now))).toEqual(['finish tr-1 -']);
  });

  it('a say whose session is gone after the call ended asks for no new session', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    d.sentence(1, 0, 'Hello.');
    d.status('hangup');
    expect(d.spoken('gone')).toEqual([]);
  });

  it('the workflow cancelled while the sessions are created: they are stopped once they exist', () => {
    const d = new CallDriver();
    d.status('progressing');
    expect(d.step((s, now) => call.onCancelled(s, now))).toEqual([]);
    expect(d.sessions()).toEqual(['finish tr-1 sp-1']);
    expect(call.summary(d.s).endReason).toBe('error');
  });

  it('a late call_progressing after the call was left unanswered starts nothing', () => {
    const d = new CallDriver();
    d.status('ringing');
    d.advance(call.ANSWER_TIMEOUT_MS);
    d.reconciled({ call: 'ringing', transcripts: [] });
    expect(d.status('progressing')).toEqual([]);
  });

  it('the summary carries the first-sentence latencies', () => {
    const d = CallDriver.answered();
    d.caller('Hi.');
    d.now += 250;
    d.sentence(1, 0, 'Hello.');
    d.spoken();
    d.status('hangup');
    expect(call.summary(d.s)).toMatchObject({
      firstSentenceLatenciesMs: [250],
      endedAt: d.now,
      startedAt: 0,
    });
  });
});
