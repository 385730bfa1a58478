// The call page as HTML: every transcript escaped (a caller can say "<script>"), the conversation
// with what a barge-in cut, one latency row per turn with its bars to scale.
import { escapeHtml, markup, Markup } from '../../src/inspect/html';
import { renderCallMain, renderCallPage, renderMissingCallPage } from '../../src/inspect/page';
import type { CallTimeline, TimelineEntry } from '../../src/inspect/timeline';

const HOSTILE = `<script>alert("pwned")</script> & <img src=x onerror='alert(1)'>`;
const HOSTILE_ESCAPED =
  '&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=&#39;alert(1)&#39;&gt;';

const SHELL = {
  refreshUrl: '/calls/c-1?format=fragment',
  refreshMs: 1500,
  nonce: 'n0nce',
  viewToken: 'view.1.abc',
};

type Moment = TimelineEntry extends infer E
  ? E extends unknown
    ? Omit<E, 'at' | 'offsetMs' | 'run'>
    : never
  : never;

function entry(offsetMs: number, e: Moment): TimelineEntry {
  return {
    at: new Date(1_790_000_000_000 + offsetMs).toISOString(),
    offsetMs,
    run: 1,
    ...e,
  };
}

function timeline(overrides: Partial<CallTimeline> = {}): CallTimeline {
  return {
    workflowId: 'call-c-1',
    callId: 'c-1',
    profile: 'default',
    status: 'completed',
    startedAt: '2026-09-21T10:00:00.000Z',
    endedAt: '2026-09-21T10:00:42.000Z',
    durationMs: 42_000,
    endReason: 'caller-hangup',
    runs: [{ runId: 'r-1', startedAt: '2026-09-21T10:00:00.000Z', closedAt: '2026-09-21T10:00:42.000Z' }],
    counts: { turns: 2, bargeIns: 1, reprompts: 0, callerLines: 2, agentLines: 6 },
    entries: [
      entry(500, { kind: 'agent', text: 'Hello, how can I help?', utterance: 'greeting', outcome: 'done' }),
      entry(3000, { kind: 'caller', text: HOSTILE }),
      entry(3400, {
        kind: 'agent',
        text: `You said: ${HOSTILE}`,
        utterance: 'reply',
        turn: 1,
        outcome: 'done',
        cut: 'interrupted',
      }),
      // Sent, but still queued behind the line playing when the caller cut in.
      entry(3500, {
        kind: 'agent',
        text: '<b>Never</b> said.',
        utterance: 'reply',
        turn: 1,
        outcome: 'done',
        cut: 'unheard',
      }),
      entry(4100, { kind: 'caller', text: 'Stop </main> there.' }),
      entry(4150, {
        kind: 'barge-in',
        turn: 1,
        flushed: true,
        interrupted: `You said: ${HOSTILE}`,
        cut: ['<b>Never</b> said.', 'Nor this.'],
      }),
      entry(4500, { kind: 'agent', text: 'Fine.', utterance: 'reply', turn: 2, outcome: 'gone' }),
      entry(4600, { kind: 'agent', text: 'Fine.', utterance: 'reply', turn: 2, outcome: 'done' }),
      entry(4700, { kind: 'agent', text: 'And more.', utterance: 'reply', turn: 2, outcome: 'pending' }),
      entry(42_000, { kind: 'ended', reason: 'caller-hangup' }),
    ],
    turns: [
      {
        turn: 1,
        run: 1,
        question: HOSTILE,
        firstTokenMs: 100,
        firstSentenceMs: 250,
        firstSayMs: 400,
        outcome: 'cancelled',
        attempts: 1,
        sentences: 3,
        said: 1,
      },
      {
        turn: 2,
        run: 1,
        question: 'Stop </main> there.',
        firstTokenMs: 50,
        firstSentenceMs: 120,
        firstSayMs: 200,
        outcome: 'completed',
        attempts: 1,
        sentences: 1,
        said: 1,
      },
    ],
    ...overrides,
  };
}

describe('markup', () => {
  it('escapes what it interpolates, in text and in attributes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    expect(markup`<p title="${'"><script>'}">${'<b>'}</p>`.html).toBe(
      '<p title="&quot;&gt;&lt;script&gt;">&lt;b&gt;</p>',
    );
  });

  it('keeps its own markup, joins arrays, leaves nothing and booleans out', () => {
    const items = ['<1>', '2'].map((t) => markup`<li>${t}</li>`);
    const list = markup`<ul>${items}</ul>${undefined}${null}${false}${true}${0}`;
    expect(list.html).toBe('<ul><li>&lt;1&gt;</li><li>2</li></ul>0');
    expect(markup`${new Markup('<br>')}`.html).toBe('<br>');
  });
});

describe('the call page', () => {
  const page = renderCallPage({ timeline: timeline(), temporalUi: 'https://ui.example/w?a=1&b="2"' }, SHELL);

  it('escapes every transcript: the caller, the agent, what a barge-in cut, the turn questions', () => {
    expect(page).not.toContain('<script>alert');
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<b>Never</b>');
    expect(page).not.toContain('Stop </main> there');
    // The caller's line, the agent's echo, the flushed sentence, the first turn's question.
    expect(page.split(HOSTILE_ESCAPED)).toHaveLength(5);
    expect(page).toContain('&lt;b&gt;Never&lt;/b&gt; said.');
    expect(page).toContain('Stop &lt;/main&gt; there.');
    expect(page).toContain('href="https://ui.example/w?a=1&amp;b=&quot;2&quot;"');
    // Its one script is its own, with the nonce of its Content-Security-Policy.
    expect(page.match(/<script/g)).toEqual(['<script']);
    expect(page).toContain('<script nonce="n0nce">');
    expect(page.match(/<\/main>/g)).toHaveLength(1);
  });

  it("escapes the call's own fields too", () => {
    const t = timeline({
      callId: '<i>c</i>',
      workflowId: 'call-<i>c</i>',
      profile: '<u>p</u>',
      entries: [],
      turns: [],
    });
    const text = renderCallMain({ timeline: t }).html;
    expect(text).not.toMatch(/<[iu]>/);
    expect(text).toContain('&lt;i&gt;c&lt;/i&gt;');
    expect(renderMissingCallPage('<script>x</script>')).not.toContain('<script>x');
  });

  it('shows the conversation, the lines a barge-in cut and what the caller never heard', () => {
    const main = renderCallMain({ timeline: timeline() }).html;
    expect(main.match(/data-kind="caller"/g)).toHaveLength(2);
    expect(main.match(/data-kind="agent"/g)).toHaveLength(6);
    const agent = [...main.matchAll(/<li class="entry line agent[^]*?<\/li>/g)].map((m) => m[0]);
    expect(agent[1]).toContain('data-cut="interrupted"');
    expect(agent[1]).toContain('<span class="tag cut">cut off by the caller</span>');
    expect(agent[2]).toContain('data-cut="unheard"');
    expect(agent[2]).toContain('never heard: flushed before it played');
    expect(agent[3]).toContain('not said: the speaking session was gone (said again on a new one)');
    expect(agent[5]).toContain('<span class="tag">sending</span>');
    for (const i of [0, 3, 4, 5]) expect(agent[i]).not.toContain('data-cut');
    const bargeIn = /<li class="entry barge-in"[^]*?<\/li>/.exec(main)![0];
    expect(bargeIn).toContain('turn 1 cancelled');
    expect(bargeIn).toContain(`Flushed while it played: <q>You said: ${HOSTILE_ESCAPED}</q>`);
    expect(bargeIn).toContain('Never heard: <q>&lt;b&gt;Never&lt;/b&gt; said.</q> <q>Nor this.</q>');
    expect(main).toContain('<span class="badge completed">completed</span> · caller-hangup');
  });

  it('draws one latency row per turn, three bars each, to the scale of the longest', () => {
    const main = renderCallMain({ timeline: timeline() }).html;
    const rows = main.match(/<li class="turn"[^]*?<\/li>/g)!;
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.match(/class="bar-row"/g)).toHaveLength(3);
    const widths = [...main.matchAll(/class="bar (\w+)" style="width:([\d.]+)%"/g)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    expect(widths).toEqual([
      ['token', 25],
      ['sentence', 62.5],
      ['say', 100],
      ['token', 12.5],
      ['sentence', 30],
      ['say', 50],
    ]);
    expect(rows[0]).toContain('400 ms');
    expect(rows[1]).toContain('50 ms');
  });

  it('a running call: its phase, and the page refreshes itself with its view token', () => {
    const t = timeline({ status: 'running', live: { phase: 'listening', callStatus: 'progressing' } });
    const running = renderCallPage({ timeline: t }, SHELL);
    expect(running).toContain('<main id="call" data-status="running">');
    expect(running).toContain('running</span> · listening · VoIPBIN call progressing');
    expect(running).toContain(
      '<body data-refresh="/calls/c-1?format=fragment" data-interval-ms="1500" data-view-token="view.1.abc">',
    );
  });
});
