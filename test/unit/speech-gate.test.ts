import {
  SPEECH_SIGNALS_PER_UTTERANCE,
  SpeechGate,
  UTTERANCE_GAP_MS,
  speechPolicyOf,
} from '../../src/ingress/speech-gate';

describe('SpeechGate', () => {
  it('passes the start of speech and each interim with more words, a few per utterance', () => {
    const gate = new SpeechGate();
    expect(gate.pass('tr-1', true, undefined)).toBe(true);
    expect(gate.pass('tr-1', true, undefined)).toBe(false); // the same start again (the other path)
    expect(gate.pass('tr-1', false, 'no')).toBe(true);
    expect(gate.pass('tr-1', false, 'no')).toBe(false); // no new word
    expect(gate.pass('tr-1', false, 'no wait')).toBe(true);
    expect(gate.pass('tr-1', false, 'no wait stop')).toBe(true);
    // The cap: the final transcript will say the rest.
    expect(gate.pass('tr-1', false, 'no wait stop please')).toBe(false);
    expect(SPEECH_SIGNALS_PER_UTTERANCE).toBe(4);
  });

  it('a new utterance after the end of the last one; sessions apart', () => {
    const gate = new SpeechGate();
    gate.pass('tr-1', true, undefined);
    gate.pass('tr-1', false, 'one two three four');
    expect(gate.pass('tr-2', false, 'hello')).toBe(true);
    gate.ended('tr-1');
    expect(gate.pass('tr-1', true, undefined)).toBe(true);
    expect(gate.pass('tr-1', false, 'again')).toBe(true);
  });

  it("drops a late copy of an utterance whose final was seen (the other path's, a retry)", () => {
    const gate = new SpeechGate();
    expect(gate.pass('tr-1', false, 'tell me', 1000)).toBe(true);
    gate.ended('tr-1', 1500);
    expect(gate.pass('tr-1', false, 'tell me everything', 1200)).toBe(false);
    expect(gate.pass('tr-1', true, undefined, 1500)).toBe(false);
    // The next utterance.
    expect(gate.pass('tr-1', true, undefined, 1600)).toBe(true);
  });

  it('an utterance whose end never came is over after a gap', () => {
    let now = 0;
    const gate = new SpeechGate(undefined, () => now);
    gate.pass('tr-1', false, 'one two three');
    now += UTTERANCE_GAP_MS - 1;
    expect(gate.pass('tr-1', false, 'hi')).toBe(false);
    now += UTTERANCE_GAP_MS + 1;
    expect(gate.pass('tr-1', false, 'hi')).toBe(true);
    now += UTTERANCE_GAP_MS + 1;
    expect(gate.pass('tr-1', true, undefined)).toBe(true);
  });

  it('passes only what a profile of the agent acts on', () => {
    expect(speechPolicyOf([{}])).toEqual({ starts: false, minWords: 2 });
    expect(speechPolicyOf([{ bargeIn: 'words', bargeInWords: 3 }, { bargeIn: 'final' }])).toEqual({
      starts: false,
      minWords: 3,
    });
    expect(speechPolicyOf([{ bargeIn: 'final' }])).toEqual({ starts: false, minWords: Infinity });
    expect(speechPolicyOf([{ bargeIn: 'speech' }, {}])).toEqual({ starts: true, minWords: 1 });
    const words = new SpeechGate(speechPolicyOf([{}]));
    expect(words.pass('tr-1', true, undefined)).toBe(false);
    expect(words.pass('tr-1', false, 'no')).toBe(false);
    expect(words.pass('tr-1', false, 'no wait')).toBe(true);
    const finals = new SpeechGate(speechPolicyOf([{ bargeIn: 'final' }]));
    expect(finals.pass('tr-1', false, 'no wait stop now')).toBe(false);
  });
});

describe('SpeechGate.settle', () => {
  it('speech is needless when its utterance ends while it waits', async () => {
    const gate = new SpeechGate();
    gate.pass('tr-1', false, 'no wait');
    gate.pass('tr-2', false, 'no wait');
    const wait: Array<() => void> = [];
    const sleep = () => new Promise<void>((resolve) => wait.push(resolve));
    const needless = gate.settle('tr-1', 40, sleep);
    const needed = gate.settle('tr-2', 40, sleep);
    gate.ended('tr-1', 1000);
    wait.forEach((resolve) => resolve());
    expect(await needless).toBe(false);
    expect(await needed).toBe(true);
  });
});
