import { SentenceSplitter, splitSentences } from '../../activities/sentences';

/** Feeds the text in the given chunks, as a streamed LLM reply would arrive. */
function stream(chunks: readonly string[]): string[] {
  const splitter = new SentenceSplitter();
  const out: string[] = [];
  for (const chunk of chunks) out.push(...splitter.push(chunk));
  out.push(...splitter.end());
  return out;
}

function oneCharChunks(text: string): string[] {
  return [...text];
}

/** Small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomChunks(text: string, random: () => number): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < text.length;) {
    const size = 1 + Math.floor(random() * 8);
    chunks.push(text.slice(i, i + size));
    i += size;
  }
  return chunks;
}

const CORPUS: ReadonlyArray<[string, string[]]> = [
  ['Hello there. How can I help you today?', ['Hello there.', 'How can I help you today?']],
  ['Dr. Smith will see you at noon. Is that okay?', ['Dr. Smith will see you at noon.', 'Is that okay?']],
  ['Mr. and Mrs. Jones called. They will call back.', ['Mr. and Mrs. Jones called.', 'They will call back.']],
  ['Bring an ID, e.g. a passport. Thanks.', ['Bring an ID, e.g. a passport.', 'Thanks.']],
  ['Use the side door, i.e. the blue one. See you.', ['Use the side door, i.e. the blue one.', 'See you.']],
  ['Your balance is 3.50 dollars. Anything else?', ['Your balance is 3.50 dollars.', 'Anything else?']],
  [
    'The rate is 0.75 percent. It changed on 1.2.2026 too.',
    ['The rate is 0.75 percent.', 'It changed on 1.2.2026 too.'],
  ],
  ['J. R. R. Tolkien wrote it. Great book.', ['J. R. R. Tolkien wrote it.', 'Great book.']],
  ['Really? Yes! Wow.', ['Really?', 'Yes!', 'Wow.']],
  ['Hold on... Let me check. Okay?! Done.', ['Hold on...', 'Let me check.', 'Okay?!', 'Done.']],
  ['Wait… I found it. Here.', ['Wait…', 'I found it.', 'Here.']],
  ['He said "we are closed." Then he left.', ['He said "we are closed."', 'Then he left.']],
  ["She asked 'really?' I said yes.", ["She asked 'really?'", 'I said yes.']],
  ['“Thank you.” You are welcome.', ['“Thank you.”', 'You are welcome.']],
  ['Is it open (on Sundays)? Yes.', ['Is it open (on Sundays)?', 'Yes.']],
  ['First line\nSecond line\n\nThird line', ['First line', 'Second line', 'Third line']],
  ['Done.\nNext one.', ['Done.', 'Next one.']],
  ['We open at 9 a.m. tomorrow. Bye.', ['We open at 9 a.m. tomorrow.', 'Bye.']],
  ['We open at 9 a.m.\nWhat else can I do?', ['We open at 9 a.m.', 'What else can I do?']],
  ['Ask for Dr.\n- Lee\n- Kim', ['Ask for Dr.', '- Lee', '- Kim']],
  ['Okay.    Spaces   inside stay.', ['Okay.', 'Spaces   inside stay.']],
  ['  Leading and trailing space.  ', ['Leading and trailing space.']],
  ['No final punctuation', ['No final punctuation']],
  ['One sentence. And an unfinished one', ['One sentence.', 'And an unfinished one']],
  ['Visit example.com today. Thanks.', ['Visit example.com today.', 'Thanks.']],
  ['Ça coûte 3,50 €. Merci beaucoup. Über alles.', ['Ça coûte 3,50 €.', 'Merci beaucoup.', 'Über alles.']],
  // Each known abbreviation keeps its sentence going.
  ['Ms. Park will call you back. Bye.', ['Ms. Park will call you back.', 'Bye.']],
  ['Prof. Lee teaches that course. Bye.', ['Prof. Lee teaches that course.', 'Bye.']],
  ['John Smith Sr. signed it. Bye.', ['John Smith Sr. signed it.', 'Bye.']],
  ['Martin Luther King Jr. spoke here. Bye.', ['Martin Luther King Jr. spoke here.', 'Bye.']],
  ['We are on Main St. by the bank. Bye.', ['We are on Main St. by the bank.', 'Bye.']],
  ['It is red vs. blue tonight. Bye.', ['It is red vs. blue tonight.', 'Bye.']],
  ['Bring pens, paper, etc. and a bag. Bye.', ['Bring pens, paper, etc. and a bag.', 'Bye.']],
  ['We close at 5 p.m. on Fridays. Bye.', ['We close at 5 p.m. on Fridays.', 'Bye.']],
  ['It takes approx. ten minutes. Bye.', ['It takes approx. ten minutes.', 'Bye.']],
  ['Call the Sales Dept. for that. Bye.', ['Call the Sales Dept. for that.', 'Bye.']],
  ['Acme Inc. ships it. Bye.', ['Acme Inc. ships it.', 'Bye.']],
  ['Acme Ltd. ships it. Bye.', ['Acme Ltd. ships it.', 'Bye.']],
  ['Acme Co. ships it. Bye.', ['Acme Co. ships it.', 'Bye.']],
  // A number ends a sentence; a one- or two-digit number alone starts a list item.
  ['Your table is number 12. Please follow me.', ['Your table is number 12.', 'Please follow me.']],
  ['Pick one. 10. Apples. 11. Pears.', ['Pick one.', '10. Apples.', '11. Pears.']],
  ['Options:\n 1. Apples.\n 2. Pears.', ['Options:', '1. Apples.', '2. Pears.']],
];

describe('splitSentences', () => {
  it.each(CORPUS)('splits %j', (text, sentences) => {
    expect(splitSentences(text)).toEqual(sentences);
  });

  it('returns nothing for empty or blank input', () => {
    expect(splitSentences('')).toEqual([]);
    expect(splitSentences('   ')).toEqual([]);
    expect(splitSentences('\n\n')).toEqual([]);
  });

  it('never returns an empty or untrimmed sentence', () => {
    for (const [text] of CORPUS) {
      for (const sentence of splitSentences(text)) {
        expect(sentence).not.toBe('');
        expect(sentence).toBe(sentence.trim());
      }
    }
  });
});

describe('SentenceSplitter fed as a stream', () => {
  it.each(CORPUS)('gives the same sentences one character at a time: %j', (text, sentences) => {
    expect(stream(oneCharChunks(text))).toEqual(sentences);
  });

  it('gives the same sentences for random chunkings', () => {
    const random = prng(20260115);
    for (const [text, sentences] of CORPUS) {
      for (let round = 0; round < 25; round++) {
        const chunks = randomChunks(text, random);
        expect({ chunks, sentences: stream(chunks) }).toEqual({ chunks, sentences });
      }
    }
  });

  it('gives the same sentences for a long reply, however it is chunked', () => {
    const text = CORPUS.map(([t]) => t).join(' ');
    const whole = splitSentences(text);
    expect(whole.length).toBeGreaterThan(CORPUS.length);
    expect(stream(oneCharChunks(text))).toEqual(whole);
    const random = prng(7);
    for (let round = 0; round < 20; round++) expect(stream(randomChunks(text, random))).toEqual(whole);
  });

  it('releases a sentence as soon as the whitespace after it arrives', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('Hello')).toEqual([]);
    expect(splitter.push(' there.')).toEqual([]);
    expect(splitter.push(' How')).toEqual(['Hello there.']);
    expect(splitter.push(' are you?')).toEqual([]);
    expect(splitter.push('\n')).toEqual(['How are you?']);
    expect(splitter.end()).toEqual([]);
  });

  it('holds a decimal point until the digits arrive', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('It costs 3.')).toEqual([]);
    expect(splitter.push('50 dollars. ')).toEqual(['It costs 3.50 dollars.']);
  });

  it('holds an abbreviation whose next word has not arrived yet', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('Ask Dr. ')).toEqual([]);
    expect(splitter.push('Lee. ')).toEqual(['Ask Dr. Lee.']);
  });

  it('returns several sentences completed by one chunk', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('One. Two! Three? Four')).toEqual(['One.', 'Two!', 'Three?']);
    expect(splitter.end()).toEqual(['Four']);
  });

  it('flushes text without final punctuation on end(), once', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('Sure, I can help with that')).toEqual([]);
    expect(splitter.end()).toEqual(['Sure, I can help with that']);
    expect(splitter.end()).toEqual([]);
  });

  it('flushes a final sentence that has punctuation but no trailing space', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('Goodbye.')).toEqual([]);
    expect(splitter.end()).toEqual(['Goodbye.']);
  });

  it('handles empty and blank pushes', () => {
    const splitter = new SentenceSplitter();
    expect(splitter.push('')).toEqual([]);
    expect(splitter.push('   ')).toEqual([]);
    expect(splitter.push('\n')).toEqual([]);
    expect(splitter.end()).toEqual([]);
  });

  it('can be reused after end()', () => {
    const splitter = new SentenceSplitter();
    splitter.push('First reply');
    expect(splitter.end()).toEqual(['First reply']);
    expect(splitter.push('Second. ')).toEqual(['Second.']);
    expect(splitter.end()).toEqual([]);
  });

  it('keeps two splitters independent when interleaved', () => {
    const a = new SentenceSplitter();
    const b = new SentenceSplitter();
    expect(a.push('Alpha one. Alp')).toEqual(['Alpha one.']);
    expect(b.push('Beta one')).toEqual([]);
    expect(a.push('ha two. ')).toEqual(['Alpha two.']);
    expect(b.push('! Beta two')).toEqual(['Beta one!']);
    expect(a.end()).toEqual([]);
    expect(b.end()).toEqual(['Beta two']);
  });
});

describe('short answers and lists', () => {
  it('ends a sentence at "No." so the first /say is not held back', () => {
    expect(splitSentences("No. I can't do that. The answer is no. Sorry.")).toEqual([
      'No.',
      "I can't do that.",
      'The answer is no.',
      'Sorry.',
    ]);
  });

  it('keeps a list marker with its item', () => {
    expect(splitSentences('Two options. 1. Apples. 2. Pears.')).toEqual([
      'Two options.',
      '1. Apples.',
      '2. Pears.',
    ]);
  });
});

describe('SentenceSplitter when the stream pauses (flushComplete)', () => {
  const paused = (...deltas: string[]) => {
    const splitter = new SentenceSplitter();
    const pushed = deltas.flatMap((d) => splitter.push(d));
    return { pushed, flushed: splitter.flushComplete(), rest: splitter.end() };
  };

  it('sends a finished sentence without waiting for the space the next token brings', () => {
    expect(paused('It is noon.')).toEqual({ pushed: [], flushed: ['It is noon.'], rest: [] });
    expect(paused('Really?!')).toEqual({ pushed: [], flushed: ['Really?!'], rest: [] });
    expect(paused('She said "yes."')).toEqual({ pushed: [], flushed: ['She said "yes."'], rest: [] });
    expect(paused('(Done.)')).toEqual({ pushed: [], flushed: ['(Done.)'], rest: [] });
    expect(paused(' Hello there.')).toEqual({ pushed: [], flushed: ['Hello there.'], rest: [] });
  });

  it('sends only what is buffered after the sentences already pushed', () => {
    expect(paused('One. Two.')).toEqual({ pushed: ['One.'], flushed: ['Two.'], rest: [] });
  });

  it('keeps an unfinished sentence, a number and an abbreviation until more arrives', () => {
    expect(paused('And then')).toEqual({ pushed: [], flushed: [], rest: ['And then'] });
    expect(paused('It costs 3.50')).toEqual({ pushed: [], flushed: [], rest: ['It costs 3.50'] });
    expect(paused('Ask Dr.')).toEqual({ pushed: [], flushed: [], rest: ['Ask Dr.'] });
    expect(paused('Call J.')).toEqual({ pushed: [], flushed: [], rest: ['Call J.'] });
    expect(paused('Step 2.')).toEqual({ pushed: [], flushed: ['Step 2.'], rest: [] });
    expect(paused('1.')).toEqual({ pushed: [], flushed: [], rest: ['1.'] });
  });

  it('has nothing to send when nothing is buffered', () => {
    expect(paused('')).toEqual({ pushed: [], flushed: [], rest: [] });
    expect(paused('Done. ')).toEqual({ pushed: ['Done.'], flushed: [], rest: [] });
  });

  it('goes on splitting after a flush', () => {
    const splitter = new SentenceSplitter();
    splitter.push('First.');
    expect(splitter.flushComplete()).toEqual(['First.']);
    expect(splitter.push(' Second. Thi')).toEqual(['Second.']);
    expect(splitter.end()).toEqual(['Thi']);
  });
});
