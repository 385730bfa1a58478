// A call as a readable timeline, built from its Temporal histories (every run, oldest first): what
// the caller said, what the agent said and when, what a barge-in cut, the reprompts, and each
// turn's latencies. Only what the history records is shown: the signals the call received, the
// requests it made (a `/say` is an activity, `/flush` and the sessions are local-activity markers).
// A speaking turn (LlmTurnInput `speak`) sends its own `/say`s: they are known from its activity's
// result (or failure, or last heartbeat), or from the `flushTurn` that cut it off, whichever comes
// first. `inspect` prints it; the call page draws it.
import type { History } from '@temporalio/common/lib/proto-utils';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import type {
  FlushTurnInput,
  FlushTurnResult,
  LlmTurnInput,
  LlmTurnResult,
  SayInput,
  ToolCallInput,
  ToolResult,
  TransferInput,
  TurnSpeech,
  TurnSpoken,
} from '../../activities/types';
import type { AgentProfile } from '../agent-config';
import { acceptSentence } from '../../workflows/call-state';
import { estimatePlaybackMs } from '../../workflows/playback';
import { heardOf } from '../../workflows/turn-speech';
import { speechRateOf } from '../../workflows/turn-taking';
import {
  FailureType,
  type CallEvent,
  type CallSummary,
  type CallWorkflowInput,
  type ConversationView,
  type EndReason,
  type SentenceReady,
} from '../../workflows/messages';

/** One run of the call's workflow, as `callHistories` gives it. */
export interface TimelineRun {
  runId: string;
  history: History;
}

export type Utterance = 'greeting' | 'reply' | 'reprompt' | 'goodbye' | 'apology' | 'filler' | 'transfer';

/** A moment of the call. `offsetMs`: since the call's workflow started. */
export type TimelineEntry = { at: string; offsetMs: number; run: number } & (
  | { kind: 'call-status'; status: string }
  | { kind: 'session'; session: 'transcribe' | 'speaking'; id: string; adopted: boolean }
  | { kind: 'session-failed'; session: 'transcribe' | 'speaking'; error: string }
  | {
      kind: 'caller';
      text: string;
      /** Found by reconciliation with VoIPBIN, not delivered as an event. */
      recovered?: boolean;
      /** Only an acknowledgement ("mm-hmm") while the agent spoke: no turn. */
      backchannel?: boolean;
    }
  | {
      kind: 'agent';
      text: string;
      utterance: Utterance;
      turn?: number;
      /**
       * `done`: VoIPBIN took it. `failed`: the request failed (maybe said: never resent). `gone`:
       * the speaking session had ended (404), not said; said again on a new one. `pending`: in flight.
       */
      outcome: 'done' | 'failed' | 'gone' | 'pending';
      /**
       * Cut off by a barge-in: `interrupted` while it played, `unheard` when it was still queued
       * (by the workflow's own playback estimate: VoIPBIN reports no playback).
       */
      cut?: 'interrupted' | 'unheard';
    }
  | {
      kind: 'barge-in';
      /** The reply cancelled, if one was in flight. */
      turn?: number;
      /** `/flush` was sent: something was playing. */
      flushed: boolean;
      /** The line that was playing when it was flushed (by the playback estimate). */
      interrupted?: string;
      /** What the caller never heard: lines sent but flushed before they played, then the reply's sentences never sent. */
      cut: string[];
      /** The tools the cut-off turn had called, still running: left to finish (they may have acted). */
      toolsLeftRunning?: string[];
    }
  | { kind: 'turn-failed'; turn: number; error: string }
  | { kind: 'turn-retried'; turn: number; attempt: number }
  | {
      kind: 'tool';
      name: string;
      turn: number;
      /** As the model sent them. */
      arguments?: string;
      /** `running` until the result is in. */
      outcome?: 'ok' | 'error' | 'running';
      /** The tool's answer (as the model read it), or what went wrong. */
      result?: string;
      error?: string;
      /** Call to result, as the history recorded them. */
      ms?: number;
      /** More than 1: the request was retried (a worker died, the server failed), with the same key. */
      attempts?: number;
    }
  | { kind: 'reconciled'; callStatus: string; recovered: number }
  | { kind: 'hangup'; ok: boolean }
  | { kind: 'continued-as-new'; nextRun: number }
  | { kind: 'ended'; reason: EndReason | 'failed' | 'cancelled' | 'terminated' | 'timed-out' }
);

/** One answer to the caller, with its latencies (ms). */
export interface TurnTiming {
  turn: number;
  run: number;
  /** What the caller said that this turn answers. */
  question?: string;
  /** When the caller's final transcript reached the workflow. */
  heardAt?: string;
  /** Transcript in → the model's first token (the worker's clock). */
  firstTokenMs?: number;
  /** Transcript in → the first sentence complete at the workflow. */
  firstSentenceMs?: number;
  /** Transcript in → the first `/say` sent. */
  firstSayMs?: number;
  outcome: 'completed' | 'cancelled' | 'failed' | 'running';
  attempts: number;
  /** Sentences the model gave / of which said. */
  sentences: number;
  said: number;
}

export interface CallTimeline {
  workflowId: string;
  callId: string;
  profile: string;
  /** Running, or how the last run closed. */
  status: 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed-out';
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  endReason?: EndReason;
  runs: { runId: string; startedAt: string; closedAt?: string }[];
  counts: { turns: number; bargeIns: number; reprompts: number; callerLines: number; agentLines: number };
  entries: TimelineEntry[];
  turns: TurnTiming[];
  /** From the live query while the call runs. */
  live?: Pick<ConversationView, 'phase' | 'callStatus'>;
}

type HistoryEvent = NonNullable<History['events']>[number];

function decode<T>(payloads: { payloads?: Payload[] | null } | null | undefined): T[] {
  return (payloads?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload<T>(p));
}

function timeOf(e: HistoryEvent): number {
  const t = e.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6) : 0;
}

function protoTime(t: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  return t ? Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6) : undefined;
}

interface TurnState {
  timing: TurnTiming;
  scheduledId: string;
  accept: { id: number; step?: number; attempt: number; received: number; refused: number };
  /** Accepted sentences, in order; `said` once a `/say` of it was scheduled. */
  sentences: { text: string; said: boolean }[];
  heardAtMs?: number;
  cancelled: boolean;
}

type ToolEntry = Extract<TimelineEntry, { kind: 'tool' }>;
type BargeIn = Extract<TimelineEntry, { kind: 'barge-in' }>;

/** A tool call in flight: its entry, and when it was called. */
interface ToolState {
  entry: ToolEntry;
  at: number;
}

interface SayState {
  entry: Extract<TimelineEntry, { kind: 'agent' }>;
  turn?: TurnState;
  /** Its estimated playback, as the workflow estimates it (ms since epoch). */
  plays: { from: number; to: number };
  /** The reply's sentence it said. */
  sentence?: { text: string; said: boolean };
}

/**
 * A speaking turn's step (LlmTurnInput `speak`): its activity says its sentences itself. They are
 * known once, from whichever comes first: its result (failure, last heartbeat) or its flush.
 */
interface StepState {
  turn: TurnState;
  /** Its sentences are in: a later report of them is the same sentences. */
  heard: boolean;
  /** From its result: when the model's first token came (the worker's clock). */
  firstTokenAt?: number;
  /** It said the turn's first sentence: its first token is the turn's. */
  first: boolean;
  cut?: CutState;
}

/** A speaking turn's step cut off (a barge-in, the call's time up): its `flushTurn` does it. */
interface CutState {
  /** The workflow's "now" when it cut the turn: what played then is what the flush cut off. */
  at: number;
  barge?: BargeIn;
  /**
   * Its flush is done: whether `/flush` went out, and where the estimated playback ended before it
   * (the step's sentences, known only later, played after what was sent before them).
   */
  flushed?: { sent: boolean; endsAt: number };
}

/**
 * A running call's speaking turns (profile `replySpeech: direct`) as the server has them now: what
 * each step has recorded (its heartbeat details, by activity id), read at `atMs`.
 */
export interface SpeakingNow {
  turns: ReadonlyMap<string, TurnSpeech>;
  atMs: number;
}

/**
 * Builds the call's timeline from its runs' histories, oldest first. `live` is the running call's
 * query answer; `summary` the last run's result when it has one (its messages mark backchannels);
 * `speakingNow` the running call's speaking turns' records, whose sentences no event holds yet.
 */
export function buildTimeline(
  workflowId: string,
  runs: TimelineRun[],
  live?: ConversationView,
  speakingNow?: SpeakingNow,
): CallTimeline {
  if (runs.length === 0) throw new Error(`no history for ${workflowId}`);
  const entries: TimelineEntry[] = [];
  const turns: TurnTiming[] = [];
  const first = runs[0]!.history.events?.[0];
  const startMs = first ? timeOf(first) : 0;
  let input: CallWorkflowInput | undefined;
  let status: CallTimeline['status'] = 'running';
  let endReason: EndReason | undefined;
  let endedAtMs: number | undefined;
  let summary: CallSummary | undefined;
  /** What the caller said since the last turn began: what the next turn answers. */
  let callerSince: string[] = [];
  let lastCallerAtMs: number | undefined;
  let callStatus = '';
  const seenTranscripts = new Set<string>();
  const runInfo: CallTimeline['runs'] = [];

  runs.forEach((run, runIndex) => {
    const runNo = runIndex + 1;
    const events = run.history.events ?? [];
    const push = (atMs: number, entry: DistributiveOmit<TimelineEntry, 'at' | 'offsetMs' | 'run'>) => {
      entries.push({
        at: new Date(atMs).toISOString(),
        offsetMs: atMs - startMs,
        run: runNo,
        ...entry,
      });
      return entries[entries.length - 1]!;
    };
    /** An entry placed at another moment than when it was pushed. */
    const moveTo = (entry: TimelineEntry, atMs: number) => {
      entry.at = new Date(atMs).toISOString();
      entry.offsetMs = atMs - startMs;
    };
    const activities = new Map<
      string,
      { type: string; input: unknown; state: TurnState | SayState | ToolState | StepState | undefined }
    >();
    /** Speaking turns' steps, by their LLM activity's scheduled event, and by its activity id. */
    const steps = new Map<string, StepState>();
    const stepsByActivityId = new Map<string, StepState>();
    const turnsById = new Map<number, TurnState>();
    let current: TurnState | undefined;
    let lastSay: SayState | undefined;
    /** What was sent and, by the estimate, not yet over: what a flush cuts. */
    let playing: SayState[] = [];
    let playbackEndsAt = 0;
    /** The barge-in of the current workflow task, and the lines it flushed before they played. */
    let bargeTask: { task: string; entry: BargeIn; unheard: string[] } | undefined;
    const unheardOf = new Map<BargeIn, string[]>();
    /** The sentences of earlier replies still waiting to be said when a flush dropped them. */
    const droppedOf = new Map<BargeIn, { text: string; said: boolean }[]>();
    const droppedBefore = new Set<{ text: string; said: boolean }>();
    let task = '';
    /** When the current workflow task started: the workflow's "now" for what it decided in it. */
    let taskStartedAt = startMs;
    const runStart = events[0] ? timeOf(events[0]) : startMs;
    runInfo.push({ runId: run.runId, startedAt: new Date(runStart).toISOString() });

    /** The call ending cancels its turn too; that is not the caller cutting in. */
    const callEnding = () =>
      callStatus === 'hangup' || callStatus === 'terminating' || callStatus === 'canceling';

    /**
     * What a flush at `cutAt` cut off, by the playback estimate: the line playing then was
     * interrupted, those due to play after it were never heard.
     */
    const cutOff = (lines: SayState[], cutAt: number, entry: BargeIn | undefined) => {
      for (const p of lines.filter((q) => q.plays.to > cutAt)) {
        if (p.plays.from <= cutAt) {
          p.entry.cut = 'interrupted';
          if (entry) entry.interrupted = p.entry.text;
        } else {
          p.entry.cut = 'unheard';
          if (entry) unheardOf.get(entry)?.push(p.entry.text);
        }
      }
    };

    /**
     * A speaking step's sentences, once they are known: a line each, at the moment its `/say` went
     * out, playing after what was sent before it. Those it could not say (its speaking session was
     * gone) the workflow says with `say` activities, matched to them as a reply's sentences are.
     */
    /** A speaking turn's step was cut off: by `flushTurn`, or `cutTurn` where it ran. */
    const turnFlushed = (step: StepState | undefined, result: FlushTurnResult | undefined, atMs: number) => {
      const cut = step?.cut;
      if (!step || !cut || cut.flushed) return;
      // What the turn had said, unless its activity had ended first (its result says it).
      if (result?.spoken) hear(step, result.spoken, atMs);
      const sent = result?.flushed === true;
      cut.flushed = { sent, endsAt: playbackEndsAt };
      if (sent) {
        if (cut.barge) cut.barge.flushed = true;
        cutOff(playing, cut.at, cut.barge);
        playing = [];
        playbackEndsAt = Math.min(playbackEndsAt, cut.at);
      }
    };
    const hear = (step: StepState, spoken: TurnSpoken | undefined, atMs: number) => {
      if (step.heard) return;
      step.heard = true;
      const turn = step.turn;
      const said = spoken?.said ?? [];
      const unsaid = spoken?.unsaid ?? [];
      if (turn.sentences.length === 0 && said.length + unsaid.length > 0) {
        step.first = true;
        // Each sentence went out as soon as it was complete; one never sent was complete by the
        // time the result came. The worker's clock against the server's: never below zero.
        if (turn.heardAtMs !== undefined) {
          const heardAt = turn.heardAtMs;
          turn.timing.firstSentenceMs = Math.max(0, (said[0]?.at ?? atMs) - heardAt);
          if (said[0]) turn.timing.firstSayMs = Math.max(0, said[0].at - heardAt);
          if (step.firstTokenAt !== undefined)
            turn.timing.firstTokenMs = Math.max(0, step.firstTokenAt - heardAt);
        }
      }
      // Flushed before they were known: cut off with the rest, by the estimate as it stood then.
      const cut = step.cut?.flushed?.sent ? step.cut : undefined;
      let endsAt = cut?.flushed?.endsAt ?? playbackEndsAt;
      const lines = said.map((s): SayState => {
        const entry = push(s.at, {
          kind: 'agent',
          text: s.text,
          utterance: 'reply',
          turn: turn.timing.turn,
          outcome: s.outcome,
        }) as SayState['entry'];
        const sentence = { text: s.text, said: true };
        turn.sentences.push(sentence);
        const from = Math.max(endsAt, s.at);
        endsAt = from + estimatePlaybackMs(s.text, rateOf(input?.profile));
        return { entry, turn, plays: { from, to: endsAt }, sentence };
      });
      for (const text of unsaid) turn.sentences.push({ text, said: false });
      turn.timing.sentences = turn.sentences.length;
      turn.timing.said += said.length;
      if (cut) cutOff(lines, cut.at, cut.barge);
      else {
        // Kept whatever their end: a cut not yet resolved looks back to the moment it was made.
        playing = [...playing, ...lines];
        playbackEndsAt = endsAt;
      }
    };

    /** A step's result: its first token, the turn's if the step said the turn's first sentence. */
    const firstToken = (step: StepState, at: number | undefined) => {
      if (at === undefined) return;
      step.firstTokenAt ??= at;
      const turn = step.turn;
      if (step.first && turn.heardAtMs !== undefined && turn.timing.firstTokenMs === undefined)
        turn.timing.firstTokenMs = Math.max(0, at - turn.heardAtMs);
    };

    /** A barge-in of this workflow task: the turn cancelled and the flush of one caller interruption. */
    const bargeIn = (atMs: number): BargeIn => {
      if (bargeTask?.task === task) return bargeTask.entry;
      const entry = push(atMs, { kind: 'barge-in', flushed: false, cut: [] }) as BargeIn;
      // The turn waited on its tools, no reply in flight: it is the one cut off.
      const waiting = [...activities.values()].flatMap((a) =>
        a.type === 'callTool' && (a.state as ToolState).entry.outcome === 'running'
          ? [(a.state as ToolState).entry]
          : [],
      );
      if (waiting.length) {
        entry.turn = waiting[0]!.turn;
        entry.toolsLeftRunning = waiting.map((t) => t.name);
      }
      bargeTask = { task, entry, unheard: [] };
      unheardOf.set(entry, bargeTask.unheard);
      return entry;
    };

    for (const e of events) {
      const at = timeOf(e);
      const id = String(e.eventId ?? '');
      if (e.workflowExecutionStartedEventAttributes) {
        [input] = decode<CallWorkflowInput>(e.workflowExecutionStartedEventAttributes.input);
      } else if (e.workflowTaskStartedEventAttributes) {
        taskStartedAt = at;
      } else if (e.workflowTaskCompletedEventAttributes) {
        task = id;
      } else if (e.workflowExecutionSignaledEventAttributes) {
        const a = e.workflowExecutionSignaledEventAttributes;
        if (a.signalName === 'voipbinEvent') {
          const [event] = decode<CallEvent>(a.input);
          if (event?.kind === 'call') {
            if (event.callId === input?.callId && event.status !== callStatus) {
              callStatus = event.status;
              push(at, { kind: 'call-status', status: event.status });
            }
          } else if (event?.kind === 'transcript' && event.direction === 'in') {
            if (seenTranscripts.has(event.id)) continue; // the other path's copy
            seenTranscripts.add(event.id);
            push(at, { kind: 'caller', text: event.text });
            callerSince.push(event.text);
            lastCallerAtMs = at;
          }
        } else if (a.signalName === 'sentence') {
          const [sentence] = decode<SentenceReady>(a.input);
          const turn = sentence && turnsById.get(sentence.turnId);
          if (!turn || !sentence) continue;
          if (!acceptSentence(turn.accept, sentence)) continue;
          turn.sentences.push({ text: sentence.text, said: false });
          turn.timing.sentences = turn.sentences.length;
          if (turn.sentences.length === 1 && turn.heardAtMs !== undefined) {
            turn.timing.firstSentenceMs = at - turn.heardAtMs;
            if (sentence.firstTokenAt !== undefined)
              turn.timing.firstTokenMs = Math.max(0, sentence.firstTokenAt - turn.heardAtMs);
          }
        }
      } else if (e.activityTaskScheduledEventAttributes) {
        const a = e.activityTaskScheduledEventAttributes;
        const type = a.activityType?.name ?? '';
        const [args] = decode<unknown>(a.input);
        const continued =
          type === 'llmTurn' && (args as LlmTurnInput).step
            ? turnsById.get((args as LlmTurnInput).turnId)
            : undefined;
        if (continued) {
          // The same turn, back at the model with its tools' results: its sentences go on.
          const llm = args as LlmTurnInput;
          continued.accept = { id: llm.turnId, step: llm.step, attempt: 1, received: 0, refused: 0 };
          continued.scheduledId = id;
          continued.timing.outcome = 'running';
          current = continued;
          activities.set(id, { type, input: args, state: continued });
        } else if (type === 'llmTurn') {
          const llm = args as LlmTurnInput;
          const turn: TurnState = {
            scheduledId: id,
            accept: { id: llm.turnId, attempt: 1, received: 0, refused: 0 },
            sentences: [],
            cancelled: false,
            heardAtMs: lastCallerAtMs,
            timing: {
              turn: llm.turnId,
              run: runNo,
              question: callerSince.length ? callerSince.join(' ') : undefined,
              heardAt: lastCallerAtMs === undefined ? undefined : new Date(lastCallerAtMs).toISOString(),
              outcome: 'running',
              attempts: 1,
              sentences: 0,
              said: 0,
            },
          };
          callerSince = [];
          turnsById.set(llm.turnId, turn);
          turns.push(turn.timing);
          current = turn;
          activities.set(id, { type, input: args, state: turn });
        } else if (type === 'flushTurn') {
          const step = stepsByActivityId.get((args as FlushTurnInput).activityId);
          if (step && !step.cut) {
            // No cancellation came first: the step had ended (its turn waited on its tools), and it
            // is cut off now, as one interruption with this task's barge-in.
            const barge = callEnding() ? undefined : bargeIn(at);
            if (barge) barge.turn ??= step.turn.timing.turn;
            step.cut = { at: taskStartedAt, ...(barge && { barge }) };
          }
          activities.set(id, { type, input: args, state: step });
        } else if (type === 'callTool' || type === 'transferCall') {
          const tool = type === 'callTool' ? (args as ToolCallInput) : undefined;
          const entry = push(at, {
            kind: 'tool',
            name: tool?.tool.name ?? 'transfer_call',
            turn: tool?.turnId ?? current?.timing.turn ?? 0,
            arguments: tool ? tool.arguments : JSON.stringify({ to: (args as TransferInput).to }),
            outcome: 'running',
          }) as ToolEntry;
          activities.set(id, { type, input: args, state: { entry, at } });
        } else if (type === 'say') {
          const text = (args as SayInput).text;
          const say = classifySay(text, current, input?.profile, turns.length === 0 && !lastSay);
          const entry = push(at, {
            kind: 'agent',
            text,
            utterance: say.utterance,
            ...(say.turn && { turn: say.turn.timing.turn }),
            outcome: 'pending',
          }) as SayState['entry'];
          const from = Math.max(playbackEndsAt, at);
          playbackEndsAt = from + estimatePlaybackMs(text, rateOf(input?.profile));
          const state: SayState = {
            entry,
            turn: say.turn,
            plays: { from, to: playbackEndsAt },
            sentence: say.sentence,
          };
          playing = [...playing.filter((p) => p.plays.to > at), state];
          if (say.turn) {
            say.turn.timing.said += 1;
            if (say.turn.timing.said === 1 && say.turn.heardAtMs !== undefined)
              say.turn.timing.firstSayMs = at - say.turn.heardAtMs;
          }
          lastSay = state;
          activities.set(id, { type, input: args, state });
        } else {
          activities.set(id, { type, input: args, state: undefined });
        }
        if (type === 'llmTurn' && (args as LlmTurnInput).speak && current) {
          const step: StepState = { turn: current, heard: false, first: false };
          steps.set(id, step);
          stepsByActivityId.set(a.activityId ?? '', step);
        }
      } else if (e.activityTaskCompletedEventAttributes) {
        const a = e.activityTaskCompletedEventAttributes;
        const act = activities.get(String(a.scheduledEventId ?? ''));
        if (act?.type === 'say') (act.state as SayState).entry.outcome = 'done';
        else if (act?.type === 'callTool' || act?.type === 'transferCall') {
          const { entry, at: calledAt } = act.state as ToolState;
          const [result] = decode<ToolResult | { transferId?: string }>(a.result);
          entry.ms = at - calledAt;
          if (act.type === 'transferCall') entry.outcome = 'ok';
          else if (result && 'ok' in result && result.ok) {
            entry.outcome = 'ok';
            entry.result = result.content ?? '';
          } else {
            entry.outcome = 'error';
            entry.error = (result as ToolResult | undefined)?.error ?? 'failed';
          }
        } else if (act?.type === 'llmTurn') {
          const turn = act.state as TurnState;
          const [result] = decode<LlmTurnResult>(a.result);
          const step = steps.get(String(a.scheduledEventId ?? ''));
          const onHearing = result?.onHearing;
          if (step && !step.cut && onHearing) {
            // It cut itself off where the caller was heard, and ended before the workflow took the
            // words (no cancellation of it in the history): that barge-in, its flush done then.
            turn.cancelled = true;
            const barge = callEnding() ? undefined : bargeIn(at);
            if (barge) {
              barge.turn = turn.timing.turn;
              moveTo(barge, Math.max(onHearing.at, lastCallerAtMs ?? onHearing.at));
            }
            step.cut = { at: onHearing.at, ...(barge && { barge }) };
            turnFlushed(step, { flushed: onHearing.flushed, ...(onHearing.gone && { gone: true }) }, at);
          }
          turn.timing.outcome = turn.cancelled ? 'cancelled' : 'completed';
          if (step) {
            firstToken(step, result?.firstTokenAt);
            hear(step, result?.spoken, at);
          }
          if (result?.endCall) push(at, { kind: 'tool', name: 'end_call', turn: turn.timing.turn });
        } else if (act?.type === 'flushTurn') {
          const [result] = decode<FlushTurnResult>(a.result);
          turnFlushed(act.state as StepState | undefined, result, at);
        } else if (act?.type === 'reconcile') {
          const [result] = decode<{ call: string; transcripts: { id: string; text: string }[] }>(a.result);
          const fresh = (result?.transcripts ?? []).filter((t) => !seenTranscripts.has(t.id));
          push(at, { kind: 'reconciled', callStatus: result?.call ?? 'unknown', recovered: fresh.length });
          for (const t of fresh) {
            seenTranscripts.add(t.id);
            push(at, { kind: 'caller', text: t.text, recovered: true });
            callerSince.push(t.text);
            lastCallerAtMs = at;
          }
        }
      } else if (e.activityTaskFailedEventAttributes || e.activityTaskTimedOutEventAttributes) {
        const a = e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes!;
        const act = activities.get(String(a.scheduledEventId ?? ''));
        const error = a.failure?.cause?.message || a.failure?.message || 'failed';
        if (act?.type === 'say') {
          const say = act.state as SayState;
          if (failureType(a.failure) === FailureType.SpeakingGone) {
            // Not said: the workflow says it again on a new speaking session.
            say.entry.outcome = 'gone';
            if (say.sentence) say.sentence.said = false;
            if (say.turn) say.turn.timing.said -= 1;
            say.plays.to = say.plays.from;
            playbackEndsAt = Math.min(playbackEndsAt, at);
          } else say.entry.outcome = 'failed';
        } else if (act?.type === 'callTool' || act?.type === 'transferCall') {
          const { entry, at: calledAt } = act.state as ToolState;
          entry.outcome = 'error';
          entry.error = error;
          entry.ms = at - calledAt;
        } else if (act?.type === 'llmTurn') {
          const turn = act.state as TurnState;
          turn.timing.outcome = 'failed';
          const step = steps.get(String(a.scheduledEventId ?? ''));
          if (step) hear(step, spokenBefore(a.failure), at);
          push(at, { kind: 'turn-failed', turn: turn.timing.turn, error });
        }
      } else if (e.activityTaskStartedEventAttributes) {
        const a = e.activityTaskStartedEventAttributes;
        const act = activities.get(String(a.scheduledEventId ?? ''));
        const attempt = a.attempt ?? 1;
        if ((act?.type === 'callTool' || act?.type === 'transferCall') && attempt > 1)
          (act.state as ToolState).entry.attempts = attempt;
        if (act?.type === 'llmTurn' && attempt > 1) {
          const turn = act.state as TurnState;
          turn.timing.attempts = attempt;
          push(at, { kind: 'turn-retried', turn: turn.timing.turn, attempt });
        }
      } else if (e.activityTaskCancelRequestedEventAttributes) {
        const scheduledId = String(e.activityTaskCancelRequestedEventAttributes.scheduledEventId ?? '');
        const act = activities.get(scheduledId);
        if (act?.type !== 'llmTurn') continue;
        const turn = act.state as TurnState;
        turn.cancelled = true;
        turn.timing.outcome = 'cancelled';
        const barge = callEnding() ? undefined : bargeIn(at);
        if (barge) barge.turn = turn.timing.turn;
        // A speaking turn is cut off by its flush, which may end tasks later: what played at this
        // moment is what it cut off.
        const step = steps.get(scheduledId);
        if (step) step.cut ??= { at: taskStartedAt, ...(barge && { barge }) };
      } else if (e.activityTaskCanceledEventAttributes) {
        const act = activities.get(String(e.activityTaskCanceledEventAttributes.scheduledEventId ?? ''));
        if (act?.type === 'llmTurn') (act.state as TurnState).timing.outcome = 'cancelled';
      } else if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') {
        const details = e.markerRecordedEventAttributes.details ?? {};
        const [data] = decode<{
          activity_type: string;
          complete_time?: { seconds?: number; nanos?: number };
        }>(details['data']);
        const failure = e.markerRecordedEventAttributes.failure;
        const [result] = failure
          ? [undefined]
          : decode<{ transcribeId?: string; speakingId?: string; adopted?: boolean }>(details['result']);
        const doneAt = protoTime(data?.complete_time) ?? at;
        switch (data?.activity_type) {
          case 'createTranscribe':
          case 'createSpeaking': {
            const session = data.activity_type === 'createTranscribe' ? 'transcribe' : 'speaking';
            if (failure)
              push(doneAt, { kind: 'session-failed', session, error: failure.message ?? 'failed' });
            else
              push(doneAt, {
                kind: 'session',
                session,
                id: result?.transcribeId ?? result?.speakingId ?? '',
                adopted: result?.adopted === true,
              });
            break;
          }
          case 'flush': {
            const entry = bargeIn(doneAt);
            entry.flushed = true;
            const cutAt = taskStartedAt;
            cutOff(playing, cutAt, entry);
            playing = [];
            playbackEndsAt = Math.min(playbackEndsAt, cutAt);
            // A flush drops what is queued too: any reply's sentences not yet sent are never said.
            // (Each once: a later flush does not drop them again.)
            const dropped = [...turnsById.values()].flatMap((t) =>
              t.sentences.filter((x) => !x.said && !droppedBefore.has(x)),
            );
            for (const x of dropped) droppedBefore.add(x);
            droppedOf.set(entry, dropped);
            break;
          }
          case 'cutTurn': {
            // Undefined: the turn ran elsewhere, and its flushTurn follows.
            const [cut] = failure ? [undefined] : decode<FlushTurnResult | undefined>(details['result']);
            const step = cut?.activityId ? stepsByActivityId.get(cut.activityId) : undefined;
            if (step && !step.cut) {
              // Before its turn's cancellation in the history: the same interruption.
              const barge = callEnding() ? undefined : bargeIn(doneAt);
              if (barge) barge.turn ??= step.turn.timing.turn;
              step.cut = { at: taskStartedAt, ...(barge && { barge }) };
            }
            // Cut off where it ran when the caller was heard there: then, not at this task.
            const heardAt = cut?.onHearing?.at;
            if (step?.cut && !step.cut.flushed && heardAt !== undefined && heardAt < step.cut.at) {
              step.cut.at = heardAt;
              // Shown after the words that did it, whose time is the server's (the signal's),
              // a moment later than the worker heard them.
              if (step.cut.barge) moveTo(step.cut.barge, Math.max(heardAt, lastCallerAtMs ?? heardAt));
            }
            turnFlushed(step, cut, doneAt);
            break;
          }
          case 'hangupCall':
            push(doneAt, { kind: 'hangup', ok: !failure });
            break;
        }
      } else if (e.workflowExecutionCompletedEventAttributes) {
        [summary] = decode<CallSummary>(e.workflowExecutionCompletedEventAttributes.result);
        status = 'completed';
        endReason = summary?.endReason;
        endedAtMs = at;
        push(at, { kind: 'ended', reason: endReason ?? 'error' });
      } else if (e.workflowExecutionContinuedAsNewEventAttributes) {
        push(at, { kind: 'continued-as-new', nextRun: runNo + 1 });
      } else if (e.workflowExecutionFailedEventAttributes) {
        status = 'failed';
        endedAtMs = at;
        push(at, { kind: 'ended', reason: 'failed' });
      } else if (e.workflowExecutionCanceledEventAttributes) {
        status = 'cancelled';
        endedAtMs = at;
        push(at, { kind: 'ended', reason: 'cancelled' });
      } else if (e.workflowExecutionTerminatedEventAttributes) {
        status = 'terminated';
        endedAtMs = at;
        push(at, { kind: 'ended', reason: 'terminated' });
      } else if (e.workflowExecutionTimedOutEventAttributes) {
        status = 'timed-out';
        endedAtMs = at;
        push(at, { kind: 'ended', reason: 'timed-out' });
      }
      const last = events[events.length - 1];
      if (e === last && status !== 'running') runInfo[runIndex]!.closedAt = new Date(at).toISOString();
    }
    // The running call's speaking turns, whose sentences are in no event yet: their records so far.
    if (speakingNow && runIndex === runs.length - 1 && status === 'running') {
      for (const [activityId, speech] of speakingNow.turns) {
        const step = stepsByActivityId.get(activityId);
        // The sentence being sent goes out now: a line as any other (heardOf's "maybe" is for a turn that died).
        const said = [
          ...heardOf({ said: speech.said }),
          ...(speech.saying ? [{ ...speech.saying, outcome: 'done' as const }] : []),
        ];
        if (step && !step.heard) hear(step, { said }, speakingNow.atMs);
      }
    }
    // What each cancelled reply had ready but never said: the cut of its barge-in.
    for (const entry of entries) {
      if (entry.kind !== 'barge-in' || entry.run !== runNo) continue;
      const turn = entry.turn === undefined ? undefined : turnsById.get(entry.turn);
      const unsent = new Set(
        [...(droppedOf.get(entry) ?? []), ...(turn?.sentences ?? [])].filter((x) => !x.said),
      );
      entry.cut = [...(unheardOf.get(entry) ?? []), ...[...unsent].map((x) => x.text)];
    }
    if (runIndex < runs.length - 1 && runInfo[runIndex] && !runInfo[runIndex].closedAt) {
      const last = events[events.length - 1];
      if (last) runInfo[runIndex].closedAt = new Date(timeOf(last)).toISOString();
    }
  });

  markBackchannels(entries, live?.messages ?? summary?.messages);
  entries.sort((a, b) => a.offsetMs - b.offsetMs);
  const count = (kind: TimelineEntry['kind']) => entries.filter((e) => e.kind === kind).length;
  return {
    workflowId,
    callId: input?.callId ?? workflowId.replace(/^call-/, ''),
    profile: input?.profileName ?? 'unknown',
    status,
    startedAt: new Date(startMs).toISOString(),
    ...(endedAtMs !== undefined && {
      endedAt: new Date(endedAtMs).toISOString(),
      durationMs: endedAtMs - startMs,
    }),
    ...(endReason && { endReason }),
    runs: runInfo,
    counts: {
      turns: turns.length,
      bargeIns: count('barge-in'),
      reprompts: entries.filter((e) => e.kind === 'agent' && e.utterance === 'reprompt').length,
      callerLines: count('caller'),
      agentLines: count('agent'),
    },
    entries,
    turns,
    ...(live && status === 'running' && { live: { phase: live.phase, callStatus: live.callStatus } }),
  };
}

/** The profile's speaking pace, as the workflow estimates playback with it. */
function rateOf(profile: AgentProfile | undefined): number | undefined {
  return profile ? speechRateOf(profile.language, profile.speechCharsPerSecond) : undefined;
}

/**
 * What a `/say` was: the next sentence of the reply in flight, else one of the profile's fixed lines
 * (the greeting comes first). A reply sentence is marked said, so what a barge-in cut is what is left.
 */
function classifySay(
  text: string,
  turn: TurnState | undefined,
  profile: AgentProfile | undefined,
  first: boolean,
): { utterance: Utterance; turn?: TurnState; sentence?: { text: string; said: boolean } } {
  const next = turn?.sentences.find((s) => !s.said);
  if (turn && next?.text === text) {
    next.said = true;
    return { utterance: 'reply', turn, sentence: next };
  }
  if (profile) {
    if (first && text === profile.greeting) return { utterance: 'greeting' };
    if (text === profile.repromptText) return { utterance: 'reprompt' };
    if (text === profile.goodbyeText) return { utterance: 'goodbye' };
    if (text === profile.apologyText) return { utterance: 'apology' };
    if (text === profile.greeting) return { utterance: 'greeting' };
    if (profile.transfer && text === profile.transfer.text) return { utterance: 'transfer' };
    if (profile.tools?.some((t) => t.fillerText === text)) return { utterance: 'filler' };
  }
  return { utterance: 'reply', ...(turn && { turn }) };
}

/** The workflow's own view marks the caller's backchannels: the same texts, in order. */
function markBackchannels(
  entries: TimelineEntry[],
  messages: ConversationView['messages'] | undefined,
): void {
  const marked = (messages ?? []).filter((m) => m.role === 'caller' && m.backchannel).map((m) => m.text);
  for (const entry of entries) {
    if (entry.kind !== 'caller' || marked.length === 0) continue;
    if (entry.text === marked[0]) {
      entry.backchannel = true;
      marked.shift();
    }
  }
}

/**
 * What a speaking turn said before it failed, as the workflow reads it: its failure's last detail,
 * or, when it timed out (a dead worker), its last heartbeat, whose sentence in flight counts as
 * said (maybe said: never said again).
 */
function spokenBefore(failure: Failure | null | undefined): TurnSpoken | undefined {
  for (let f = failure; f; f = f.cause) {
    const [speech] = decode<TurnSpeech | undefined>(f.timeoutFailureInfo?.lastHeartbeatDetails);
    if (Array.isArray(speech?.said)) return { said: heardOf(speech) };
    const last = decode<{ spoken?: TurnSpoken } | undefined>(f.applicationFailureInfo?.details).at(-1);
    if (last?.spoken) return last.spoken;
  }
  return undefined;
}

function failureType(
  failure: { cause?: unknown; applicationFailureInfo?: { type?: string | null } | null } | null | undefined,
): string | undefined {
  for (let f = failure; f; f = f.cause as typeof f) {
    const type = f.applicationFailureInfo?.type;
    if (type) return type;
  }
  return undefined;
}

type Failure = NonNullable<NonNullable<HistoryEvent['activityTaskFailedEventAttributes']>['failure']>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
