// The call timeline of `inspect` and the call page, built from committed histories of real calls
// (test/replay/histories, recorded through the whole stack): what each shows, line by line. Then
// speaking turns (profile `replySpeech: direct`), from synthetic histories of the events they leave.
import { join } from 'node:path';
import { defaultPayloadConverter } from '@temporalio/common';
import type { FlushTurnResult, LlmTurnResult, SpokenSentence, TurnSpeech } from '../../activities/types';
import { readHistoryFile } from '../../src/histories';
import { formatTimeline } from '../../src/inspect/format';
import {
  buildTimeline,
  type CallTimeline,
  type SpeakingNow,
  type TimelineEntry,
} from '../../src/inspect/timeline';

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

it.each([
  ['through the server (flushTurn)', 'speaking-barge-in-and-end-call'],
  ['where it ran (cutTurn)', 'speaking-barge-in-cut-here'],
  ['where it ran, when the ingress heard the caller', 'speaking-barge-in-on-hearing'],
  ['where it ran, when the ingress heard the caller, ending at once', 'speaking-barge-in-ended-on-hearing'],
])('replies that speak for themselves, one cut off %s: the same call, line by line', (_how, file) => {
  const t = timelineOf(file);
  expect(lines(t).filter((l) => !l.startsWith('session') && !l.startsWith('call '))).toEqual([
    `agent greeting: ${GREETING}`,
    'caller What are your opening hours?',
    'agent reply 1: You said: What are your opening hours.',
    'agent reply 1: How else can I help you today?',
    'caller Tell me everything about my account.',
    'agent reply 2: Sure, here is everything. (interrupted)',
    'caller Stop, just the balance please.',
    'barge-in turn=2 flushed=true interrupted=Sure, here is everything. cut=[]',
    'agent reply 3: You said: Stop, just the balance please.',
    'agent reply 3: How else can I help you today?',
    'caller Thanks, goodbye.',
    'agent reply 4: Goodbye!',
    'tool end_call 4',
    'hangup true',
    'ended agent-ended',
  ]);
  expect(t.counts).toEqual({ turns: 4, bargeIns: 1, reprompts: 0, callerLines: 4, agentLines: 7 });
  expect(t.turns.map((x) => [x.turn, x.outcome, x.said, x.sentences])).toEqual([
    [1, 'completed', 2, 2],
    [2, 'cancelled', 1, 1],
    [3, 'completed', 2, 2],
    [4, 'completed', 1, 1],
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

describe("speaking turns: the turn's activity says its own sentences", () => {
  // Synthetic histories, with only the events the timeline reads, at chosen times (ms since the
  // call began). The voice says 10 characters a second: a sentence of 25 plays for 2.5 s.
  const T0 = Date.parse('2026-12-01T10:00:00.000Z');
  const PROFILE = {
    greeting: GREETING,
    repromptText: 'Are you still there?',
    goodbyeText: 'Thank you for calling. Goodbye.',
    apologyText: "Sorry, I'm having trouble right now.",
    language: 'en-US',
    speechCharsPerSecond: 10,
    tools: [{ name: 'get_balance', fillerText: 'One moment.' }],
  };
  const payloads = (...values: unknown[]) => ({
    payloads: values.map((v) => defaultPayloadConverter.toPayload(v)),
  });
  const said = (text: string, ms: number, outcome: SpokenSentence['outcome'] = 'done'): SpokenSentence => ({
    text,
    at: T0 + ms,
    outcome,
  });

  class Call {
    readonly events: Record<string, unknown>[] = [];
    private transcripts = 0;

    constructor() {
      this.add(0, {
        workflowExecutionStartedEventAttributes: {
          input: payloads({ callId: 'c1', profileName: 'speaking', profile: PROFILE }),
        },
      });
    }

    add(ms: number, attributes: Record<string, unknown>): number {
      const at = T0 + ms;
      const eventId = this.events.length + 1;
      this.events.push({
        eventId,
        eventTime: { seconds: Math.floor(at / 1000), nanos: (at % 1000) * 1e6 },
        ...attributes,
      });
      return eventId;
    }

    /** A workflow task started at `ms`: what follows it, until the next, is what it decided. */
    task(ms: number): void {
      this.add(ms, { workflowTaskStartedEventAttributes: {} });
      this.add(ms + 2, { workflowTaskCompletedEventAttributes: {} });
    }

    caller(ms: number, text: string): void {
      const event = { kind: 'transcript', id: `tr-${++this.transcripts}`, direction: 'in', text };
      this.add(ms, {
        workflowExecutionSignaledEventAttributes: { signalName: 'voipbinEvent', input: payloads(event) },
      });
    }

    scheduled(ms: number, type: string, input: unknown, activityId = `a-${this.events.length + 1}`): number {
      return this.add(ms, {
        activityTaskScheduledEventAttributes: {
          activityId,
          activityType: { name: type },
          input: payloads(input),
        },
      });
    }

    /** A speaking turn's step, under its own activity id (call-state `turnActivityId`). */
    llmTurn(ms: number, turnId: number, step = 0): number {
      const input = { turnId, ...(step > 0 && { step }), speak: { speakingId: 'sp-1' } };
      return this.scheduled(ms, 'llmTurn', input, `turn-${turnId}-${step}`);
    }

    flushTurn(ms: number, turnId: number, step = 0): number {
      const input = {
        speakingId: 'sp-1',
        activityId: `turn-${turnId}-${step}`,
        playing: false,
        charsPerSecond: 10,
      };
      return this.scheduled(ms, 'flushTurn', input);
    }

    say(ms: number, text: string): number {
      const id = this.scheduled(ms, 'say', { speakingId: 'sp-1', text });
      this.completed(ms + 50, id, undefined);
      return id;
    }

    completed(
      ms: number,
      scheduledEventId: number,
      result: LlmTurnResult | FlushTurnResult | undefined,
    ): void {
      this.add(ms, { activityTaskCompletedEventAttributes: { scheduledEventId, result: payloads(result) } });
    }

    cancelRequested(ms: number, scheduledEventId: number): void {
      this.add(ms, { activityTaskCancelRequestedEventAttributes: { scheduledEventId } });
    }

    canceled(ms: number, scheduledEventId: number): void {
      this.add(ms, { activityTaskCanceledEventAttributes: { scheduledEventId } });
    }

    /** An attempt that threw: the activity adds what it said as its failure's last detail. */
    failed(ms: number, scheduledEventId: number, message: string, details: unknown[]): void {
      const failure = { message, applicationFailureInfo: { type: 'Error', details: payloads(...details) } };
      this.add(ms, { activityTaskFailedEventAttributes: { scheduledEventId, failure } });
    }

    /** A dead worker's attempt: what it said is in its last heartbeat. */
    timedOut(ms: number, scheduledEventId: number, speech: TurnSpeech): void {
      const failure = {
        message: 'activity Heartbeat timeout',
        timeoutFailureInfo: { lastHeartbeatDetails: payloads(speech) },
      };
      this.add(ms, { activityTaskTimedOutEventAttributes: { scheduledEventId, failure } });
    }

    localActivity(ms: number, type: string, result: unknown): void {
      const at = T0 + ms;
      const data = {
        activity_type: type,
        complete_time: { seconds: Math.floor(at / 1000), nanos: (at % 1000) * 1e6 },
      };
      this.add(ms + 5, {
        markerRecordedEventAttributes: {
          markerName: 'core_local_activity',
          details: { data: payloads(data), result: payloads(result) },
        },
      });
    }

    timeline(speakingNow?: SpeakingNow): CallTimeline {
      return buildTimeline(
        'call-c1',
        [{ runId: 'r1', history: { events: this.events } }],
        undefined,
        speakingNow,
      );
    }
  }

  const EVERYTHING = 'Sure, here is everything.'; // 2.5 s
  const BALANCE = 'Your balance is ten dollars.'; // 2.8 s
  const timings = (t: CallTimeline) =>
    t.turns.map((x) => ({
      turn: x.turn,
      outcome: x.outcome,
      firstTokenMs: x.firstTokenMs,
      firstSentenceMs: x.firstSentenceMs,
      firstSayMs: x.firstSayMs,
      said: x.said,
      sentences: x.sentences,
    }));

  it('a call still running: what its speaking turn has recorded so far, as the server describes it', () => {
    const c = new Call();
    c.task(0);
    c.say(3, GREETING);
    c.caller(5000, 'What are your opening hours?');
    c.task(5010);
    c.llmTurn(5013, 1);
    const record: TurnSpeech = {
      said: [said('We open at nine.', 5600)],
      saying: { text: 'We close at six.', at: T0 + 5900 },
    };
    const t = c.timeline({ turns: new Map([['turn-1-0', record]]), atMs: T0 + 6000 });
    expect(lines(t)).toEqual([
      `agent greeting: ${GREETING}`,
      'caller What are your opening hours?',
      'agent reply 1: We open at nine.',
      'agent reply 1: We close at six.',
    ]);
    expect(timings(t)).toEqual([
      {
        turn: 1,
        outcome: 'running',
        firstTokenMs: undefined,
        firstSentenceMs: 600,
        firstSayMs: 600,
        said: 2,
        sentences: 2,
      },
    ]);
    // Another step's record is not this turn's; without any, the turn shows nothing yet.
    expect(lines(c.timeline({ turns: new Map([['turn-1-1', record]]), atMs: T0 + 6000 })).slice(2)).toEqual(
      [],
    );
    expect(lines(c.timeline()).slice(2)).toEqual([]);
  });

  it("a reply: a line per sentence, at the moment its /say went out; the latencies from the worker's times", () => {
    const c = new Call();
    c.task(0);
    c.say(3, GREETING);
    c.caller(5000, 'What are your opening hours?');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    c.completed(7000, turn, {
      spoken: { said: [said('We open at nine.', 5600), said('We close at six.', 5900)] },
      firstTokenAt: T0 + 5300,
    });
    const t = c.timeline();
    expect(lines(t)).toEqual([
      `agent greeting: ${GREETING}`,
      'caller What are your opening hours?',
      'agent reply 1: We open at nine.',
      'agent reply 1: We close at six.',
    ]);
    expect(t.entries.filter((e) => e.kind === 'agent').map((e) => e.offsetMs)).toEqual([3, 5600, 5900]);
    expect(timings(t)).toEqual([
      {
        turn: 1,
        outcome: 'completed',
        firstTokenMs: 300,
        firstSentenceMs: 600,
        firstSayMs: 600,
        said: 2,
        sentences: 2,
      },
    ]);
    expect(t.counts).toMatchObject({ turns: 1, agentLines: 3, bargeIns: 0 });
    expect(formatTimeline(t).slice(-2)).toEqual([
      '  turn  first token  first sentence  first /say  outcome    said  question',
      '  1     300          600             600         completed  2/2   "What are your opening hours?"',
    ]);
  });

  it('a barge-in: its flush says what the turn said; the line playing cut off, the one queued never heard', () => {
    const c = new Call();
    c.caller(5000, 'Tell me everything.');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    // Said at 5.5 s (plays to 8 s), then at 5.8 s (queued behind it, to 10.8 s).
    const spoken = { said: [said(EVERYTHING, 5500), said(BALANCE, 5800)] };
    c.caller(6000, 'Stop, just the balance.');
    c.task(6010);
    c.cancelRequested(6013, turn);
    const flush = c.flushTurn(6013, 1);
    // It waited for the second's `/say`, slow to be answered: it ends once the first has played,
    // but what it cut off is what played when the turn was cut.
    c.completed(8100, flush, { spoken, flushed: true });
    c.completed(8150, turn, { cancelled: true, spoken, firstTokenAt: T0 + 5200 });
    c.task(8160);
    const next = c.llmTurn(8163, 2);
    c.completed(9000, next, { spoken: { said: [said('Ten dollars.', 8500)] } });
    const t = c.timeline();
    expect(lines(t)).toEqual([
      'caller Tell me everything.',
      `agent reply 1: ${EVERYTHING} (interrupted)`,
      `agent reply 1: ${BALANCE} (unheard)`,
      'caller Stop, just the balance.',
      `barge-in turn=1 flushed=true interrupted=${EVERYTHING} cut=${JSON.stringify([BALANCE])}`,
      'agent reply 2: Ten dollars.',
    ]);
    expect(timings(t)).toEqual([
      {
        turn: 1,
        outcome: 'cancelled',
        firstTokenMs: 200,
        firstSentenceMs: 500,
        firstSayMs: 500,
        said: 2,
        sentences: 2,
      },
      {
        turn: 2,
        outcome: 'completed',
        firstTokenMs: undefined,
        firstSentenceMs: 2500,
        firstSayMs: 2500,
        said: 1,
        sentences: 1,
      },
    ]);
    expect(t.counts).toMatchObject({ turns: 2, bargeIns: 1, agentLines: 3 });
  });

  it('cut off where it ran when the caller was heard there: cut off then, not at the later workflow task', () => {
    const c = new Call();
    c.caller(5000, 'Tell me everything.');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    // Said at 5.5 s: plays to 8 s. The caller, heard where the turn runs at 6 s, cut it off and
    // flushed at once; the workflow's task for the same words ran only at 9 s (a loaded worker).
    const spoken = { said: [said(EVERYTHING, 5500)] };
    c.caller(6000, 'Stop, just the balance.');
    c.task(9000);
    c.cancelRequested(9003, turn);
    c.localActivity(9004, 'cutTurn', {
      spoken,
      flushed: true,
      activityId: 'turn-1-0',
      // The worker's clock, a moment before the server's time of the words (the signal's).
      onHearing: { at: T0 + 5998 },
    });
    c.completed(9100, turn, { cancelled: true, spoken });
    const t = c.timeline();
    expect(lines(t)).toEqual([
      'caller Tell me everything.',
      `agent reply 1: ${EVERYTHING} (interrupted)`,
      'caller Stop, just the balance.',
      `barge-in turn=1 flushed=true interrupted=${EVERYTHING} cut=[]`,
    ]);
    // Shown after the words that did it.
    const barge = t.entries.find((e) => e.kind === 'barge-in');
    expect(barge?.offsetMs).toBe(6000);
  });

  it('it ended on hearing the caller before the workflow took the words: its result is the barge-in, flushed then', () => {
    const c = new Call();
    c.caller(5000, 'Tell me everything.');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    const spoken = { said: [said(EVERYTHING, 5500)] };
    // Cut off and flushed where it ran at 6 s; its result reached the server before the words did.
    c.completed(6050, turn, { cancelled: true, spoken, onHearing: { at: T0 + 6000, flushed: true } });
    c.caller(6100, 'Stop, just the balance.');
    c.task(6110);
    const next = c.llmTurn(6113, 2);
    c.completed(7000, next, { spoken: { said: [said('Ten dollars.', 6500)] } });
    const t = c.timeline();
    expect(lines(t)).toEqual([
      'caller Tell me everything.',
      `agent reply 1: ${EVERYTHING} (interrupted)`,
      `barge-in turn=1 flushed=true interrupted=${EVERYTHING} cut=[]`,
      'caller Stop, just the balance.',
      'agent reply 2: Ten dollars.',
    ]);
    expect(t.entries.find((e) => e.kind === 'barge-in')?.offsetMs).toBe(6000);
    expect(t.turns[0]).toMatchObject({ outcome: 'cancelled', said: 1, sentences: 1 });
    expect(t.counts).toMatchObject({ turns: 2, bargeIns: 1 });
  });

  it('it ended on hearing, and the workflow took the words in the same task: one barge-in, after the words', () => {
    const c = new Call();
    c.caller(5000, 'Tell me everything.');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    const spoken = { said: [said(EVERYTHING, 5500)] };
    c.caller(6000, 'Stop, just the balance.');
    c.completed(6050, turn, { cancelled: true, spoken, onHearing: { at: T0 + 5998, flushed: true } });
    c.task(6060);
    // The workflow's cut, in that task, found the flush done where the turn ran.
    c.localActivity(6063, 'cutTurn', {
      spoken,
      flushed: true,
      activityId: 'turn-1-0',
      onHearing: { at: T0 + 5998 },
    });
    const t = c.timeline();
    expect(lines(t)).toEqual([
      'caller Tell me everything.',
      `agent reply 1: ${EVERYTHING} (interrupted)`,
      'caller Stop, just the balance.',
      `barge-in turn=1 flushed=true interrupted=${EVERYTHING} cut=[]`,
    ]);
    expect(t.entries.find((e) => e.kind === 'barge-in')?.offsetMs).toBe(6000);
    expect(t.counts).toMatchObject({ turns: 1, bargeIns: 1 });
  });

  it('the flush done before what the turn said is known: cut off by its later result, at the moment it was cut', () => {
    // The call's time is up: the turn is cut off, its flush finds the activity ended (no `spoken`),
    // the goodbye follows the flush; only then does the turn's cancelled result come.
    const c = new Call();
    c.caller(5000, 'Tell me everything.');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    c.task(6010);
    c.cancelRequested(6013, turn);
    const flush = c.flushTurn(6013, 1);
    c.completed(6100, flush, { flushed: true });
    c.task(6110);
    c.say(6113, PROFILE.goodbyeText);
    c.completed(6300, turn, {
      cancelled: true,
      spoken: { said: [said(EVERYTHING, 5500), said(BALANCE, 5800)] },
    });
    const t = c.timeline();
    expect(lines(t)).toEqual([
      'caller Tell me everything.',
      `agent reply 1: ${EVERYTHING} (interrupted)`,
      `agent reply 1: ${BALANCE} (unheard)`,
      `barge-in turn=1 flushed=true interrupted=${EVERYTHING} cut=${JSON.stringify([BALANCE])}`,
      `agent goodbye: ${PROFILE.goodbyeText}`,
    ]);
    expect(t.turns[0]).toMatchObject({ outcome: 'cancelled', said: 2, sentences: 2, firstSayMs: 500 });
  });

  it("the turn's result before its flush: what it said taken once, cut off when the flush is done", () => {
    const c = new Call();
    c.caller(5000, 'Tell me everything.');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    const spoken = { said: [said(EVERYTHING, 5500), said(BALANCE, 5800)] };
    c.caller(6000, 'Stop.');
    c.task(6010);
    c.cancelRequested(6013, turn);
    const flush = c.flushTurn(6013, 1);
    c.completed(6050, turn, { cancelled: true, spoken });
    c.completed(6100, flush, { spoken, flushed: true });
    const t = c.timeline();
    expect(lines(t)).toEqual([
      'caller Tell me everything.',
      `agent reply 1: ${EVERYTHING} (interrupted)`,
      `agent reply 1: ${BALANCE} (unheard)`,
      'caller Stop.',
      `barge-in turn=1 flushed=true interrupted=${EVERYTHING} cut=${JSON.stringify([BALANCE])}`,
    ]);
    expect(t.turns[0]).toMatchObject({ outcome: 'cancelled', said: 2, sentences: 2 });
  });

  it("a cut-off turn that ends cancelled, with no result: what it said is its flush's", () => {
    const c = new Call();
    c.caller(5000, 'Tell me everything.');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    c.caller(6000, 'Stop.');
    c.task(6010);
    c.cancelRequested(6013, turn);
    const flush = c.flushTurn(6013, 1);
    c.completed(6100, flush, { spoken: { said: [said(EVERYTHING, 5500)] }, flushed: true });
    c.canceled(6150, turn);
    const t = c.timeline();
    expect(lines(t)).toEqual([
      'caller Tell me everything.',
      `agent reply 1: ${EVERYTHING} (interrupted)`,
      'caller Stop.',
      `barge-in turn=1 flushed=true interrupted=${EVERYTHING} cut=[]`,
    ]);
    expect(t.turns[0]).toMatchObject({ outcome: 'cancelled', said: 1, sentences: 1 });
  });

  it('a flush that found nothing playing cuts nothing off', () => {
    const c = new Call();
    c.caller(5000, 'Hi.');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    c.caller(9000, 'And another thing.');
    c.task(9010);
    c.cancelRequested(9013, turn);
    const flush = c.flushTurn(9013, 1);
    c.completed(9100, flush, { spoken: { said: [said('Hello!', 5500)] }, flushed: false });
    c.completed(9150, turn, { cancelled: true, spoken: { said: [said('Hello!', 5500)] } });
    expect(lines(c.timeline()).slice(1)).toEqual([
      'agent reply 1: Hello!',
      'caller And another thing.',
      'barge-in turn=1 flushed=false interrupted=- cut=[]',
    ]);
  });

  it("a failed turn: the lines it said (its failure's last detail), then the apology", () => {
    const c = new Call();
    c.caller(5000, 'What is my balance?');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    c.failed(6500, turn, 'model unavailable', [
      { status: 503 },
      { spoken: { said: [said('Let me check.', 5600)] } },
    ]);
    c.task(6510);
    c.say(6513, PROFILE.apologyText);
    const t = c.timeline();
    expect(lines(t)).toEqual([
      'caller What is my balance?',
      'agent reply 1: Let me check.',
      'turn-failed',
      `agent apology: ${PROFILE.apologyText}`,
    ]);
    expect(t.entries.find((e) => e.kind === 'turn-failed')).toMatchObject({ error: 'model unavailable' });
    expect(t.turns[0]).toMatchObject({ outcome: 'failed', said: 1, sentences: 1, firstSayMs: 600 });
  });

  it('a turn whose worker died: its last heartbeat says what it said, the sentence in flight maybe said', () => {
    const c = new Call();
    c.caller(5000, 'What is my balance?');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    c.timedOut(8000, turn, { said: [said('Let me check.', 5600)], saying: { text: BALANCE, at: T0 + 5900 } });
    c.task(8010);
    c.say(8013, PROFILE.apologyText);
    const t = c.timeline();
    expect(lines(t)).toEqual([
      'caller What is my balance?',
      'agent reply 1: Let me check.',
      `agent reply 1: ${BALANCE} [failed]`,
      'turn-failed',
      `agent apology: ${PROFILE.apologyText}`,
    ]);
    expect(t.turns[0]).toMatchObject({ outcome: 'failed', said: 2, sentences: 2 });
  });

  it("sentences it could not say (its speaking session gone): said by the workflow on a new one, the turn's", () => {
    const c = new Call();
    c.caller(5000, 'What is my balance?');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    c.completed(6500, turn, { spoken: { said: [said('Sure.', 5500)], unsaid: [BALANCE, 'Anything else?'] } });
    c.task(6600);
    c.localActivity(6600, 'createSpeaking', { speakingId: 'sp-2', adopted: false });
    c.say(6613, BALANCE);
    c.task(6700);
    c.say(6713, 'Anything else?');
    const t = c.timeline();
    expect(lines(t)).toEqual([
      'caller What is my balance?',
      'agent reply 1: Sure.',
      'session speaking',
      `agent reply 1: ${BALANCE}`,
      'agent reply 1: Anything else?',
    ]);
    expect(t.turns[0]).toMatchObject({ outcome: 'completed', said: 3, sentences: 3, firstSayMs: 500 });
  });

  it('a barge-in while the workflow says what the turn could not: the one not yet said never is', () => {
    const c = new Call();
    c.caller(5000, 'What is my balance?');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    c.completed(6500, turn, { spoken: { said: [said('Sure.', 5500)], unsaid: [BALANCE, 'Anything else?'] } });
    c.task(6600);
    c.localActivity(6600, 'createSpeaking', { speakingId: 'sp-2', adopted: false });
    c.say(6613, BALANCE);
    c.caller(7000, 'Thanks, bye.');
    c.task(7010);
    c.localActivity(7015, 'flush', null);
    const t = c.timeline();
    expect(lines(t).slice(-3)).toEqual([
      `agent reply 1: ${BALANCE} (interrupted)`,
      'caller Thanks, bye.',
      `barge-in turn=- flushed=true interrupted=${BALANCE} cut=["Anything else?"]`,
    ]);
    expect(t.turns[0]).toMatchObject({ said: 2, sentences: 3 });
  });

  it('a barge-in after the turn ended: the ordinary flush cuts off what it said, by the same estimate', () => {
    const c = new Call();
    c.caller(5000, 'Tell me everything.');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    c.completed(6000, turn, { spoken: { said: [said(EVERYTHING, 5500), said(BALANCE, 5800)] } });
    // At 8.5 s the first has played (to 8 s); the second plays (from 8 s).
    c.caller(8500, 'Stop.');
    c.task(8510);
    c.localActivity(8515, 'flush', null);
    expect(lines(c.timeline()).slice(1)).toEqual([
      `agent reply 1: ${EVERYTHING}`,
      `agent reply 1: ${BALANCE} (interrupted)`,
      'caller Stop.',
      `barge-in turn=- flushed=true interrupted=${BALANCE} cut=[]`,
    ]);
  });

  it('a turn in two steps: the sentences of both, the first token of the step that spoke first', () => {
    const c = new Call();
    c.caller(5000, 'What is my balance?');
    c.task(5010);
    const first = c.llmTurn(5013, 1);
    c.completed(5800, first, {
      spoken: { said: [] },
      toolCalls: [{ id: 'call-1', name: 'get_balance', arguments: '{}' }],
      firstTokenAt: T0 + 5200,
    });
    c.task(5810);
    const tool = c.scheduled(5813, 'callTool', {
      turnId: 1,
      step: 0,
      index: 0,
      tool: { name: 'get_balance' },
      arguments: '{}',
    });
    c.completed(7000, tool, undefined);
    c.task(7010);
    const second = c.llmTurn(7013, 1, 1);
    c.completed(8000, second, { spoken: { said: [said(BALANCE, 7600)] }, firstTokenAt: T0 + 7400 });
    const t = c.timeline();
    expect(lines(t).filter((l) => l.startsWith('agent'))).toEqual([`agent reply 1: ${BALANCE}`]);
    expect(timings(t)).toEqual([
      {
        turn: 1,
        outcome: 'completed',
        firstTokenMs: 2400,
        firstSentenceMs: 2600,
        firstSayMs: 2600,
        said: 1,
        sentences: 1,
      },
    ]);
  });

  it('a barge-in while its tools run: the step, already ended, is flushed with no cancellation of its own', () => {
    const c = new Call();
    c.caller(5000, 'What is my balance?');
    c.task(5010);
    const turn = c.llmTurn(5013, 1);
    c.completed(5800, turn, {
      spoken: { said: [said('Let me check that.', 5400)] }, // plays to 7.2 s
      toolCalls: [{ id: 'call-1', name: 'get_balance', arguments: '{}' }],
    });
    c.task(5810);
    c.scheduled(5813, 'callTool', {
      turnId: 1,
      step: 0,
      index: 0,
      tool: { name: 'get_balance' },
      arguments: '{}',
    });
    c.caller(6000, 'Actually, never mind.');
    c.task(6010);
    const flush = c.flushTurn(6013, 1);
    c.completed(6100, flush, { flushed: true });
    const t = c.timeline();
    expect(lines(t).slice(1)).toEqual([
      'agent reply 1: Let me check that. (interrupted)',
      'tool get_balance 1',
      'caller Actually, never mind.',
      'barge-in turn=1 flushed=true interrupted=Let me check that. cut=[]',
    ]);
    expect(t.entries.find((e) => e.kind === 'barge-in')).toMatchObject({ toolsLeftRunning: ['get_balance'] });
  });
});
