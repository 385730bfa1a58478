// The call timeline of `inspect` and the call page, built from committed histories of real calls
// (test/replay/histories, recorded through the whole stack): what each shows, line by line.
import { join } from 'node:path';
import { readHistoryFile } from '../../src/histories';
import { formatTimeline } from '../../src/inspect/format';
import { buildTimeline, type CallTimeline, type TimelineEntry } from '../../src/inspect/timeline';

const DIR = join(__dirname, '..', 'replay', 'histories');

function timelineOf(...files: string[]): CallTimeline {
  const runs = files.map((f) => readHistoryFile(join(DIR, `${f}.json`)));
  return buildTimeline(
    runs[0]!.workflowId,
    runs.map((r) => ({ runId: r.runId, history: r.history })),
  );
}

/** Each entry without its times: what happened, in order. */
function lines(t: CallTimeline): string[] {
  return t.entries.map((e: TimelineEntry) => {
    switch (e.kind) {
      case 'caller':
        return `caller ${e.text}${e.recovered ? ' (recovered)' : ''}${e.backchannel ? ' (backchannel)' : ''}`;
      case 'agent':
        return `agent ${e.utterance}${e.turn !== undefined ? ` ${e.turn}` : ''}: ${e.text}${e.cut ? ` (${e.cut})` : ''}${e.outcome !== 'done' ? ` [${e.outcome}]` : ''}`;
      case 'barge-in':
        return `barge-in turn=${e.turn ?? '-'} flushed=${e.flushed} interrupted=${e.interrupted ?? '-'} cut=${JSON.stringify(e.cut)}`;
      case 'call-status':
        return `call ${e.status}`;
      case 'session':
        return `session ${e.session}`;
      case 'reconciled':
        return `reconciled ${e.callStatus} +${e.recovered}`;
      case 'tool':
        return `tool ${e.name} ${e.turn}`;
      case 'turn-retried':
        return `turn ${e.turn} attempt ${e.attempt}`;
      case 'continued-as-new':
        return `run ${e.nextRun}`;
      case 'hangup':
        return `hangup ${e.ok}`;
      case 'ended':
        return `ended ${e.reason}`;
      default:
        return e.kind;
    }
  });
}

const GREETING = 'Hello, thanks for calling. How can I help?';

it('a barge-in: the turn cancelled, what was playing cut off, the caller answered, the call ended by the model', () => {
  const t = timelineOf('barge-in-and-end-call');
  expect(lines(t).filter((l) => !l.startsWith('session'))).toEqual([
    'call dialing',
    'call progressing',
    `agent greeting: ${GREETING}`,
    'caller Tell me everything about my account.',
    'agent reply 1: Sure, here is everything. (interrupted)',
    'caller Stop, just the balance please.',
    'barge-in turn=1 flushed=true interrupted=Sure, here is everything. cut=[]',
    'agent reply 2: You said: Stop, just the balance please.',
    'agent reply 2: How else can I help you today?',
    'caller Thanks, goodbye.',
    'tool end_call 3',
    'agent reply 3: Goodbye!',
    'hangup true',
    'call terminating',
    'call hangup',
    'ended agent-ended',
  ]);
  expect(t).toMatchObject({
    status: 'completed',
    endReason: 'agent-ended',
    profile: 'default',
    counts: { turns: 3, bargeIns: 1, reprompts: 0, callerLines: 3, agentLines: 5 },
  });
  expect(t.runs).toHaveLength(1);
  // Latencies from the caller's final transcript, in ms of the server's clock (this history's).
  expect(
    t.turns.map((x) => [x.turn, x.outcome, x.firstSentenceMs, x.firstSayMs, x.said, x.sentences]),
  ).toEqual([
    [1, 'cancelled', 226, 234, 1, 1],
    [2, 'completed', 20, 31, 2, 2],
    [3, 'completed', 29, 39, 1, 1],
  ]);
});

it('a reply whose worker died: the turn continued by its second attempt, every sentence said once', () => {
  const t = timelineOf('failover-continued-reply');
  expect(lines(t).filter((l) => l.startsWith('agent reply 1') || l.startsWith('turn'))).toEqual([
    'agent reply 1: Sure, here is everything about your account.',
    'agent reply 1: It was opened in March two thousand nineteen.',
    'turn 1 attempt 2',
    'agent reply 1: It has two cards and one savings pocket.',
    'agent reply 1: Your last payment was on the first of the month.',
    'agent reply 1: Your next statement is due in ten days.',
    'agent reply 1: Is there anything else I can help you with?',
  ]);
  expect(t.turns[0]).toMatchObject({ outcome: 'completed', attempts: 2, said: 6, sentences: 6 });
});

it('a transcript lost in an outage: recovered by reconciliation, and answered', () => {
  const t = timelineOf('outage-reconciled');
  expect(lines(t).filter((l) => l.startsWith('caller') || l.startsWith('reconciled'))).toEqual([
    'caller I need help with my bill.',
    'reconciled progressing +1',
    'caller What are your opening hours? (recovered)',
    'reconciled progressing +0',
    'reconciled hangup +0',
  ]);
  expect(t.turns[1]).toMatchObject({ question: 'What are your opening hours?', outcome: 'completed' });
});

it('silence: the reprompt, then the goodbye, counted', () => {
  const t = timelineOf('silence-reprompt-goodbye');
  expect(lines(t).filter((l) => l.startsWith('agent'))).toEqual([
    `agent greeting: ${GREETING}`,
    'agent reprompt: Are you still there?',
    'agent goodbye: Thank you for calling. Goodbye.',
  ]);
  expect(t).toMatchObject({ endReason: 'silence', counts: { reprompts: 1, turns: 0 } });
});

it('a speaking session gone: the sentence not said on it, said again on the new one, counted once', () => {
  const t = timelineOf('speaking-session-gone');
  expect(lines(t).filter((l) => l.startsWith('agent') || l.startsWith('session'))).toEqual([
    'session transcribe',
    'session speaking',
    `agent greeting: ${GREETING}`,
    'agent reply 1: You said: What is my balance. [gone]',
    'session speaking',
    'agent reply 1: You said: What is my balance.',
    'agent reply 1: How else can I help you today?',
  ]);
  expect(t.turns[0]).toMatchObject({ said: 2, sentences: 2 });
});

it('turn-taking: backchannels marked, a split utterance answered as one, the barge-in before its final', () => {
  const t = timelineOf('turn-taking');
  const shown = lines(t);
  expect(shown.filter((l) => l.startsWith('caller'))).toEqual([
    'caller Tell me about your plans.',
    'caller Mm-hmm. (backchannel)',
    'caller okay (backchannel)',
    'caller I would like to know',
    'caller your opening hours please?',
    'caller Tell me everything about my account.',
    'caller Stop, just the balance please, thank you.',
  ]);
  // Cut off on the interim words: the flush comes before the caller's final transcript.
  const barge = shown.findIndex((l) => l.startsWith('barge-in'));
  expect(shown[barge]).toBe('barge-in turn=3 flushed=true interrupted=Sure, here is everything. cut=[]');
  expect(shown[barge + 1]).toBe('caller Stop, just the balance please, thank you.');
  expect(t.turns[1]!.question).toBe('Mm-hmm. okay I would like to know your opening hours please?');
});

it('tools: each call with its arguments, result and time; the filler; a turn answered in a second step; the transfer', () => {
  const t = timelineOf('tools-and-transfer');
  expect(lines(t).filter((l) => !l.startsWith('session') && !l.startsWith('call '))).toEqual([
    `agent greeting: ${GREETING}`,
    'caller What is my balance? Account 42.',
    'tool get_balance 1',
    'agent filler: One moment while I check that.',
    'agent reply 1: Here is what I found: balance $12.50.',
    'agent reply 1: Is there anything else I can help you with?',
    'caller And the balance of account 7?',
    'tool get_balance 2',
    'agent filler: One moment while I check that. (interrupted)',
    'caller Sorry, go on.',
    'barge-in turn=2 flushed=true interrupted=One moment while I check that. cut=[]',
    'agent reply 3: You said: Sorry, go on.',
    'agent reply 3: How else can I help you today?',
    'caller Can I talk to a person?',
    'agent transfer: Let me put you through.',
    'tool transfer_call 4',
    'ended transferred',
  ]);
  const tools = t.entries.filter((e) => e.kind === 'tool');
  // The caller cut turn 2 off while its tool ran: the tool was left to finish, and its result is in.
  expect(t.entries.find((e) => e.kind === 'barge-in')).toMatchObject({
    turn: 2,
    toolsLeftRunning: ['get_balance'],
  });
  expect(tools.map((e) => [e.arguments, e.outcome, e.result])).toEqual([
    ['{"account":"42"}', 'ok', '{"balance":"$12.50"}'],
    ['{"account":"7"}', 'ok', '{"balance":"$12.50"}'],
    ['{"to":"+15550001111"}', 'ok', undefined],
  ]);
  // The CRM answered after 2 s.
  expect(tools[0]?.ms).toBeGreaterThanOrEqual(2000);
  // Turn 1's latencies run from the question to its answer, through the tool and the second step.
  const first = t.turns[0]!;
  expect(first).toMatchObject({ turn: 1, sentences: 2, said: 2, outcome: 'completed' });
  expect(first.firstSentenceMs).toBeGreaterThanOrEqual(2000);
  expect(formatTimeline(t).join('\n')).toMatch(
    /tool +get_balance \{"account":"42"\} \(turn 1\) -> ok in \d+ ms: \{"balance":"\$12\.50"\}/,
  );
});

it('a call that continued as new twice: one timeline over its three runs', () => {
  const t = timelineOf('continue-as-new-1', 'continue-as-new-2', 'continue-as-new-3');
  expect(t.runs).toHaveLength(3);
  expect(
    lines(t).filter((l) => l.startsWith('run') || l.startsWith('caller') || l.startsWith('ended')),
  ).toEqual([
    'caller Question 1?',
    'caller Question 2?',
    'run 2',
    'caller Question 3?',
    'caller Question 4?',
    'run 3',
    'ended caller-hangup',
  ]);
  expect(t.turns.map((x) => [x.turn, x.outcome])).toEqual([
    [1, 'completed'],
    [2, 'completed'],
    [3, 'completed'],
    [4, 'completed'],
  ]);
  expect(new Set(t.entries.filter((e) => e.kind === 'caller').map((e) => e.run))).toEqual(new Set([1, 2]));
  // The greeting was still playing (by the estimate) when the first question came: flushed.
  expect(lines(t)).toContain(`barge-in turn=- flushed=true interrupted=${GREETING} cut=[]`);
});

it('the text form: one line per moment, the turns table, the UI link', () => {
  const text = formatTimeline(
    timelineOf('barge-in-and-end-call'),
    'http://ui/namespaces/default/workflows/x',
  );
  expect(text.slice(0, 4)).toEqual([
    'call 6455d46a-c1b7-4248-a78b-74539dcb599e  (workflow call-6455d46a-c1b7-4248-a78b-74539dcb599e, profile default)',
    'status: completed (agent-ended); 1 run; started 2026-11-24T20:47:01.651Z; lasted 11.0 s',
    '3 turn(s), 1 barge-in(s), 0 reprompt(s)',
    'Temporal UI: http://ui/namespaces/default/workflows/x',
  ]);
  expect(text).toContain('  +3.448s   agent     "Sure, here is everything."  [turn 1, cut off]');
  expect(text).toContain(
    '  +3.674s   barge-in  turn 1 cancelled; flushed, cutting off "Sure, here is everything."',
  );
  expect(text.slice(-4)).toEqual([
    '  turn  first token  first sentence  first /say  outcome    said  question',
    '  1     -            226             234         cancelled  1/1   "Tell me everything about my account."',
    '  2     -            20              31          completed  2/2   "Stop, just the balance please."',
    '  3     -            29              39          completed  1/1   "Thanks, goodbye."',
  ]);
});

it('a call under load flushed twice: what the first flush dropped is not listed again by the second', () => {
  // Recorded by `npm run bench -- load-serve` (a failed check keeps its history): the answer's
  // second sentence was still queued when the caller's next question cut in.
  const run = readHistoryFile(join(__dirname, '..', 'fixtures', 'histories', 'load-two-flushes.json'));
  const t = buildTimeline(run.workflowId, [{ runId: run.runId, history: run.history }]);
  expect(lines(t).filter((l) => l.startsWith('barge-in'))).toEqual([
    'barge-in turn=- flushed=true interrupted=- cut=["We close at six."]',
    'barge-in turn=- flushed=true interrupted=- cut=[]',
  ]);
});
