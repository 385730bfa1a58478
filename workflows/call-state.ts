// One call's state and every decision about it, as plain data and functions: no Temporal, no I/O,
// no clock of its own (the time is passed in). Each `on...` function applies one thing that
// happened and returns the commands to carry out; the workflow (call-agent.ts) only carries them
// out and reports back. Unit tests drive this module directly (test/unit/call-state.test.ts).
import type { AgentProfile } from '../src/agent-config';
import type {
  FlushTurnResult,
  LlmMessage,
  LlmToolCall,
  MissedTranscript,
  ReconcileResult,
  SpokenSentence,
  ToolCallRequest,
  ToolResult,
  TurnCutOnHearing,
  TurnSpoken,
} from '../activities/types';
import {
  CALL_STATUS_RANK,
  type CallPhase,
  type CallStatus,
  type CallSummary,
  type CallerSpeech,
  type ConversationMessage,
  type ConversationView,
  type EndReason,
  type SentenceReady,
  type ToolCallRecord,
} from './messages';
import { SPEECH_CHARS_PER_SECOND } from './playback';
import * as speech from './speech-queue';
import { onWorkflowClock, playsUntil } from './turn-speech';
import type { SpeechOp, SpeechOutcome, SpeechQueue, Utterance } from './speech-queue';
import {
  backchannelRule,
  cutsIn,
  looksUnfinished,
  speechRateOf,
  type BackchannelRule,
  type BargeInRule,
} from './turn-taking';

/** How long a call may ring before the agent leaves it alone. */
export const ANSWER_TIMEOUT_MS = 5 * 60_000;
/** Longest wait for the goodbye to finish playing before hanging up. */
export const GOODBYE_PLAYBACK_CAP_MS = 15_000;
/** While a call is up, it is compared with VoIPBIN at least this often (events can be lost). */
export const RECONCILE_EVERY_MS = 60_000;
/**
 * The most of the conversation one LLM turn is given, in characters (besides `contextMessages`):
 * every turn's input is recorded in the call's history, so it must not grow with the call.
 */
export const CONTEXT_MAX_CHARS = 16_000;
/**
 * The most of the conversation carried into the next run when the call continues as new, in
 * characters of text: the oldest messages beyond it are dropped (counted in `droppedMessages`),
 * so that a run's first event stays far below Temporal's 2 MB payload limit. About ten hours of
 * dense talk.
 */
export const CARRIED_MAX_CHARS = 400_000;
/** The most times one turn goes back to the model with tool results: a model that keeps calling tools stops there. */
export const MAX_TOOL_STEPS = 5;
/** The built-in tool that transfers the call (profile `transfer`). */
export const TRANSFER_TOOL = 'transfer_call';
/** What the model reads for a tool call whose result is not in (it never sees one: a turn waits for them). */
const NO_RESULT_YET = '(no result yet)';

export interface CallSettings {
  greeting: string;
  repromptText: string;
  goodbyeText: string;
  apologyText: string;
  silenceMs: number;
  maxReprompts: number;
  maxCallMs: number;
  /** The most recent messages one LLM turn is given. */
  contextMessages: number;
  language: string;
  /** Said while the agent speaks or thinks, these neither interrupt nor start a turn. */
  backchannel: BackchannelRule;
  /** How long a final that looks unfinished waits for the rest before it is answered. */
  unfinishedWaitMs: number;
  /** What of the caller's speech, before the final, cuts the agent off (profile `bargeIn`). */
  bargeIn: 'words' | 'speech' | 'final';
  bargeInWords: number;
  /** The voice's pace: when what was said has finished playing. */
  speechCharsPerSecond: number;
  /** The profile's HTTP tools by name, with what is said while a slow one runs. */
  tools: Record<string, { fillerText?: string }>;
  /** A tool still running after this long gets its filler said. */
  toolFillerDelayMs: number;
  /** Profile `transfer`: the model may hand the call to this number, after saying `text`. */
  transfer?: { to: string; text: string };
  /**
   * Profile `replySpeech: direct`: a turn's LLM activity sends its sentences to `/say` itself (a
   * speaking turn), instead of signalling each one for the workflow to say. Absent (a call that
   * began before it existed): the workflow says them.
   */
  turnSpeaks?: boolean;
}

/**
 * `turnTaking` false: a call that started before backchannels, unfinished finals and per-language
 * playback existed keeps the old rules, so that its history replays (call-agent.ts `patched`).
 */
export function settingsOf(
  profile: AgentProfile,
  rules: { turnTaking: boolean } = { turnTaking: true },
): CallSettings {
  if (!rules.turnTaking) {
    return {
      ...settingsOf(profile),
      backchannel: { phrases: [], maxWords: 0 },
      unfinishedWaitMs: 0,
      speechCharsPerSecond: SPEECH_CHARS_PER_SECOND,
      bargeIn: 'final',
    };
  }
  return {
    greeting: profile.greeting,
    repromptText: profile.repromptText,
    goodbyeText: profile.goodbyeText,
    apologyText: profile.apologyText,
    silenceMs: profile.silenceTimeoutSeconds * 1000,
    maxReprompts: profile.maxReprompts,
    maxCallMs: profile.maxCallSeconds * 1000,
    contextMessages: profile.contextMessages,
    language: profile.language,
    // A call that began before these settings existed gets their defaults (its input lacks them).
    backchannel: backchannelRule(
      profile.language,
      profile.backchannels?.phrases,
      profile.backchannels?.maxWords ?? 3,
    ),
    unfinishedWaitMs: (profile.unfinishedWaitSeconds ?? 0.8) * 1000,
    bargeIn: profile.bargeIn ?? 'words',
    bargeInWords: profile.bargeInWords ?? 2,
    speechCharsPerSecond: speechRateOf(profile.language, profile.speechCharsPerSecond),
    tools: Object.fromEntries(
      (profile.tools ?? []).map((t) => [
        t.name,
        t.fillerText === undefined ? {} : { fillerText: t.fillerText },
      ]),
    ),
    toolFillerDelayMs: (profile.toolFillerDelaySeconds ?? 1) * 1000,
    ...(profile.transfer && { transfer: { to: profile.transfer.to, text: profile.transfer.text } }),
    ...(profile.replySpeech === 'direct' && { turnSpeaks: true }),
  };
}

export interface Turn {
  id: number;
  /** When the caller's words that started it were heard. */
  heardAt: number;
  /** The highest LLM activity attempt whose sentences were accepted. */
  attempt: number;
  /** Sentences accepted so far: the next one must have this `seq`. */
  received: number;
  /** The highest attempt refused because it continued another prefix: none of its sentences count. */
  refused: number;
  reply?: Utterance;
  /** 0 answers the caller; each later step follows the tool results of the one before. Absent: 0. */
  step?: number;
  /**
   * Set while the step's tool calls run (the call's `toolsRunning`: no other turn's tools can be
   * running then): when the filler is due (once a turn), and what it says.
   */
  tools?: { fillerAt?: number; fillerText?: string };
  /** The filler was said in this turn: never twice. */
  fillerSaid?: boolean;
  /** A sentence of this turn was said: its latency is recorded (the first, whatever the step). */
  spoke?: boolean;
  /**
   * A speaking turn (settings `turnSpeaks`): its steps say their own sentences. `waiting`: the
   * step's activity is not started yet; it starts once nothing else is sent or queued (the speech
   * queue is idle), so that its `/say`s follow what the workflow sent before, in order. `running`:
   * the step's activity has started and not ended (it may be saying something).
   */
  speaks?: { waiting: boolean; running?: boolean };
}

/**
 * A speaking turn cut off (a barge-in, the call's time up): what it said is known only once its
 * flush (the `flushTurn` activity) or its own result says so. No new turn starts before both the
 * flush is done and what the turn said is in the conversation, which the next turn reads.
 */
export interface CutTurn {
  turnId: number;
  step: number;
  /** Its reply, marked interrupted: what it said goes in its message. */
  reply: Utterance;
  heard: boolean;
  flushed: boolean;
  /** When the caller's words it answered were heard, unless an earlier step already spoke. */
  waitingSince?: number;
}

export interface CallState {
  readonly callId: string;
  readonly profileName: string;
  readonly settings: CallSettings;
  readonly startedAt: number;
  status: CallStatus | 'unknown';
  phase: CallPhase;
  /** While waiting: when to give up on the call being answered. Once answered: `maxCallSeconds`. */
  deadline: number;
  sessions: { transcribeId?: string; speakingId?: string };
  /** A session create in flight: the call cannot finish before it returns (to stop what it made). */
  creating?: 'sessions' | 'speaking';
  messages: ConversationMessage[];
  /** Transcript ids seen (VoIPBIN repeats events: webhook and WebSocket, retries, reconciliation). */
  seen: string[];
  /** VoIPBIN time of the newest transcript seen: reconciliation reads what came after. */
  newestTranscriptMs?: number;
  /** The caller said something that no turn has answered yet. */
  callerWaiting: boolean;
  /** What the caller said last looked unfinished: their turn waits until then for the rest. */
  answerAt?: number;
  heardAt: number;
  /** Silence is counted from the later of this and the end of playback. */
  quietSince: number;
  turn?: Turn;
  turns: number;
  bargeIns: number;
  /** Reprompts since the caller last spoke. */
  reprompts: number;
  repromptsTotal: number;
  speech: SpeechQueue;
  ending?: {
    reason: EndReason;
    hangupAt?: number;
    hangupSent: boolean;
    /**
     * Ending by a transfer: `POST /transfers` instead of the hangup, once the line is said. Then
     * `check`: VoIPBIN is asked whether the call has left (`wanted`, then `asked` once a reconcile
     * goes out after the transfer's answer: one already in flight read the call before it).
     */
    transfer?: { to: string; message: ToolMessage; check?: 'wanted' | 'asked' };
  };
  /** Tool calls running, of any turn (a barge-in does not stop them): no new turn until they are in. */
  toolsRunning?: number;
  /** A speaking turn cut off, what it said not yet known or its flush not yet done. */
  cut?: CutTurn;
  reconcile: {
    wanted: boolean;
    inFlight: boolean;
    nextAt: number;
    /** The silence deadline that was last checked with VoIPBIN before a reprompt. */
    checkedSilenceAt?: number;
  };
  firstSentenceLatenciesMs: number[];
  /** The workflow itself was cancelled. */
  cancelled?: boolean;
  ended?: { reason: EndReason; at: number };
  /** This run's number: 1, then one more each time the call continues as new. */
  run: number;
  /** The oldest messages of a very long call, no longer carried from run to run (CARRIED_MAX_CHARS). */
  droppedMessages: number;
  /**
   * The history asks for a fresh run: the call continues as new as soon as it is quiet
   * (`readyToRollOver`). `wakeAt`: the end of the agent's playback, the one wait that only time ends.
   */
  rollover?: { wakeAt?: number };
}

/** What a call carries into its next run: all of its state but what the profile gives again. */
export type CarriedCall = Omit<CallState, 'settings'>;

export type Command =
  | { kind: 'createSessions' }
  | { kind: 'createSpeaking' }
  | { kind: 'speak'; op: SpeechOp; speakingId: string }
  | {
      kind: 'startTurn';
      turnId: number;
      context: TurnContext;
      step?: number;
      /** A speaking turn's step: the session it says its sentences on. */
      speakingId?: string;
    }
  | { kind: 'callTool'; turnId: number; step: number; index: number; call: ToolCallRequest }
  | { kind: 'transfer'; to: string }
  | { kind: 'cancelTurn'; turnId: number }
  | { kind: 'reconcile'; transcribeId?: string; sinceMs?: number }
  | { kind: 'hangup' }
  /** Stop both sessions, then the workflow returns its summary. */
  | { kind: 'finish'; transcribeId?: string; speakingId?: string };

export type TurnOutcome = (
  | { kind: 'completed'; endCall: boolean; toolCalls?: ToolCallRequest[] }
  | { kind: 'failed' }
  | {
      kind: 'cancelled';
      /** It cut itself off where the caller was heard, before this workflow took their words. */
      onHearing?: TurnCutOnHearing;
    }
) & {
  /** A speaking turn's step: which one ended, and what it said (when it could tell). */
  step?: number;
  spoken?: TurnSpoken;
};

/** What one LLM turn is given of the conversation: its most recent messages. */
export interface TurnContext {
  messages: LlmMessage[];
  /** How many earlier messages of the call are left out. */
  earlier: number;
}

export interface IncomingTranscript {
  id: string;
  direction: 'in' | 'out' | 'both';
  text: string;
  createdAt?: string | null;
}

const SEEN_CAPACITY = 2000;

export function newCall(
  input: { callId: string; profileName: string; settings: CallSettings },
  now: number,
): CallState {
  return {
    callId: input.callId,
    profileName: input.profileName,
    settings: input.settings,
    startedAt: now,
    status: 'unknown',
    phase: 'waiting',
    deadline: now + Math.min(ANSWER_TIMEOUT_MS, input.settings.maxCallMs),
    sessions: {},
    messages: [],
    seen: [],
    callerWaiting: false,
    heardAt: now,
    quietSince: now,
    turns: 0,
    bargeIns: 0,
    reprompts: 0,
    repromptsTotal: 0,
    speech: speech.newSpeechQueue(),
    reconcile: { wanted: false, inFlight: false, nextAt: now + RECONCILE_EVERY_MS },
    firstSentenceLatenciesMs: [],
    run: 1,
    droppedMessages: 0,
  };
}

/** The call as its next run starts it, from what the last run carried. */
export function resume(carried: CarriedCall, settings: CallSettings): CallState {
  return { ...carried, settings };
}

export function isCallGone(s: CallState): boolean {
  return CALL_STATUS_RANK[s.status] >= CALL_STATUS_RANK.terminating;
}

// Things that happened. Each returns what to do next.

/** A snapshot of the call's status (an event, a hangup response, reconciliation). */
export function onCallStatus(s: CallState, status: CallStatus, now: number): Command[] {
  const out: Command[] = [];
  applyStatus(s, status, now, out);
  return progress(s, now, out);
}

export function onTranscript(s: CallState, t: IncomingTranscript, now: number): Command[] {
  const out: Command[] = [];
  applyTranscript(s, t, now, out);
  return progress(s, now, out);
}

/**
 * The caller is talking, before the final transcript arrives: by the profile's `bargeIn`, the agent
 * stops at once (the turn cancelled, what plays flushed). The final then starts the turn as usual.
 */
export function onCallerSpeech(s: CallState, speech: CallerSpeech, now: number): Command[] {
  if (s.phase === 'ended' || s.ending || isCallGone(s) || !isListening(s, now)) return [];
  const atMs = Date.parse(speech.at ?? '');
  const heard = { final: false, text: speech.text, ...(Number.isFinite(atMs) && { at: atMs }) };
  if (!cutsIn(bargeInRuleOf(s), heard)) return [];
  const out: Command[] = [];
  bargeIn(s, now, out);
  return progress(s, now, out);
}

/** What of the caller's speech cuts the agent off now (turn-taking.ts `cutsIn`). */
export function bargeInRuleOf(s: CallState): BargeInRule {
  const { settings } = s;
  return {
    mode: settings.bargeIn,
    words: settings.bargeInWords,
    backchannel: settings.backchannel,
    ...(s.newestTranscriptMs !== undefined && { since: s.newestTranscriptMs }),
  };
}

/** A sentence of the reply, from the LLM activity. */
export function onSentence(s: CallState, sentence: SentenceReady, now: number): Command[] {
  const turn = s.turn;
  if (!turn) return [];
  const attempt = turn.attempt;
  if (!acceptSentence(turn, sentence)) return [];
  // A later attempt: the worker running the turn died. Compare notes with VoIPBIN too.
  if (turn.attempt > attempt) s.reconcile.wanted = true;
  turn.reply ??= speech.utterance('reply');
  // The caller's wait ends with the turn's first sentence, whichever step says it.
  const first = !turn.spoke;
  turn.spoke = true;
  speech.say(s.speech, sentence.text, turn.reply, first ? turn.heardAt : undefined);
  return progress(s, now, []);
}

/**
 * A later attempt of the turn's activity continues the same reply: it must start exactly where
 * the sentences already accepted end. Sentences of an attempt that a later one superseded, repeats,
 * and a continuation of another prefix are dropped: two generations are never spliced.
 */
export function acceptSentence(
  turn: Pick<Turn, 'id' | 'attempt' | 'received' | 'refused' | 'step'>,
  s: SentenceReady,
): boolean {
  if (s.turnId !== turn.id || (s.step ?? 0) !== (turn.step ?? 0) || s.attempt < turn.attempt) return false;
  if (s.attempt > turn.attempt && s.attempt <= turn.refused) return false;
  if (s.seq !== turn.received) {
    // A repeat; or a new attempt that continued another prefix, refused for good.
    turn.refused = Math.max(turn.refused, s.attempt);
    return false;
  }
  turn.attempt = s.attempt;
  turn.received += 1;
  return true;
}

/** The LLM activity of a speaking turn's step, by id: its flush reads what it said from the server. */
export function turnActivityId(turnId: number, step = 0): string {
  return `turn-${turnId}-${step}`;
}

export function onTurnDone(s: CallState, turnId: number, outcome: TurnOutcome, now: number): Command[] {
  const turn = s.turn;
  const step = outcome.step ?? 0;
  if (s.cut?.turnId === turnId && s.cut.step === step) {
    // The turn cut off has ended: what it said, if its flush did not already tell.
    heardCut(s, s.cut, outcome.spoken, now);
    return progress(s, now, []);
  }
  if (!turn || turn.id !== turnId) return [];
  const out: Command[] = [];
  if (outcome.kind === 'cancelled' && outcome.onHearing && turn.speaks?.running && (turn.step ?? 0) === step)
    return cutOnHearing(s, turn, outcome.onHearing, outcome.spoken, now);
  if (turn.speaks && (turn.step ?? 0) === step) {
    turn.speaks.running = false;
    heardTurn(s, turn, outcome.spoken, now, out);
  }
  if (outcome.kind === 'completed' && outcome.toolCalls?.length && !s.ending) {
    const transfer = s.settings.transfer && outcome.toolCalls.find((c) => c.name === TRANSFER_TOOL);
    if (transfer) {
      beginTransfer(s, turn, transfer, now, out);
      return progress(s, now, out);
    }
    if ((turn.step ?? 0) + 1 < MAX_TOOL_STEPS) {
      runTools(s, turn, outcome.toolCalls, now, out);
      return progress(s, now, out);
    }
    // The model keeps calling tools: the turn ends with what it said (the apology if nothing).
    if (!turn.spoke) outcome = { kind: 'failed' };
  }
  s.turn = undefined;
  s.phase = 'listening';
  s.quietSince = now;
  if (outcome.kind === 'failed') {
    speech.say(s.speech, s.settings.apologyText, speech.utterance('apology'));
  } else if (outcome.kind === 'completed' && outcome.endCall && !outcome.toolCalls?.length) {
    // The model's own farewell stands in for the goodbye when it said one.
    // (A speaking step's reply leaves the conversation when it said nothing: heardTurn.)
    const saidNothing = turn.speaks ? !turn.reply?.message : turn.reply === undefined;
    beginEnding(s, 'agent-ended', now, out, saidNothing);
  }
  return progress(s, now, out);
}

/** A tool call's result (or its error): the turn goes on to the model when its step's tools are all in. */
export function onToolDone(
  s: CallState,
  at: { turnId: number; step: number; index: number },
  result: ToolResult,
  now: number,
): Command[] {
  const message = s.messages.find(
    (m) => m.tool?.turnId === at.turnId && m.tool.step === at.step && m.tool.index === at.index,
  );
  if (!message?.tool?.pending) return [];
  settle(message as ToolMessage, result);
  s.toolsRunning = Math.max(0, (s.toolsRunning ?? 0) - 1);
  const out: Command[] = [];
  const turn = s.turn;
  // A barge-in ended the turn: the tool finished all the same; the caller's turn reads its result.
  if (turn?.id === at.turnId && (turn.step ?? 0) === at.step && turn.tools && !s.toolsRunning)
    nextStep(s, turn, out);
  return progress(s, now, out);
}

/** `POST /transfers` returned: the call is leaving (VoIPBIN hangs it up); a failure goes back to the model. */
export function onTransferDone(s: CallState, result: ToolResult, now: number): Command[] {
  const transfer = s.ending?.transfer;
  if (!transfer?.message.tool.pending) return [];
  settle(transfer.message, result);
  const out: Command[] = [];
  if (result.ok) {
    // VoIPBIN hung the call up on the agent as it transferred: learn it now, not at the next event.
    transfer.check = 'wanted';
    s.reconcile.wanted = true;
    return progress(s, now, out);
  }
  if (!isCallGone(s)) notTransferred(s, now, out);
  return progress(s, now, out);
}

/** The call is still with the agent: it goes on, and the model (which reads why) tells the caller. */
function notTransferred(s: CallState, now: number, out: Command[]): void {
  s.ending = undefined;
  s.turns += 1;
  s.turn = { id: s.turns, heardAt: now, attempt: 1, received: 0, refused: 0, spoke: true };
  s.phase = 'thinking';
  if (s.settings.turnSpeaks) s.turn.speaks = { waiting: true };
  else out.push({ kind: 'startTurn', turnId: s.turn.id, context: turnContext(s) });
}

/** Both session creates returned; a missing id means that create failed. */
export function onSessions(
  s: CallState,
  sessions: { transcribeId?: string; speakingId?: string },
  now: number,
): Command[] {
  if (s.creating !== 'sessions') return [];
  s.creating = undefined;
  s.sessions = { ...sessions };
  const out: Command[] = [];
  if (isCallGone(s)) return progress(s, now, out); // ending as the caller's hangup, not as a failure
  if (!sessions.transcribeId || !sessions.speakingId) {
    // Without both the agent can neither hear nor speak: hang up, stop the other one.
    beginEnding(s, 'error', now, out, false);
    return progress(s, now, out);
  }
  if (s.ending) return progress(s, now, out); // e.g. maxCallSeconds passed while they were created
  s.phase = 'listening';
  s.quietSince = now;
  speech.say(s.speech, s.settings.greeting, speech.utterance('greeting'));
  return progress(s, now, out);
}

/** A new speaking session (the old one disappeared); undefined when it could not be created. */
export function onSpeakingCreated(s: CallState, speakingId: string | undefined, now: number): Command[] {
  if (s.creating !== 'speaking') return [];
  s.creating = undefined;
  const out: Command[] = [];
  if (speakingId) {
    s.sessions.speakingId = speakingId;
  } else {
    // The agent cannot speak on this call any more: end it rather than leave the caller in silence.
    speech.abandon(s.speech);
    beginEnding(s, 'error', now, out, false);
  }
  return progress(s, now, out);
}

/** A `/say` or `/flush` returned; `flushed`: a speaking turn's flush, with what the turn had said. */
export function onSpeechDone(
  s: CallState,
  opId: number,
  outcome: SpeechOutcome,
  now: number,
  flushed?: FlushTurnResult,
): Command[] {
  const op = speech.done(s.speech, opId, outcome, now, s.settings.speechCharsPerSecond);
  if (!op) return [];
  if (op.kind === 'say') recordSay(s, op, outcome, now);
  const cut = s.cut;
  if (op.kind === 'flush' && op.turn && cut?.turnId === op.turn.turnId && cut.step === op.turn.step) {
    // Nothing the turn said plays any more: what it had said is in the conversation (unless its
    // activity had already ended: its result tells).
    cut.flushed = true;
    if (flushed?.spoken) heardCut(s, cut, flushed.spoken, now);
    else if (cut.heard) s.cut = undefined;
  }
  if (s.phase === 'ended') return [];
  const out: Command[] = [];
  if (outcome === 'gone') {
    // The speaking session disappeared: a new one, and the sentence said once on it.
    newSpeakingSession(s, out);
  }
  return progress(s, now, out);
}

export function onHangupDone(s: CallState, status: CallStatus | undefined, now: number): Command[] {
  const out: Command[] = [];
  // A failed hangup (already retried): the call is treated as over, its sessions are stopped.
  applyStatus(s, status ?? 'hangup', now, out);
  return progress(s, now, out);
}

export function onReconcileRequested(s: CallState, now: number): Command[] {
  s.reconcile.wanted = true;
  return progress(s, now, []);
}

/** VoIPBIN's view of the call; undefined when it could not be read. */
export function onReconciled(s: CallState, result: ReconcileResult | undefined, now: number): Command[] {
  s.reconcile.inFlight = false;
  s.reconcile.nextAt = now + RECONCILE_EVERY_MS;
  const out: Command[] = [];
  if (result) {
    applyStatus(s, result.call === 'gone' ? 'hangup' : result.call, now, out);
    for (const t of result.transcripts) applyTranscript(s, missed(t), now, out);
    const transfer = s.ending?.transfer;
    if (transfer?.check === 'asked' && !isCallGone(s)) {
      // A blind transfer hangs the call up before VoIPBIN answers: still up, it was not transferred.
      const why = 'VoIPBIN accepted the transfer, but the call is still with the agent';
      settle(transfer.message, { ok: false, error: why, ms: transfer.message.tool.ms ?? 0 });
      notTransferred(s, now, out);
    }
  }
  return progress(s, now, out);
}

/** Time passed: deadlines, silences and the slow reconciliation timer. */
export function onTimer(s: CallState, now: number): Command[] {
  const out: Command[] = [];
  if (s.phase === 'waiting' && now >= s.deadline) {
    finish(s, 'not-answered', now, out);
    return out;
  }
  if (!s.ending && now >= s.deadline) beginEnding(s, 'max-duration', now, out, true);
  if (now >= s.reconcile.nextAt) s.reconcile.wanted = true;
  const tools = s.turn?.tools;
  if (s.turn && tools?.fillerAt !== undefined && now >= tools.fillerAt) {
    // A slow tool: the caller hears why it is quiet, once a turn.
    tools.fillerAt = undefined;
    s.turn.fillerSaid = true;
    if (tools.fillerText) sayFiller(s, s.turn, tools.fillerText, now);
  }
  return progress(s, now, out);
}

/** The workflow itself is cancelled: stop the sessions (once any create in flight returned) and end. */
export function onCancelled(s: CallState, now: number): Command[] {
  s.cancelled = true;
  return progress(s, now, []);
}

/** Temporal suggests a fresh history (or the call's own budget is spent): continue as new when quiet. */
export function onHistoryFull(s: CallState, now: number): Command[] {
  if (s.rollover) return [];
  s.rollover = {};
  return progress(s, now, []);
}

/**
 * Between turns, with nothing in flight: no turn, nobody waiting for an answer, no request to
 * VoIPBIN out, nothing playing (an interruption must still find what it cuts off), not ending.
 * What the next run needs is then all in the state.
 */
export function readyToRollOver(s: CallState, now: number): boolean {
  return (
    s.rollover !== undefined &&
    s.phase === 'listening' &&
    !s.callerWaiting &&
    !s.turn &&
    !s.ending &&
    !s.cancelled &&
    s.creating === undefined &&
    !s.reconcile.wanted &&
    !s.reconcile.inFlight &&
    !s.toolsRunning &&
    !s.cut &&
    !speech.isSpeaking(s.speech, now)
  );
}

/** The state the next run starts from (call `readyToRollOver` first: nothing may be in flight). */
export function carry(s: CallState): CarriedCall {
  const { settings: _settings, speech: queue, rollover: _rollover, ...rest } = s;
  const messages = s.messages.map((m) => ({ ...m }));
  let chars = messages.reduce((n, m) => n + m.text.length, 0);
  let dropped = 0;
  while (chars > CARRIED_MAX_CHARS && dropped < messages.length - 1)
    chars -= messages[dropped++]!.text.length;
  return {
    ...rest,
    messages: messages.slice(dropped),
    droppedMessages: s.droppedMessages + dropped,
    seen: [...s.seen],
    sessions: { ...s.sessions },
    reconcile: { ...s.reconcile },
    firstSentenceLatenciesMs: [...s.firstSentenceLatenciesMs],
    // Nothing queued or in flight; what was said last no longer plays.
    speech: { queued: [], nextId: queue.nextId, playbackEndsAt: queue.playbackEndsAt },
    run: s.run + 1,
  };
}

/** When `onTimer` has something to do next, if nothing else happens first. */
export function nextWakeAt(s: CallState): number | undefined {
  if (s.phase === 'ended') return undefined;
  const times: number[] = [];
  if (!s.ending) times.push(s.deadline);
  if (!s.reconcile.inFlight && !s.reconcile.wanted) times.push(s.reconcile.nextAt);
  const silence = silenceEndsAt(s);
  if (s.reconcile.checkedSilenceAt !== silence) times.push(silence);
  if (s.ending?.hangupAt !== undefined && !s.ending.hangupSent) times.push(s.ending.hangupAt);
  if (s.rollover?.wakeAt !== undefined) times.push(s.rollover.wakeAt);
  if (s.callerWaiting && s.answerAt !== undefined) times.push(s.answerAt);
  if (s.turn?.tools?.fillerAt !== undefined) times.push(s.turn.tools.fillerAt);
  const next = Math.min(...times);
  return Number.isFinite(next) ? next : undefined;
}

export function view(s: CallState): ConversationView {
  return {
    callId: s.callId,
    profileName: s.profileName,
    phase: s.phase,
    callStatus: s.status,
    messages: s.messages.map((m) => ({ ...m })),
    turns: s.turns,
    bargeIns: s.bargeIns,
    reprompts: s.repromptsTotal,
    run: s.run,
    droppedMessages: s.droppedMessages,
  };
}

/** What the workflow returns, once the call has ended. */
export function summary(s: CallState): CallSummary {
  if (!s.ended) throw new Error('the call has not ended');
  return {
    ...view(s),
    endReason: s.ended.reason,
    firstSentenceLatenciesMs: [...s.firstSentenceLatenciesMs],
    startedAt: s.startedAt,
    endedAt: s.ended.at,
  };
}

/**
 * The conversation as the model reads it, as the caller experienced it (an interrupted reply is cut
 * where it was cut). The caller's back-to-back messages (an utterance split at a pause, a
 * backchannel and what followed) are one message: one thing said, answered once. The tools a step
 * called follow its words as that reply's tool calls, each with its result.
 */
export function llmMessages(s: CallState): LlmMessage[] {
  const out: LlmMessage[] = [];
  let prev: ConversationMessage | undefined;
  let group: { key: string; calls: LlmToolCall[] } | undefined;
  for (const m of s.messages) {
    if (m.role === 'tool' && m.tool) {
      const t = m.tool;
      const key = `${t.turnId}/${t.step}`;
      if (group?.key !== key) {
        const last = out[out.length - 1];
        // The words the step said before calling: the same reply as the calls.
        if (
          last?.role === 'assistant' &&
          !last.tool_calls &&
          prev?.role === 'agent' &&
          (prev.kind === 'reply' || prev.kind === 'filler')
        ) {
          last.tool_calls = [];
          group = { key, calls: last.tool_calls };
        } else {
          const calls: LlmToolCall[] = [];
          out.push({ role: 'assistant', content: null, tool_calls: calls });
          group = { key, calls };
        }
      }
      group.calls.push({ id: t.id, type: 'function', function: { name: t.name, arguments: t.arguments } });
      out.push({ role: 'tool', tool_call_id: t.id, content: t.pending ? NO_RESULT_YET : m.text });
      prev = m;
      continue;
    }
    if (m.text === '') continue;
    group = undefined;
    prev = m;
    const last = out[out.length - 1];
    if (m.role === 'caller') {
      if (last?.role === 'user') last.content = `${last.content} ${m.text}`;
      else out.push({ role: 'user', content: m.text });
    } else out.push({ role: 'assistant', content: m.text });
  }
  return out;
}

/**
 * What one turn is given: the most recent `contextMessages` messages, fewer if they pass
 * CONTEXT_MAX_CHARS (the newest one always goes). Recorded in the history every turn, so bounded.
 */
export function turnContext(s: CallState): TurnContext {
  const all = llmMessages(s);
  let start = Math.max(0, all.length - s.settings.contextMessages);
  let chars = 0;
  for (let i = all.length - 1; i >= start; i--) {
    chars += contentLength(all[i]!);
    if (chars > CONTEXT_MAX_CHARS && i < all.length - 1) {
      start = i + 1;
      break;
    }
  }
  // A tool result is never given without the reply that called it.
  while (start > 0 && all[start]?.role === 'tool') start -= 1;
  return { messages: all.slice(start), earlier: s.droppedMessages + start };
}

/** Why a call that is gone ended: its ending's reason; a transfer only once `POST /transfers` went out. */
function endingReason(ending: CallState['ending']): EndReason {
  if (!ending) return 'caller-hangup';
  if (ending.transfer && !ending.hangupSent) return 'caller-hangup';
  return ending.reason;
}

function contentLength(m: LlmMessage): number {
  const calls = m.role === 'assistant' ? (m.tool_calls ?? []) : [];
  return (m.content ?? '').length + calls.reduce((n, c) => n + c.function.arguments.length, 0);
}

// The rules.

/**
 * A speaking turn's step starts once nothing the workflow sends is in flight or queued (its own
 * `/say`s then follow everything sent before, in order), a speaking session exists, and what a
 * cut-off turn said is in the conversation. Its reply enters the conversation now, empty: what the
 * step says is added when it ends (its activity reports it), in this place, before anything the
 * caller says meanwhile.
 */
function startSpeakingStep(s: CallState, now: number, out: Command[]): void {
  const turn = s.turn;
  const speakingId = s.sessions.speakingId;
  if (!turn?.speaks?.waiting || !speakingId || s.cut || speech.isBusy(s.speech)) return;
  turn.speaks.waiting = false;
  turn.speaks.running = true;
  turn.reply = speech.utterance('reply');
  turn.reply.message = { role: 'agent', text: '', at: now, kind: 'reply' };
  s.messages.push(turn.reply.message);
  out.push({
    kind: 'startTurn',
    turnId: turn.id,
    context: turnContext(s),
    speakingId,
    ...(turn.step && { step: turn.step }),
  });
}

/**
 * A speaking turn is cancelled while its step's activity runs: what it may be saying is cut off by
 * a flush after its last `/say` (speech-queue `interrupt`), and no turn starts until what it
 * said is known. Returns whether it was. (A step not started yet has said nothing; one that has
 * ended, its turn waiting on tools, told what it said: what plays of it is in the queue's playback.)
 */
function cutSpeakingTurn(s: CallState, turn: Turn, now: number): boolean {
  if (!turn.speaks?.running || !turn.reply) return false;
  const step = turn.step ?? 0;
  s.cut = {
    turnId: turn.id,
    step,
    reply: turn.reply,
    heard: false,
    flushed: false,
    ...(!turn.spoke && { waitingSince: turn.heardAt }),
  };
  speech.interrupt(s.speech, now, { turnId: turn.id, step });
  return true;
}

/**
 * The speaking turn cut itself off where the caller was heard (this worker's ingress), flushed what
 * of it still played, and ended before this workflow took the caller's words: the barge-in its
 * own rule makes of them (`bargeIn`), done. What the turn said goes in the conversation, marked
 * interrupted; nothing of it plays after the flush; what the workflow said before it and still
 * plays, which the turn does not know of, is flushed here. The caller's words, when they come, find
 * the agent quiet and start the next turn at once.
 */
function cutOnHearing(
  s: CallState,
  turn: Turn,
  cut: TurnCutOnHearing,
  spoken: TurnSpoken | undefined,
  now: number,
): Command[] {
  const out: Command[] = [];
  turn.speaks!.running = false;
  if (turn.reply) {
    speech.markInterrupted(turn.reply);
    addCutSaid(s, turn.reply, turn.spoke ? undefined : turn.heardAt, spoken, now);
  }
  s.turn = undefined;
  s.phase = 'listening';
  s.bargeIns += 1;
  const q = s.speech;
  if (cut.flushed || cut.gone) q.playbackEndsAt = Math.min(q.playbackEndsAt, now);
  else if (speech.isSpeaking(q, now)) speech.interrupt(q, now);
  if (cut.gone && s.creating !== 'speaking') newSpeakingSession(s, out);
  return progress(s, now, out);
}

/**
 * The call is gone while a speaking turn's step runs: nothing is flushed, but what the turn said,
 * which its result (it is cancelled, and waited for before the call's workflow ends) tells, still
 * goes in the conversation, as for a turn cut off.
 */
function holdSpokenOf(s: CallState, turn: Turn): void {
  if (!turn.speaks?.running || !turn.reply || s.cut) return;
  s.cut = {
    turnId: turn.id,
    step: turn.step ?? 0,
    reply: turn.reply,
    heard: false,
    flushed: true,
    ...(!turn.spoke && { waitingSince: turn.heardAt }),
  };
}

/** What the current speaking turn's step said, from its result: in the conversation and playing. */
function heardTurn(
  s: CallState,
  turn: Turn,
  spoken: TurnSpoken | undefined,
  now: number,
  out: Command[],
): void {
  const reply = turn.reply;
  if (!reply) return;
  const said = onWorkflowClock(spoken, now);
  addSaid(reply, said);
  const q = s.speech;
  q.playbackEndsAt = playsUntil(said, s.settings.speechCharsPerSecond, q.playbackEndsAt);
  if (said.length > 0) {
    q.lastSaid = reply;
    // The caller's wait ends with the turn's first sentence sent, whichever step says it.
    if (!turn.spoke) s.firstSentenceLatenciesMs.push(Math.max(0, said[0]!.at - turn.heardAt));
    turn.spoke = true;
  }
  const unsaid = spoken?.unsaid ?? [];
  if (unsaid.length > 0) {
    // The speaking session was gone: a new one, and the rest of the reply said on it by the
    // workflow. The call may be gone too: ask VoIPBIN at the same time.
    unsaid.forEach((text, i) =>
      speech.say(q, text, reply, i === 0 && !turn.spoke ? turn.heardAt : undefined),
    );
    turn.spoke = true;
    if (s.creating !== 'speaking') newSpeakingSession(s, out);
  }
  if (reply.message?.text === '' && !q.queued.some((op) => op.kind === 'say' && op.utterance === reply))
    dropMessage(s, reply);
}

/** What a cut-off turn had said (from its flush or its result), once: into its interrupted reply. */
function heardCut(s: CallState, cut: CutTurn, spoken: TurnSpoken | undefined, now: number): void {
  if (!cut.heard) {
    cut.heard = true;
    addCutSaid(s, cut.reply, cut.waitingSince, spoken, now);
  }
  if (cut.flushed) s.cut = undefined;
}

/**
 * The speaking session is gone (VoIPBIN answered 404): a new one is created. The call may be gone
 * too: VoIPBIN is asked at the same time.
 */
function newSpeakingSession(s: CallState, out: Command[]): void {
  s.sessions.speakingId = undefined;
  s.creating = 'speaking';
  s.reconcile.wanted = true;
  out.push({ kind: 'createSpeaking' });
}

/** What a turn cut off had said, into its interrupted reply (`waitingSince`: see CutTurn). */
function addCutSaid(
  s: CallState,
  reply: Utterance,
  waitingSince: number | undefined,
  spoken: TurnSpoken | undefined,
  now: number,
): void {
  const said = onWorkflowClock(spoken, now);
  addSaid(reply, said);
  if (reply.message?.text === '') dropMessage(s, reply);
  // The caller's wait ended with its first sentence, cut off or not.
  if (said.length > 0 && waitingSince !== undefined)
    s.firstSentenceLatenciesMs.push(Math.max(0, said[0]!.at - waitingSince));
}

function addSaid(reply: Utterance, said: SpokenSentence[]): void {
  const message = reply.message;
  if (!message) return;
  for (const sentence of said)
    message.text = message.text ? `${message.text} ${sentence.text}` : sentence.text;
}

/** An utterance of which nothing was said leaves the conversation. */
function dropMessage(s: CallState, u: Utterance): void {
  const i = u.message ? s.messages.indexOf(u.message) : -1;
  if (i !== -1) s.messages.splice(i, 1);
  u.message = undefined;
}

/**
 * The step's reply called tools: each goes out as an activity (a name the profile does not define
 * is answered at once with an error); the model is asked again when all are in. The calls enter
 * the conversation now, after what the step said, so the order holds whatever comes meanwhile.
 */
function runTools(s: CallState, turn: Turn, calls: ToolCallRequest[], now: number, out: Command[]): void {
  const step = turn.step ?? 0;
  holdPlace(s, turn, now);
  let running = 0;
  let fillerText: string | undefined;
  calls.forEach((call, index) => {
    const known = Object.hasOwn(s.settings.tools, call.name) ? s.settings.tools[call.name] : undefined;
    const record: ToolCallRecord = {
      id: call.id,
      name: call.name,
      arguments: call.arguments,
      turnId: turn.id,
      step,
      index,
    };
    const message: ToolMessage = { role: 'tool', text: '', at: now, tool: record };
    s.messages.push(message);
    if (!known) {
      const why =
        call.name === TRANSFER_TOOL
          ? 'transferring is not allowed on this call'
          : `there is no tool named ${call.name}`;
      settle(message, { ok: false, error: why, ms: 0 });
      return;
    }
    record.pending = true;
    running += 1;
    fillerText ??= known.fillerText;
    out.push({ kind: 'callTool', turnId: turn.id, step, index, call });
  });
  s.toolsRunning = (s.toolsRunning ?? 0) + running;
  turn.tools =
    fillerText && !turn.fillerSaid ? { fillerAt: now + s.settings.toolFillerDelayMs, fillerText } : {};
  if (running === 0) nextStep(s, turn, out);
}

/** The turn goes back to the model, with its tools' results. */
function nextStep(s: CallState, turn: Turn, out: Command[]): void {
  turn.step = (turn.step ?? 0) + 1;
  turn.attempt = 1;
  turn.received = 0;
  turn.refused = 0;
  turn.reply = undefined;
  turn.tools = undefined;
  s.phase = 'thinking';
  // A speaking step waits for the filler said meanwhile, if any, to be sent (progress).
  if (turn.speaks) turn.speaks.waiting = true;
  else out.push({ kind: 'startTurn', turnId: turn.id, step: turn.step, context: turnContext(s) });
}

/**
 * The model asked to transfer the call: the turn ends, the line is said (after whatever the reply
 * said), then `POST /transfers` goes out where the hangup would (progress). The caller is heard
 * meanwhile, but nothing cuts the transfer off.
 */
function beginTransfer(s: CallState, turn: Turn, call: ToolCallRequest, now: number, out: Command[]): void {
  const transfer = s.settings.transfer!;
  holdPlace(s, turn, now);
  s.turn = undefined;
  // The line is said before the transfer goes out: in the conversation before its result too.
  const line = speech.utterance('transfer');
  line.message = { role: 'agent', text: '', at: now, kind: 'transfer' };
  s.messages.push(line.message);
  speech.say(s.speech, transfer.text, line);
  const record: ToolCallRecord = {
    id: call.id,
    name: call.name,
    arguments: call.arguments,
    turnId: turn.id,
    step: turn.step ?? 0,
    index: 0,
    pending: true,
  };
  const message: ToolMessage = { role: 'tool', text: '', at: now, tool: record };
  s.messages.push(message);
  beginEnding(s, 'transferred', now, out, false);
  s.ending!.transfer = { to: transfer.to, message };
}

/**
 * The filler is said while the step's tools run: in the conversation it goes before their calls,
 * as words of the reply that made them, so the model reads their results last (and answers them
 * rather than the question again).
 */
function sayFiller(s: CallState, turn: Turn, text: string, now: number): void {
  const step = turn.step ?? 0;
  const filler = speech.utterance('filler');
  filler.message = { role: 'agent', text: '', at: now, kind: 'filler' };
  const calls = s.messages.findIndex((m) => m.tool?.turnId === turn.id && m.tool.step === step);
  s.messages.splice(calls === -1 ? s.messages.length : calls, 0, filler.message);
  speech.say(s.speech, text, filler);
}

/** The reply's words keep their place before its tool calls, even while they wait to be sent. */
function holdPlace(s: CallState, turn: Turn, now: number): void {
  const reply = turn.reply;
  if (!reply || reply.message) return;
  reply.message = { role: 'agent', text: '', at: now, kind: 'reply' };
  s.messages.push(reply.message);
}

/** A tool call in the conversation: its record, and (once it is in) its result as `text`. */
type ToolMessage = ConversationMessage & { tool: ToolCallRecord };

function settle(message: ToolMessage, result: ToolResult): void {
  delete message.tool.pending;
  message.tool.ok = result.ok;
  message.tool.ms = result.ms;
  message.text = result.ok ? (result.content ?? '') : `error: ${result.error ?? 'failed'}`;
}

function applyStatus(s: CallState, status: CallStatus, now: number, out: Command[]): void {
  // A repeat, or a late, older snapshot; or news of a call this workflow is done with.
  if (CALL_STATUS_RANK[status] <= CALL_STATUS_RANK[s.status] || s.phase === 'ended') return;
  s.status = status;
  if (status === 'progressing') {
    s.phase = 'starting';
    s.deadline = now + s.settings.maxCallMs;
    s.creating = 'sessions';
    out.push({ kind: 'createSessions' });
  }
}

function applyTranscript(s: CallState, t: IncomingTranscript, now: number, out: Command[]): void {
  if (s.seen.includes(t.id)) return;
  s.seen.push(t.id);
  if (s.seen.length > SEEN_CAPACITY) s.seen.shift();
  const createdMs = t.createdAt ? Date.parse(t.createdAt) : NaN;
  if (Number.isFinite(createdMs)) s.newestTranscriptMs = Math.max(s.newestTranscriptMs ?? 0, createdMs);
  // Our own speech comes back as `out` transcripts: never a turn, never a barge-in.
  const text = t.text.trim();
  if (t.direction !== 'in' || !text || s.phase === 'ended' || isCallGone(s)) return;
  s.quietSince = now;
  s.reprompts = 0;
  // "Mm-hmm" while the agent speaks or thinks: the caller listens. Kept in the conversation, but
  // nothing is cut off and no turn answers it. Said to a silent agent, or over "Are you still
  // there?", it is an answer.
  if (isListening(s, now) && !cutsIn(bargeInRuleOf(s), { final: true, text })) {
    s.messages.push({ role: 'caller', text, at: now, backchannel: true });
    return;
  }
  s.messages.push({ role: 'caller', text, at: now });
  s.heardAt = now;
  if (s.ending) return; // heard, but the agent is saying goodbye
  s.callerWaiting = true;
  // The first half of what the caller says, cut at a pause: wait a little for the rest. What comes
  // next, finished or not, decides again; a complete final is answered at once.
  s.answerAt = looksUnfinished(text, s.settings.language) ? now + s.settings.unfinishedWaitMs : undefined;
  bargeIn(s, now, out);
}

/** The caller would be acknowledging the agent: it thinks, or speaks something other than a reprompt. */
function isListening(s: CallState, now: number): boolean {
  if (s.callerWaiting) return false;
  if (s.turn) return true;
  const q = s.speech;
  const heard = q.inFlight?.kind === 'say' ? q.inFlight.utterance : q.lastSaid;
  return speech.isSpeaking(q, now) && heard?.kind !== 'reprompt';
}

/** The caller speaks while the agent thinks or speaks: the turn in flight is cancelled, speech flushed. */
function bargeIn(s: CallState, now: number, out: Command[]): void {
  let interrupted = false;
  const turn = s.turn;
  if (turn) {
    out.push({ kind: 'cancelTurn', turnId: turn.id });
    if (turn.reply) speech.markInterrupted(turn.reply);
    s.turn = undefined;
    s.phase = 'listening';
    interrupted = true;
    // Its activity may be saying something: flushed after its last `/say` (speech-queue).
    cutSpeakingTurn(s, turn, now);
  }
  if (speech.isSpeaking(s.speech, now)) {
    // Already being cut off (the words heard before the final did it): the same barge-in.
    if (!speech.isFlushing(s.speech)) interrupted = true;
    speech.interrupt(s.speech, now);
  }
  if (interrupted) s.bargeIns += 1;
}

function beginEnding(s: CallState, reason: EndReason, now: number, out: Command[], goodbye: boolean): void {
  if (s.ending) return;
  s.ending = { reason, hangupSent: false };
  s.phase = 'ending';
  let cut = false;
  if (s.turn) {
    out.push({ kind: 'cancelTurn', turnId: s.turn.id });
    if (s.turn.reply) speech.markInterrupted(s.turn.reply);
    // A speaking turn is cut off as by a barge-in: the goodbye follows its flush.
    cut = cutSpeakingTurn(s, s.turn, now);
    s.turn = undefined;
  }
  if (!cut && reason === 'max-duration' && speech.isSpeaking(s.speech, now)) speech.interrupt(s.speech, now);
  if (goodbye) speech.say(s.speech, s.settings.goodbyeText, speech.utterance('goodbye'));
}

function finish(s: CallState, reason: EndReason, now: number, out: Command[]): void {
  speech.abandon(s.speech);
  s.phase = 'ended';
  s.ended = { reason, at: now };
  out.push({ kind: 'finish', ...s.sessions });
}

/**
 * When the silence runs out, if the agent is idle and waiting for the caller (listening: no turn,
 * not ending, and a caller waiting for an answer always has a turn); else never.
 */
function silenceEndsAt(s: CallState): number {
  if (s.phase !== 'listening' || speech.isBusy(s.speech) || s.toolsRunning) return Infinity;
  return Math.max(s.quietSince, s.speech.playbackEndsAt) + s.settings.silenceMs;
}

/** A say came back: the conversation holds what VoIPBIN took. */
function recordSay(
  s: CallState,
  op: Extract<SpeechOp, { kind: 'say' }>,
  outcome: SpeechOutcome,
  now: number,
): void {
  // Its message entered the conversation when the say was sent (progress).
  const message = op.utterance.message!;
  if (outcome === 'done') {
    message.text = message.text ? `${message.text} ${op.text}` : op.text;
    if (op.heardAt !== undefined) s.firstSentenceLatenciesMs.push(now - op.heardAt);
  } else if (message.text === '' && !s.speech.queued.includes(op)) {
    // Nothing of it was said, and this sentence will not be sent again: out of the conversation
    // (a later sentence of it, if any, brings it back).
    s.messages.splice(s.messages.indexOf(message), 1);
    op.utterance.message = undefined;
  }
}

function missed(t: MissedTranscript): IncomingTranscript {
  return { id: t.id, direction: 'in', text: t.text, createdAt: t.createdAt };
}

/** After every change: whatever now follows from the state. */
function progress(s: CallState, now: number, out: Command[]): Command[] {
  if (s.phase === 'ended') return out;
  if (isCallGone(s) || s.cancelled) {
    // Say nothing more; stop the sessions once any create in flight has returned.
    if (s.turn) {
      out.push({ kind: 'cancelTurn', turnId: s.turn.id });
      // A speaking turn's words reach the conversation with its result, after this: held for it.
      holdSpokenOf(s, s.turn);
    }
    s.turn = undefined;
    speech.abandon(s.speech);
    const reason = s.cancelled ? 'error' : endingReason(s.ending);
    if (s.creating === undefined) finish(s, reason, now, out);
    return out;
  }
  if (
    s.callerWaiting &&
    !s.turn &&
    !s.toolsRunning &&
    s.phase === 'listening' &&
    !(now < (s.answerAt ?? now))
  ) {
    s.answerAt = undefined;
    s.turns += 1;
    s.turn = { id: s.turns, heardAt: s.heardAt, attempt: 1, received: 0, refused: 0 };
    s.callerWaiting = false;
    s.phase = 'thinking';
    if (s.settings.turnSpeaks) s.turn.speaks = { waiting: true };
    else out.push({ kind: 'startTurn', turnId: s.turn.id, context: turnContext(s) });
  }
  startSpeakingStep(s, now, out);
  const silence = silenceEndsAt(s);
  if (now >= silence) afterSilence(s, silence, now, out);
  const ending = s.ending;
  if (ending && !speech.isBusy(s.speech)) {
    // The goodbye is allowed to finish playing (estimated), within a cap, before the hangup.
    ending.hangupAt ??= now + Math.min(GOODBYE_PLAYBACK_CAP_MS, Math.max(0, s.speech.playbackEndsAt - now));
    if (now >= ending.hangupAt && !ending.hangupSent) {
      ending.hangupSent = true;
      out.push(ending.transfer ? { kind: 'transfer', to: ending.transfer.to } : { kind: 'hangup' });
    }
  }
  // No speaking session while it is being created (again): the queue waits.
  const speakingId = s.sessions.speakingId;
  const op = speakingId ? speech.next(s.speech, now) : undefined;
  if (op && speakingId) {
    if (op.kind === 'say' && !op.utterance.message) {
      // In the conversation from the moment its first sentence is sent, so the order is right
      // when the caller talks over it; its text grows as each sentence is accepted by VoIPBIN.
      op.utterance.message = { role: 'agent', text: '', at: now, kind: op.utterance.kind };
      s.messages.push(op.utterance.message);
    }
    out.push({ kind: 'speak', op, speakingId });
  }
  if (s.reconcile.wanted && !s.reconcile.inFlight) {
    s.reconcile.wanted = false;
    s.reconcile.inFlight = true;
    if (s.ending?.transfer?.check === 'wanted') s.ending.transfer.check = 'asked';
    out.push({ kind: 'reconcile', transcribeId: s.sessions.transcribeId, sinceMs: s.newestTranscriptMs });
  }
  if (s.rollover) {
    // Only the agent's playback is left to wait for: wake when it ends, to roll over then.
    const playing = now < s.speech.playbackEndsAt;
    s.rollover.wakeAt =
      playing && readyToRollOver(s, s.speech.playbackEndsAt) ? s.speech.playbackEndsAt : undefined;
  }
  return out;
}

/** The caller has been quiet for `silenceTimeoutSeconds` since the agent's speech ended. */
function afterSilence(s: CallState, silence: number, now: number, out: Command[]): void {
  if (s.reconcile.checkedSilenceAt !== silence) {
    // Longer than expected: first make sure nothing was missed (a final, a hangup).
    s.reconcile.checkedSilenceAt = silence;
    s.reconcile.wanted = true;
    return;
  }
  if (s.reconcile.wanted || s.reconcile.inFlight) return;
  if (s.reprompts >= s.settings.maxReprompts) {
    beginEnding(s, 'silence', now, out, true);
    return;
  }
  s.reprompts += 1;
  s.repromptsTotal += 1;
  s.quietSince = now;
  speech.say(s.speech, s.settings.repromptText, speech.utterance('reprompt'));
}
