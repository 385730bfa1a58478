// The timeline as text, for `inspect`: one line per moment of the call, then the turns' latencies.
import type { CallTimeline, TimelineEntry, TurnTiming } from './timeline';

function seconds(ms: number): string {
  return `+${(ms / 1000).toFixed(3)}s`;
}

function quote(text: string): string {
  return JSON.stringify(text);
}

/** A tool call in a line: what was called, with what, and how it went (the call page says it the same). */
export function toolText(e: Extract<TimelineEntry, { kind: 'tool' }>): string {
  const call = `${e.name}${e.arguments === undefined ? '' : ` ${e.arguments}`} (turn ${e.turn})`;
  const retried = e.attempts && e.attempts > 1 ? `, ${e.attempts} attempts (same Idempotency-Key)` : '';
  const took = e.ms === undefined ? '' : ` in ${Math.round(e.ms)} ms${retried}`;
  if (e.outcome === 'ok') return `${call} -> ok${took}${e.result ? `: ${e.result}` : ''}`;
  if (e.outcome === 'error') return `${call} -> FAILED${took}: ${e.error ?? 'failed'}`;
  if (e.outcome === 'running') return `${call} -> running`;
  return call;
}

function describe(e: TimelineEntry): [string, string] {
  switch (e.kind) {
    case 'call-status':
      return ['call', e.status];
    case 'session':
      return ['session', `${e.session} ${e.id}${e.adopted ? ' (adopted: it already existed)' : ''}`];
    case 'session-failed':
      return ['session', `${e.session} could not be created: ${e.error}`];
    case 'caller': {
      const notes = [e.recovered && 'recovered by reconciliation', e.backchannel && 'backchannel'].filter(
        Boolean,
      );
      return ['caller', `${quote(e.text)}${notes.length ? `  (${notes.join(', ')})` : ''}`];
    }
    case 'agent': {
      const what =
        e.utterance === 'reply' ? (e.turn !== undefined ? `turn ${e.turn}` : 'reply') : e.utterance;
      const notes = [
        what,
        e.cut === 'interrupted' && 'cut off',
        e.cut === 'unheard' && 'flushed before it played',
        e.outcome === 'failed' && '/say failed: maybe said, never resent',
        e.outcome === 'gone' && 'not said: the speaking session was gone',
        e.outcome === 'pending' && 'sending',
      ].filter(Boolean);
      return ['agent', `${quote(e.text)}  [${notes.join(', ')}]`];
    }
    case 'barge-in': {
      const parts = [e.turn !== undefined ? `turn ${e.turn} cancelled` : 'no reply in flight'];
      if (e.toolsLeftRunning?.length) parts.push(`${e.toolsLeftRunning.join(', ')} left to finish`);
      if (e.flushed) parts.push(e.interrupted ? `flushed, cutting off ${quote(e.interrupted)}` : 'flushed');
      if (e.cut.length) parts.push(`never heard: ${e.cut.map(quote).join(' ')}`);
      return ['barge-in', parts.join('; ')];
    }
    case 'turn-failed':
      return ['turn', `turn ${e.turn} failed: ${e.error}`];
    case 'turn-retried':
      return [
        'turn',
        `turn ${e.turn} continued by attempt ${e.attempt} (the last one failed or timed out: a worker lost or too busy to heartbeat)`,
      ];
    case 'tool':
      return ['tool', toolText(e)];
    case 'reconciled':
      return [
        'reconcile',
        `VoIPBIN says the call is ${e.callStatus}; ${e.recovered} transcript(s) recovered`,
      ];
    case 'hangup':
      return ['hangup', e.ok ? 'the agent hung up' : 'the agent hang-up request failed'];
    case 'continued-as-new':
      return ['run', `continued as new: run ${e.nextRun}`];
    case 'ended':
      return ['ended', e.reason];
  }
}

function ms(value: number | undefined): string {
  return value === undefined ? '-' : String(Math.round(value));
}

function turnRow(t: TurnTiming): string[] {
  return [
    String(t.turn),
    ms(t.firstTokenMs),
    ms(t.firstSentenceMs),
    ms(t.firstSayMs),
    t.outcome + (t.attempts > 1 ? ` (${t.attempts} attempts)` : ''),
    `${t.said}/${t.sentences}`,
    t.question === undefined ? '' : quote(t.question),
  ];
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

export function formatTimeline(t: CallTimeline, uiLink?: string): string[] {
  const status =
    t.status === 'running'
      ? `running${t.live ? ` (${t.live.phase}, call ${t.live.callStatus})` : ''}`
      : `${t.status}${t.endReason ? ` (${t.endReason})` : ''}`;
  const c = t.counts;
  const lines = [
    `call ${t.callId}  (workflow ${t.workflowId}, profile ${t.profile})`,
    `status: ${status}; ${t.runs.length} run${t.runs.length === 1 ? '' : 's'}; started ${t.startedAt}` +
      (t.durationMs !== undefined ? `; lasted ${(t.durationMs / 1000).toFixed(1)} s` : ''),
    `${c.turns} turn(s), ${c.bargeIns} barge-in(s), ${c.reprompts} reprompt(s)`,
    ...(uiLink ? [`Temporal UI: ${uiLink}`] : []),
    '',
  ];
  const described = t.entries.map((e) => [seconds(e.offsetMs), ...describe(e)] as string[]);
  lines.push(...table(described.length ? described : [['', '', '']]).map((l) => `  ${l}`));
  if (t.turns.length) {
    lines.push('', "turns (ms from the caller's final transcript):");
    const header = ['turn', 'first token', 'first sentence', 'first /say', 'outcome', 'said', 'question'];
    lines.push(...table([header, ...t.turns.map(turnRow)]).map((l) => `  ${l}`));
  }
  return lines;
}
