// A scenario's expectations checked against the call as the workflow recorded it (the `inspect`
// timeline): in order, each one met by a later moment of the call than the one before.
import type { CallTimeline, TimelineEntry } from '../inspect/timeline';
import { describeText, textMatches, type Expectation } from './scenario';

export interface ExpectationResult {
  expectation: string;
  ok: boolean;
  /** What met it, or why nothing did. */
  detail: string;
}

function describe(e: Expectation): string {
  if ('agent' in e)
    return `the agent says ${describeText(e.agent)}${e.withinMs !== undefined ? ` within ${e.withinMs} ms` : ''}`;
  if ('bargeIn' in e) return 'the caller barges in';
  if ('tool' in e) {
    const args = e.arguments === undefined ? '' : ` with arguments ${describeText(e.arguments)}`;
    const outcome = e.ok === undefined ? '' : e.ok ? ', which answers' : ', which fails';
    return `the agent calls ${e.tool}${args}${outcome}`;
  }
  if ('reprompt' in e) return 'the agent reprompts';
  if ('turns' in e) return `the call has ${e.turns} turn(s)`;
  return `the call ends: ${e.ended}`;
}

/** Each expectation, in order; after the first that fails, the rest are not looked for. */
export function checkExpectations(t: CallTimeline, expectations: Expectation[]): ExpectationResult[] {
  const entries = t.entries;
  let cursor = 0;
  const results: ExpectationResult[] = [];
  let failed = false;
  for (const e of expectations) {
    const expectation = describe(e);
    if (failed) {
      results.push({ expectation, ok: false, detail: 'not checked: an earlier expectation failed' });
      continue;
    }
    if ('turns' in e) {
      const ok = t.counts.turns === e.turns;
      const questions = t.turns.map((x) => JSON.stringify(x.question ?? '')).join(', ');
      results.push({ expectation, ok, detail: `${t.counts.turns}${questions ? `: ${questions}` : ''}` });
      failed ||= !ok;
      continue;
    }
    if ('ended' in e) {
      const ok = t.endReason === e.ended;
      results.push({
        expectation,
        ok,
        detail: ok ? 'ended so' : `ended ${t.endReason ?? `not (${t.status})`}`,
      });
      failed ||= !ok;
      continue;
    }
    const found = findNext(entries, cursor, (x) => {
      if ('agent' in e) return x.kind === 'agent' && x.outcome !== 'gone' && textMatches(e.agent, x.text);
      if ('bargeIn' in e) return x.kind === 'barge-in';
      if ('tool' in e)
        return (
          x.kind === 'tool' &&
          x.name === e.tool &&
          (e.arguments === undefined || textMatches(e.arguments, x.arguments ?? '')) &&
          (e.ok === undefined || (x.outcome === 'ok') === e.ok)
        );
      return x.kind === 'agent' && x.utterance === 'reprompt';
    });
    if (found < 0) {
      results.push({
        expectation,
        ok: false,
        detail: `not after +${offset(entries[cursor - 1])}: ${nearby(entries, cursor, e)}`,
      });
      failed = true;
      continue;
    }
    const entry = entries[found]!;
    cursor = found + 1;
    if ('agent' in e && e.withinMs !== undefined) {
      const heard = lastCallerBefore(entries, found);
      const latency = heard ? entry.offsetMs - heard.offsetMs : undefined;
      const ok = latency !== undefined && latency <= e.withinMs;
      results.push({
        expectation,
        ok,
        detail:
          latency === undefined
            ? 'no caller words before it'
            : `${latency} ms after the caller's words, at +${offset(entry)}`,
      });
      failed ||= !ok;
      continue;
    }
    results.push({ expectation, ok: true, detail: `at +${offset(entry)}` });
  }
  return results;
}

function findNext(entries: TimelineEntry[], from: number, match: (e: TimelineEntry) => boolean): number {
  for (let i = from; i < entries.length; i++) if (match(entries[i]!)) return i;
  return -1;
}

function lastCallerBefore(entries: TimelineEntry[], index: number): TimelineEntry | undefined {
  for (let i = index - 1; i >= 0; i--) if (entries[i]!.kind === 'caller') return entries[i];
  return undefined;
}

function offset(e: TimelineEntry | undefined): string {
  return `${((e?.offsetMs ?? 0) / 1000).toFixed(3)}s`;
}

/** What the agent did say after the cursor, to show beside a line that never came. */
function nearby(entries: TimelineEntry[], from: number, e: Expectation): string {
  if ('tool' in e) {
    const called = entries
      .slice(from)
      .flatMap((x) =>
        x.kind === 'tool' ? [`${x.name} ${x.arguments ?? ''} (${x.outcome ?? 'called'})`] : [],
      );
    return called.length ? `the agent called ${called.join(', ')}` : 'the agent called no tool';
  }
  if (!('agent' in e)) return 'never happened';
  const said = entries
    .slice(from)
    .filter((x) => x.kind === 'agent')
    .map((x) => JSON.stringify((x as { text: string }).text));
  return said.length
    ? `the agent said ${said.slice(0, 4).join(', ')}${said.length > 4 ? ', ...' : ''}`
    : 'the agent said nothing more';
}
