import type { ConversationMessage } from '../../workflows/messages';
import { Conversation, SeenIds, appendSentence } from '../../workflows/conversation';
import { SPEECH_CHARS_PER_SECOND, estimatePlaybackMs } from '../../workflows/playback';

describe('Conversation', () => {
  it('starts empty', () => {
    const c = new Conversation();
    expect(c.messages).toEqual([]);
    expect(c.llmMessages()).toEqual([]);
  });

  it('records caller and agent messages in order, with their times and kinds', () => {
    const c = new Conversation();
    const greeting = c.agent('greeting', 1000);
    appendSentence(greeting, 'Hello, thanks for calling.');
    c.caller('I need help with my bill.', 5000);
    const reply = c.agent('reply', 6000);
    appendSentence(reply, 'Sure.');
    expect(c.messages).toEqual([
      { role: 'agent', text: 'Hello, thanks for calling.', at: 1000, kind: 'greeting' },
      { role: 'caller', text: 'I need help with my bill.', at: 5000 },
      { role: 'agent', text: 'Sure.', at: 6000, kind: 'reply' },
    ]);
  });

  it('returns the live message from agent(): sentences appended later show in the history', () => {
    const c = new Conversation();
    const reply = c.agent('reply', 0);
    expect(c.messages[0]).toBe(reply);
    expect(reply.text).toBe('');
    appendSentence(reply, 'One.');
    appendSentence(reply, 'Two.');
    expect(c.messages[0]?.text).toBe('One. Two.');
  });

  it('gives the LLM user and assistant turns, agent words as sent', () => {
    const c = new Conversation();
    appendSentence(c.agent('greeting', 0), 'Hello.');
    c.caller('What are your hours?', 1);
    const reply = c.agent('reply', 2);
    appendSentence(reply, 'We open at nine.');
    reply.interrupted = true;
    c.caller('And on Sunday?', 3);
    expect(c.llmMessages()).toEqual([
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'What are your hours?' },
      { role: 'assistant', content: 'We open at nine.' },
      { role: 'user', content: 'And on Sunday?' },
    ]);
  });

  it('leaves out an agent utterance cut off before its first sentence was sent', () => {
    const c = new Conversation();
    c.caller('Hi.', 0);
    const reply = c.agent('reply', 1);
    reply.interrupted = true;
    c.caller('Wait, one more thing.', 2);
    expect(c.messages).toHaveLength(3);
    expect(c.llmMessages()).toEqual([
      { role: 'user', content: 'Hi.' },
      { role: 'user', content: 'Wait, one more thing.' },
    ]);
  });

  it('maps every agent kind to the assistant role', () => {
    const c = new Conversation();
    for (const kind of ['greeting', 'reply', 'reprompt', 'goodbye', 'apology'] as const) {
      appendSentence(c.agent(kind, 0), kind);
    }
    expect(c.llmMessages().map((m) => m.role)).toEqual(Array(5).fill('assistant'));
  });

  it('returns a fresh array each time', () => {
    const c = new Conversation();
    c.caller('Hi.', 0);
    const first = c.llmMessages();
    first.push({ role: 'user', content: 'injected' });
    expect(c.llmMessages()).toEqual([{ role: 'user', content: 'Hi.' }]);
  });
});

describe('appendSentence', () => {
  it('joins sentences with one space', () => {
    const m: ConversationMessage = { role: 'agent', text: '', at: 0, kind: 'reply' };
    appendSentence(m, 'First.');
    expect(m.text).toBe('First.');
    appendSentence(m, 'Second?');
    appendSentence(m, 'Third!');
    expect(m.text).toBe('First. Second? Third!');
  });

  it('leaves the other fields alone', () => {
    const m: ConversationMessage = { role: 'agent', text: 'A.', at: 42, kind: 'reprompt', interrupted: true };
    appendSentence(m, 'B.');
    expect(m).toEqual({ role: 'agent', text: 'A. B.', at: 42, kind: 'reprompt', interrupted: true });
  });
});

describe('SeenIds', () => {
  it('is true the first time an id is seen, false after', () => {
    const seen = new SeenIds();
    expect(seen.add('t-1')).toBe(true);
    expect(seen.add('t-1')).toBe(false);
    expect(seen.add('t-2')).toBe(true);
    expect(seen.add('t-1')).toBe(false);
    expect(seen.add('t-2')).toBe(false);
  });

  it('forgets the oldest id beyond its capacity', () => {
    const seen = new SeenIds(3);
    for (const id of ['a', 'b', 'c']) expect(seen.add(id)).toBe(true);
    expect(seen.add('d')).toBe(true); // evicts a
    expect(seen.add('b')).toBe(false);
    expect(seen.add('c')).toBe(false);
    expect(seen.add('d')).toBe(false);
    expect(seen.add('a')).toBe(true); // a was forgotten; now evicts b
    expect(seen.add('b')).toBe(true); // evicts c
    expect(seen.add('d')).toBe(false);
    expect(seen.add('a')).toBe(false);
  });

  it('evicts by first sight, not by last repeat', () => {
    const seen = new SeenIds(2);
    seen.add('a');
    seen.add('b');
    expect(seen.add('a')).toBe(false); // a repeat does not refresh a
    seen.add('c'); // evicts a
    expect(seen.add('b')).toBe(false);
    expect(seen.add('a')).toBe(true);
  });

  it('remembers 2000 ids by default', () => {
    const seen = new SeenIds();
    for (let i = 0; i < 2000; i++) seen.add(`id-${i}`);
    expect(seen.add('id-0')).toBe(false);
    expect(seen.add('id-1999')).toBe(false);
    seen.add('id-2000');
    expect(seen.add('id-1')).toBe(false);
    expect(seen.add('id-0')).toBe(true);
  });

  it('with capacity 1 remembers only the last new id', () => {
    const seen = new SeenIds(1);
    expect(seen.add('a')).toBe(true);
    expect(seen.add('a')).toBe(false);
    expect(seen.add('b')).toBe(true);
    expect(seen.add('a')).toBe(true);
  });
});

describe('estimatePlaybackMs', () => {
  it('speaks about 15 characters a second', () => {
    expect(SPEECH_CHARS_PER_SECOND).toBe(15);
    expect(estimatePlaybackMs('x'.repeat(15))).toBe(1000);
    expect(estimatePlaybackMs('x'.repeat(150))).toBe(10_000);
  });

  it('is zero for nothing to say', () => {
    expect(estimatePlaybackMs('')).toBe(0);
  });

  it('rounds up to a whole millisecond', () => {
    expect(estimatePlaybackMs('x')).toBe(67);
    expect(estimatePlaybackMs('x'.repeat(16))).toBe(1067);
  });

  it('grows with the length of the text', () => {
    const short = estimatePlaybackMs('Hello.');
    const long = estimatePlaybackMs('Hello, thanks for calling. How can I help you today?');
    expect(long).toBeGreaterThan(short);
  });
});
