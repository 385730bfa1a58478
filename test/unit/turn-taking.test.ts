import {
  backchannelRule,
  isBackchannel,
  looksUnfinished,
  normalizeUtterance,
  speechRateOf,
} from '../../workflows/turn-taking';

describe('normalizeUtterance', () => {
  it.each([
    ['Mm-hmm.', 'mm hmm'],
    ['  Okay!! ', 'okay'],
    ['Yeah, right…', 'yeah right'],
    ['I’m sure.', "i'm sure"],
    ["'okay'", 'okay'],
    ['Sí, claro.', 'sí claro'],
    ['はい。', 'はい'],
  ])('%j → %j', (text, normalized) => {
    expect(normalizeUtterance(text)).toBe(normalized);
  });
});

describe('isBackchannel', () => {
  const en = backchannelRule('en-US', undefined, 3);
  it.each(['Mm-hmm.', 'mhm', 'Okay.', 'okay', 'Yeah, right.', 'Uh huh.', 'I see.', 'All right.', 'Got it!'])(
    'en: %j only acknowledges',
    (text) => {
      expect(isBackchannel(text, en)).toBe(true);
    },
  );
  it.each([
    'No wait, stop.',
    'Okay, stop.',
    'Wait.',
    'Yeah okay right sure.', // more than 3 words
    'What?',
    'Hold on',
    '',
    '...',
  ])('en: %j is something said', (text) => {
    expect(isBackchannel(text, en)).toBe(false);
  });

  it('by the language of the profile', () => {
    expect(isBackchannel('Genau.', backchannelRule('de-DE', undefined, 3))).toBe(true);
    expect(isBackchannel('Sí, claro.', backchannelRule('es-ES', undefined, 3))).toBe(true);
    expect(isBackchannel('はい。', backchannelRule('ja-JP', undefined, 3))).toBe(true);
    expect(isBackchannel('Genau.', en)).toBe(false);
    // A language with no list: none.
    expect(isBackchannel('okay', backchannelRule('xx-XX', undefined, 3))).toBe(false);
  });

  it("the profile's own phrases replace the language's", () => {
    const own = backchannelRule('en-US', ['Roger that', 'Copy'], 3);
    expect(isBackchannel('Roger that.', own)).toBe(true);
    expect(isBackchannel('Copy, roger that.', own)).toBe(true);
    expect(isBackchannel('Okay.', own)).toBe(false);
  });
});

describe('looksUnfinished', () => {
  it.each([
    ['I would like to know', true], // no sentence end
    ['I need to cancel my', true],
    ['So, um...', true],
    ['My number is,', true],
    ['I called yesterday and.', true], // a statement does not end on "and"
    ['I want to pay the.', true],
    ['What are your opening hours?', false],
    ['What can you help me with?', false], // a question is complete
    ['I want to pay my bill.', false],
    ['Cancel that.', false],
    ['Thanks!', false],
    ['', false],
  ])('%j → %s', (text, unfinished) => {
    expect(looksUnfinished(text, 'en-US')).toBe(unfinished);
  });

  it('by language', () => {
    expect(looksUnfinished('Ich möchte wissen und.', 'de-DE')).toBe(true);
    expect(looksUnfinished('Ich möchte das.', 'de-DE')).toBe(false);
    expect(looksUnfinished('Quiero saber y.', 'es')).toBe(true);
    expect(looksUnfinished('営業時間は？', 'ja-JP')).toBe(false);
  });
});

describe('speechRateOf', () => {
  it("the profile's pace, else the language's, else 15 characters a second", () => {
    expect(speechRateOf('ja-JP', 12)).toBe(12);
    expect(speechRateOf('ja-JP')).toBe(8);
    expect(speechRateOf('de-DE')).toBe(14);
    expect(speechRateOf('xx')).toBe(15);
  });
});
