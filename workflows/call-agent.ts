// The call workflow's hands: it carries out what call-state.ts decides (activities, timers,
// cancellation) and reports each outcome back to it. No decision about the call is made here.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  TimeoutFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  makeContinueAsNewFunc,
  patched,
  proxySinks,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type {
  FlushTurnResult,
  LlmTurnResult,
  ReconcileResult,
  ToolCallRequest,
  ToolDefinition,
  ToolResult,
  TurnBargeIn,
  TurnSpeech,
  TurnSpoken,
} from '../activities/types';
import {
  llm,
  reads,
  speakingTurn,
  speech,
  toolsOf,
  transfers,
  turnCut,
  turnFlush,
  voipbin,
} from './activities';
import * as call from './call-state';
import type { CallState, Command } from './call-state';
import {
  FailureType,
  type CallEvent,
  type CallerSpeech,
  type CallMetricsSinks,
  type CallStatus,
  type CallSummary,
  CALL_WORKFLOW_TASK_TIMEOUT,
  type CallWorkflowInput,
  type ConversationView,
  type SentenceReady,
} from './messages';
import { profileFor } from './prompt-variables';
import { heardOf } from './turn-speech';
import { CallSearchAttributes } from './search-attributes';
import type { SpeechOp, SpeechOutcome } from './speech-queue';

/** Longest wait at the end of a call for cancelled LLM turns to confirm they stopped. */
const TURN_CLEANUP_CAP = '5s';

/**
 * The patch (workflow versioning) under which nothing the call did in local activities is left for
 * the task that completes the workflow: after the session stops, a timer ends the task, which
 * records them. Calls whose histories lack it complete at once after the stops.
 */
export const RECORDED_BEFORE_COMPLETING = 'local-activities-recorded-before-completing';

/**
 * A speaking turn cut off by a barge-in is first cut where it runs, if that is this worker's
 * process (`cutTurn`, a local activity), before `flushTurn`. Runs recorded before only flushTurn.
 */
export const TURN_CUT_HERE = 'speaking-turn-cut-here';

/**
 * A run's history budget: past it, the call continues as new at its next quiet moment. Well below
 * Temporal's own suggestion (4,096 events or 4 MB), because a worker that takes over a call (after
 * a crash, or when the sticky queue times out) replays the run's whole history inside the 2 s
 * workflow task timeout, with the caller waiting: docs/benchmarks.md (history-budget).
 */
export const HISTORY_BUDGET = { events: 1_500, bytes: 1_500_000 };

const { callMetrics } = proxySinks<CallMetricsSinks>();

/** Backchannels, unfinished finals and playback by language (call-state.ts settingsOf). */
export const TURN_TAKING_PATCH = 'turn-taking-1';

/** The counts of call-state that the metrics follow; what grew since the last look is reported. */
function counted(s: CallState) {
  return { bargeIns: s.bargeIns, reprompts: s.repromptsTotal, latencies: s.firstSentenceLatenciesMs.length };
}

export class CallAgent {
  private readonly state: CallState;
  private readonly turns = new Map<number, CancellationScope>();
  /** What the model is offered besides `end_call`: the profile's tools and `transfer_call`. */
  private readonly toolDefinitions: ToolDefinition[];
  private result?: CallSummary;
  private readonly reported: ReturnType<typeof counted>;

  private readonly input: CallWorkflowInput;
  /** The values of the attributes this workflow keeps up to date, as last upserted (or started with). */
  private readonly indexed: { callStatus?: string; endReason?: string };

  constructor(input: CallWorkflowInput) {
    // The prompts filled in for this call, once: every run and every turn reads the same text.
    this.input = { ...input, profile: profileFor(input.profile, input.variables) };
    // Calls that began on a build without these rules keep the old ones (README "Changing the workflow safely").
    const settings = call.settingsOf(this.input.profile, { turnTaking: patched(TURN_TAKING_PATCH) });
    this.state = input.carried
      ? call.resume(input.carried, settings)
      : call.newCall({ callId: input.callId, profileName: input.profileName, settings }, Date.now());
    this.reported = counted(this.state);
    this.toolDefinitions = toolDefinitionsOf(this.input.profile);
    const current = workflowInfo().typedSearchAttributes;
    this.indexed = {
      callStatus: current.get(CallSearchAttributes.callStatus),
      endReason: current.get(CallSearchAttributes.endReason),
    };
    if (!input.carried) callMetrics.callStarted();
  }

  onEvent(event: CallEvent): void {
    if (event.kind === 'call') {
      if (event.callId === this.input.callId) this.apply((s, now) => call.onCallStatus(s, event.status, now));
    } else {
      this.apply((s, now) => call.onTranscript(s, event, now));
    }
  }

  onCallerSpeech(speech: CallerSpeech): void {
    this.apply((s, now) => call.onCallerSpeech(s, speech, now));
  }

  onSentence(sentence: SentenceReady): void {
    this.apply((s, now) => call.onSentence(s, sentence, now));
  }

  onReconcileRequested(): void {
    this.apply((s, now) => call.onReconcileRequested(s, now));
  }

  view(): ConversationView {
    return call.view(this.state);
  }

  async run(): Promise<CallSummary> {
    try {
      let due: number | undefined;
      for (;;) {
        if (this.result) return this.result;
        if (this.readyToRollOver()) await this.rollOver();
        const wake = call.nextWakeAt(this.state);
        let wait = wake === undefined ? undefined : wake - Date.now();
        if (wait !== undefined && wait <= 0 && wake === due) {
          // onTimer left the same deadline due: a bug in call-state. Never spin inside a workflow task.
          log.error('call deadline did not move', { phase: this.state.phase });
          wait = 1000;
        }
        // Wakes when the call finished or its next deadline moved; a timeout means it is due.
        const changed = () =>
          this.result !== undefined || call.nextWakeAt(this.state) !== wake || this.readyToRollOver();
        let moved = true;
        if (wait === undefined) await condition(changed);
        else moved = wait > 0 && (await condition(changed, wait));
        due = moved ? undefined : wake;
        if (!moved) this.apply((s, now) => call.onTimer(s, now));
      }
    } catch (err) {
      if (!isCancellation(err)) throw err;
      // The workflow itself is cancelled: stop the sessions anyway, then end as cancelled.
      this.apply((s, now) => call.onCancelled(s, now));
      await CancellationScope.nonCancellable(() => condition(() => this.result !== undefined));
      throw err;
    }
  }

  private apply(transition: (s: CallState, now: number) => Command[]): void {
    for (const command of transition(this.state, Date.now())) this.execute(command);
    this.report();
    this.index();
    if (!this.state.rollover && historyFull(this.input.historyBudget ?? HISTORY_BUDGET))
      this.apply((s, now) => call.onHistoryFull(s, now));
  }

  /** Tells the worker's metrics what this transition added: barge-ins, reprompts, answered turns. */
  private report(): void {
    const s = this.state;
    const r = this.reported;
    for (; r.bargeIns < s.bargeIns; r.bargeIns++) callMetrics.bargeIn();
    for (; r.reprompts < s.repromptsTotal; r.reprompts++) callMetrics.reprompt();
    for (; r.latencies < s.firstSentenceLatenciesMs.length; r.latencies++)
      callMetrics.firstSentence(s.firstSentenceLatenciesMs[r.latencies]!);
  }

  /**
   * Keeps the call findable by its VoIPBIN status and end reason (`temporal workflow list --query`,
   * `GET /calls`): an upsert when either changed, for the attributes the starter found registered.
   */
  private index(): void {
    const keep = this.input.searchAttributes;
    if (!keep?.length) return;
    const s = this.state;
    const changes: SearchAttributeUpdatePair[] = [];
    if (keep.includes('callStatus') && s.status !== 'unknown' && s.status !== this.indexed.callStatus) {
      this.indexed.callStatus = s.status;
      changes.push({ key: CallSearchAttributes.callStatus, value: s.status });
    }
    if (keep.includes('endReason') && s.ended && s.ended.reason !== this.indexed.endReason) {
      this.indexed.endReason = s.ended.reason;
      changes.push({ key: CallSearchAttributes.endReason, value: s.ended.reason });
    }
    if (changes.length) upsertSearchAttributes(changes);
  }

  /** Quiet, by call-state's rules, and no cancelled turn still winding down. */
  private readyToRollOver(): boolean {
    return this.turns.size === 0 && call.readyToRollOver(this.state, Date.now());
  }

  /**
   * A fresh history: the next run starts from this one's state. Signals that arrive meanwhile are
   * not lost: the server refuses to close a run that has unhandled signals, and the workflow task
   * runs again with them (then the call is no longer quiet, or it rolls over with them applied).
   */
  private async rollOver(): Promise<void> {
    await condition(allHandlersFinished);
    if (!this.readyToRollOver()) return;
    log.info('continuing as new', { run: this.state.run, events: workflowInfo().historyLength });
    // The next run keeps the call's short task timeout (messages.ts), whatever a server would inherit.
    await makeContinueAsNewFunc<(input: CallWorkflowInput) => Promise<CallSummary>>({
      workflowTaskTimeout: CALL_WORKFLOW_TASK_TIMEOUT,
    })({ ...this.input, carried: call.carry(this.state) });
  }

  private execute(command: Command): void {
    switch (command.kind) {
      case 'createSessions':
        return void this.createSessions();
      case 'createSpeaking':
        return void this.createSpeaking();
      case 'speak':
        return void this.speak(command.op, command.speakingId);
      case 'startTurn':
        return void this.runTurn(command.turnId, command.context, command.step ?? 0, command.speakingId);
      case 'callTool':
        return void this.callTool(command);
      case 'transfer':
        return void this.transfer(command.to);
      case 'cancelTurn':
        this.turns.get(command.turnId)?.cancel();
        return;
      case 'reconcile':
        return void this.reconcile(command.transcribeId, command.sinceMs);
      case 'hangup':
        return void this.hangup();
      case 'finish':
        return void this.finish(command.transcribeId, command.speakingId);
    }
  }

  /** The speaking session this call's profile asks for (direction both: the agent is heard). */
  private speakingRequest() {
    const { language, voice } = this.input.profile;
    return { callId: this.input.callId, language, provider: voice.provider, voiceId: voice.voiceId };
  }

  private async createSessions(): Promise<void> {
    const { callId } = this.input;
    // Not cancelled with the workflow: what they create must be known, to be stopped.
    const [transcribe, speaking] = await CancellationScope.nonCancellable(() =>
      Promise.allSettled([
        voipbin.createTranscribe({ callId, language: this.input.profile.language }),
        voipbin.createSpeaking(this.speakingRequest()),
      ]),
    );
    for (const outcome of [transcribe, speaking]) {
      if (outcome.status === 'rejected')
        log.error('could not start a call session', { error: message(outcome.reason) });
    }
    const transcribeId = transcribe.status === 'fulfilled' ? transcribe.value.transcribeId : undefined;
    const speakingId = speaking.status === 'fulfilled' ? speaking.value.speakingId : undefined;
    this.apply((s, now) => call.onSessions(s, { transcribeId, speakingId }, now));
  }

  private async createSpeaking(): Promise<void> {
    let speakingId: string | undefined;
    try {
      const created = await CancellationScope.nonCancellable(() =>
        voipbin.createSpeaking(this.speakingRequest()),
      );
      speakingId = created.speakingId;
      log.warn('the speaking session was gone: a new one took over', { adopted: created.adopted });
    } catch (err) {
      log.error('could not create a new speaking session', { error: message(err) });
    }
    this.apply((s, now) => call.onSpeakingCreated(s, speakingId, now));
  }

  private async speak(op: SpeechOp, speakingId: string): Promise<void> {
    let outcome: SpeechOutcome = 'done';
    let flushed: FlushTurnResult | undefined;
    try {
      if (op.kind === 'say') await speech.say({ speakingId, text: op.text });
      else if (op.turn) {
        const cut = {
          speakingId,
          activityId: call.turnActivityId(op.turn.turnId, op.turn.step),
          playing: op.turn.playing,
          charsPerSecond: this.state.settings.speechCharsPerSecond,
        };
        // At once where the turn runs in this worker's process; through the server otherwise.
        if (patched(TURN_CUT_HERE))
          flushed = await turnCut.cutTurn(cut).catch((err: unknown) => {
            log.warn('cutting the turn off here failed: through the server', { error: message(err) });
            return undefined;
          });
        flushed ??= await turnFlush.flushTurn(cut);
        if (flushed.gone) outcome = 'gone';
      } else await voipbin.flush({ speakingId });
    } catch (err) {
      outcome = speechOutcome(err);
      log.warn('speaking request failed', { op: op.kind, outcome, error: message(err) });
    }
    this.apply((s, now) => call.onSpeechDone(s, op.id, outcome, now, flushed));
  }

  /** What cuts a speaking turn off, for the turn to apply where it runs (LlmTurnInput.speak). */
  private turnBargeIn(): TurnBargeIn {
    const s = this.state;
    return { ...call.bargeInRuleOf(s), charsPerSecond: s.settings.speechCharsPerSecond };
  }

  private async runTurn(
    turnId: number,
    context: call.TurnContext,
    step: number,
    speakingId?: string,
  ): Promise<void> {
    const scope = new CancellationScope();
    this.turns.set(turnId, scope);
    const profile = this.input.profile;
    let outcome: call.TurnOutcome;
    // A speaking turn's step runs under an id of its own, by which its flush finds it.
    const activities = speakingId ? speakingTurn(call.turnActivityId(turnId, step)) : llm;
    try {
      const result: LlmTurnResult = await scope.run(() =>
        activities.llmTurn({
          turnId,
          model: profile.model,
          systemPrompt: profile.systemPrompt,
          messages: context.messages,
          earlierMessages: context.earlier,
          firstTokenTimeoutMs: profile.firstTokenTimeoutSeconds * 1000,
          stallTimeoutMs: profile.stallTimeoutSeconds * 1000,
          sentencePauseMs: profile.sentencePauseSeconds * 1000,
          // Recorded only when there is something: a call without tools keeps its old input.
          ...(step > 0 && { step }),
          ...(this.toolDefinitions.length > 0 && { tools: this.toolDefinitions }),
          ...(speakingId && { speak: { speakingId, bargeIn: this.turnBargeIn() } }),
        }),
      );
      const spoken = result.spoken && { spoken: result.spoken };
      outcome = result.cancelled
        ? { kind: 'cancelled', ...spoken, ...(result.onHearing && { onHearing: result.onHearing }) }
        : {
            kind: 'completed',
            endCall: result.endCall !== undefined,
            ...(result.toolCalls?.length && { toolCalls: result.toolCalls }),
            ...spoken,
          };
    } catch (err) {
      if (isCancellation(err)) {
        outcome = { kind: 'cancelled' };
      } else {
        log.warn('reply failed, apologising', { turnId, error: message(err) });
        const spoken = speakingId ? spokenBefore(err) : undefined;
        outcome = { kind: 'failed', ...(spoken && { spoken }) };
      }
    } finally {
      this.turns.delete(turnId);
    }
    callMetrics.turnEnded(outcome.kind);
    // Which step ended: a speaking turn's record is by step (recorded only for those).
    if (speakingId && step > 0) outcome.step = step;
    this.apply((s, now) => call.onTurnDone(s, turnId, outcome, now));
  }

  /**
   * One HTTP tool call, as a regular activity: its result is recorded the moment it is in, so a
   * failover never runs it again; its retries send the same `Idempotency-Key`. Never cancelled: a
   * barge-in lets it finish (it may have acted), and the caller's next turn reads its result.
   */
  private async callTool(command: { turnId: number; step: number; index: number; call: ToolCallRequest }) {
    const tool = this.input.profile.tools?.find((t) => t.name === command.call.name);
    let result: ToolResult;
    try {
      if (!tool) throw new Error(`no tool named ${command.call.name}`);
      result = await CancellationScope.nonCancellable(() =>
        toolsOf(tool.http.timeoutSeconds).callTool({
          callId: this.input.callId,
          ...(this.input.variables?.['caller'] && { caller: this.input.variables['caller'] }),
          ...(this.input.variables?.['called'] && { called: this.input.variables['called'] }),
          turnId: command.turnId,
          step: command.step,
          index: command.index,
          tool: { name: tool.name, parameters: tool.parameters, http: tool.http },
          arguments: command.call.arguments,
        }),
      );
    } catch (err) {
      log.warn('tool failed', { tool: command.call.name, error: message(failureCause(err)) });
      result = { ok: false, error: `${command.call.name} failed: ${message(failureCause(err))}`, ms: 0 };
    }
    this.apply((s, now) => call.onToolDone(s, command, result, now));
  }

  /** `POST /transfers`: the call leaves the agent; a failure goes back to the model. */
  private async transfer(to: string): Promise<void> {
    let result: ToolResult;
    const started = Date.now();
    try {
      await CancellationScope.nonCancellable(() => transfers.transferCall({ callId: this.input.callId, to }));
      result = { ok: true, content: `transferred to ${to}`, ms: Date.now() - started };
    } catch (err) {
      log.error('transfer failed', { error: message(err) });
      result = {
        ok: false,
        error: `the transfer failed: ${message(failureCause(err))}`,
        ms: Date.now() - started,
      };
    }
    this.apply((s, now) => call.onTransferDone(s, result, now));
  }

  private async reconcile(transcribeId: string | undefined, sinceMs: number | undefined): Promise<void> {
    let result: ReconcileResult | undefined;
    try {
      result = await reads.reconcile({ callId: this.input.callId, transcribeId, sinceMs });
    } catch (err) {
      log.warn('could not reconcile with VoIPBIN', { error: message(err) });
    }
    this.apply((s, now) => call.onReconciled(s, result, now));
  }

  private async hangup(): Promise<void> {
    let status: CallStatus | undefined;
    try {
      status = (await voipbin.hangupCall({ callId: this.input.callId })).status;
    } catch (err) {
      log.error('hangup failed', { error: message(err) });
    }
    this.apply((s, now) => call.onHangupDone(s, status, now));
  }

  private async finish(transcribeId?: string, speakingId?: string): Promise<void> {
    // Stop both sessions even if this workflow is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      const stops: Promise<void>[] = [];
      if (speakingId) stops.push(stopped(voipbin.stopSpeaking({ speakingId })));
      if (transcribeId) stops.push(stopped(voipbin.stopTranscribe({ transcribeId })));
      await Promise.all(stops);
      // A signal landing as the workflow completes makes the server refuse the completion, and the
      // run is replayed from its history: what the last task did in local activities would be
      // done again (both stops sent twice, when the other ingress replica's copy of the hangup
      // arrived as the call ended). A timer ends this task first, which records them. (Regular
      // activities for the stops did the same, at a cost other calls' turns felt under load:
      // docs/benchmarks.md.)
      if (patched(RECORDED_BEFORE_COMPLETING)) await sleep(1);
      // A cancelled turn's stream is closed before the call's workflow ends (a dead worker's: bounded).
      // Tool calls too: call-state counts them until each one's result is in.
      await condition(() => this.turns.size === 0 && !this.state.toolsRunning, TURN_CLEANUP_CAP);
    });
    this.result = call.summary(this.state);
    callMetrics.callEnded(this.result.endReason);
    log.info('call ended', { endReason: this.result.endReason, turns: this.result.turns });
  }
}

/** A session stop that failed (already retried) is logged, and the call ends anyway. */
function stopped(stop: Promise<void>): Promise<void> {
  return stop.catch((err: unknown) => log.warn('session stop failed', { error: message(err) }));
}

function historyFull(budget: { events: number; bytes: number }): boolean {
  const info = workflowInfo();
  return (
    info.continueAsNewSuggested || info.historyLength >= budget.events || info.historySize >= budget.bytes
  );
}

/** At most once: only a refusal (4xx) is known not to have been said, and a 404 means the session is gone. */
function speechOutcome(err: unknown): SpeechOutcome {
  const cause = failureCause(err);
  if (cause instanceof ApplicationFailure) {
    if (cause.type === FailureType.SpeakingGone) return 'gone';
    const status = (cause.details?.[0] as { httpStatus?: unknown } | undefined)?.httpStatus;
    if (typeof status === 'number' && status >= 400 && status < 500) return 'rejected';
  }
  return 'done';
}

/**
 * What a speaking turn said before it failed: in its failure's details (the activity adds them),
 * or, when its last attempt timed out (a dead worker), in its last record (heartbeat details):
 * a sentence recorded but not known to be sent counts as said (at most once).
 */
function spokenBefore(err: unknown): TurnSpoken | undefined {
  const cause = failureCause(err);
  if (cause instanceof TimeoutFailure) {
    const speech = cause.lastHeartbeatDetails as TurnSpeech | undefined;
    return speech?.said ? { said: heardOf(speech) } : undefined;
  }
  if (cause instanceof ApplicationFailure) {
    const last = cause.details?.at(-1) as { spoken?: TurnSpoken } | undefined;
    return last?.spoken;
  }
  return undefined;
}

/** An activity's own failure, not Temporal's wrapper ("Activity task failed"). */
function failureCause(err: unknown): unknown {
  return err instanceof ActivityFailure && err.cause ? err.cause : err;
}

/** The functions the model may call besides `end_call`. */
function toolDefinitionsOf(profile: CallWorkflowInput['profile']): ToolDefinition[] {
  const tools: ToolDefinition[] = (profile.tools ?? []).map((t) => ({
    name: t.name,
    description: t.description,
    parameters: t.parameters,
  }));
  if (profile.transfer) {
    tools.push({
      name: call.TRANSFER_TOOL,
      description:
        profile.transfer.description ??
        'Transfer the caller to a person. Use it when the caller asks for a human, or when you cannot help.',
      parameters: {
        type: 'object',
        properties: { reason: { type: 'string', description: 'Why the caller is transferred.' } },
      },
    });
  }
  return tools;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
