import { CancellationScope, condition, isCancellation, log, workflowInfo } from '@temporalio/workflow';
import { llm, voipbin } from './activities';
import { appendSentence, Conversation, SeenIds } from './conversation';
import type {
  CallEvent,
  CallPhase,
  CallStatus,
  CallSummary,
  CallWorkflowInput,
  ConversationMessage,
  ConversationView,
  EndReason,
  SentenceReady,
} from './messages';
import { Speaker } from './speaker';

const STATUS_RANK: Record<CallStatus, number> = {
  dialing: 0,
  ringing: 1,
  progressing: 2,
  terminating: 3,
  canceling: 3,
  hangup: 4,
};

/** How long to wait for the call to be answered before leaving it alone. */
const ANSWER_TIMEOUT_MS = 5 * 60_000;
/** Longest wait for the goodbye to finish playing before hanging up. */
const GOODBYE_PLAYBACK_CAP_MS = 15_000;

interface Turn {
  id: number;
  scope: CancellationScope;
  nextSeq: number;
  heardAt: number;
  reply?: ConversationMessage;
  cancelled: boolean;
}

/** One call's conversation: the state the signal handlers update and the loop that drives it. */
export class CallAgent {
  private readonly conversation = new Conversation();
  private readonly seen = new SeenIds();
  private readonly startedAt = Date.now();
  private readonly firstSentenceLatenciesMs: number[] = [];
  private callStatus: CallStatus | 'unknown' = 'unknown';
  private phase: CallPhase = 'waiting';
  private speaker?: Speaker;
  private speaking?: ConversationMessage;
  private turn?: Turn;
  private turnCount = 0;
  private pendingCaller = 0;
  private lastActivityAt = Date.now();
  private reprompts = 0;
  private repromptsTotal = 0;
  private bargeIns = 0;
  /** Set when the model called end_call: whether its last reply said anything. */
  private endCallRequested?: { replied: boolean };

  constructor(private readonly input: CallWorkflowInput) {}

  private get profile() {
    return this.input.profile;
  }

  private get callGone(): boolean {
    return this.callStatus !== 'unknown' && STATUS_RANK[this.callStatus] >= STATUS_RANK.terminating;
  }

  onEvent(event: CallEvent): void {
    if (event.kind === 'call') {
      if (event.callId !== this.input.callId) return;
      const current = this.callStatus === 'unknown' ? -1 : STATUS_RANK[this.callStatus];
      if (STATUS_RANK[event.status] <= current) return; // a repeat or a late, older snapshot
      this.callStatus = event.status;
      if (this.callGone) this.onCallGone();
      return;
    }
    if (!this.seen.add(event.id)) return;
    // Our own speech comes back as `out` transcripts: never a turn, never a barge-in.
    if (event.direction !== 'in') return;
    const text = event.text.trim();
    if (!text || this.callGone) return;
    this.onCallerSpeech(text);
  }

  onSentence(sentence: SentenceReady): void {
    const turn = this.turn;
    // A sentence of a cancelled (barged-in) turn is never said.
    if (!turn || turn.cancelled || sentence.turnId !== turn.id || sentence.seq < turn.nextSeq) return;
    turn.nextSeq = sentence.seq + 1;
    turn.reply ??= this.conversation.agent('reply', Date.now());
    const first = sentence.seq === 0;
    this.sayPart(turn.reply, sentence.text, () => {
      if (first) this.firstSentenceLatenciesMs.push(Date.now() - turn.heardAt);
    });
  }

  view(): ConversationView {
    return {
      callId: this.input.callId,
      profileName: this.input.profileName,
      phase: this.phase,
      callStatus: this.callStatus,
      messages: this.conversation.messages.map((m) => ({ ...m })),
      turns: this.turnCount,
      bargeIns: this.bargeIns,
      reprompts: this.repromptsTotal,
    };
  }

  async run(): Promise<CallSummary> {
    const answered = await condition(
      () => this.callStatus === 'progressing' || this.callGone,
      Math.min(ANSWER_TIMEOUT_MS, this.profile.maxCallSeconds * 1000),
    );
    if (!answered || this.callGone) return this.finish(answered ? 'caller-hangup' : 'not-answered');

    this.phase = 'starting';
    const deadline = Date.now() + this.profile.maxCallSeconds * 1000;
    const { callId } = this.input;
    const { language, voice } = this.profile;
    const [transcribe, speaking] = await Promise.allSettled([
      voipbin.createTranscribe({ callId, language }),
      voipbin.createSpeaking({ callId, language, provider: voice.provider, voiceId: voice.voiceId }),
    ]);
    const transcribeId = transcribe.status === 'fulfilled' ? transcribe.value.transcribeId : undefined;
    const speakingId = speaking.status === 'fulfilled' ? speaking.value.speakingId : undefined;
    if (!transcribeId || !speakingId) {
      log.error('could not start the call sessions', { callId });
      if (!this.callGone) await this.hangup();
      return this.finish('error', { transcribeId, speakingId });
    }
    this.speaker = new Speaker(speakingId);
    this.phase = 'listening';
    this.sayLine(this.profile.greeting, 'greeting');

    const endReason = await this.converse(deadline);
    return this.finish(endReason, { transcribeId, speakingId });
  }

  private async converse(deadline: number): Promise<EndReason> {
    const silenceMs = this.profile.silenceTimeoutSeconds * 1000;
    for (;;) {
      if (this.callGone) return 'caller-hangup';
      if (this.endCallRequested) return this.endCall('agent-ended');
      if (Date.now() >= deadline) return this.endCall('max-duration');
      if (this.pendingCaller > 0) {
        await this.runTurn();
        continue;
      }
      const speaker = this.speaker!;
      if (speaker.busy) {
        await condition(() => !speaker.busy || this.pendingCaller > 0 || this.callGone);
        continue;
      }
      // Silence counts from the later of the caller's last words and the end of our playback.
      const silenceEndsAt = Math.min(
        Math.max(this.lastActivityAt, speaker.playbackEndsAt) + silenceMs,
        deadline,
      );
      if (Date.now() < silenceEndsAt) {
        await condition(
          () => this.pendingCaller > 0 || this.callGone || speaker.busy,
          silenceEndsAt - Date.now(),
        );
        continue;
      }
      if (Date.now() >= deadline) continue;
      if (this.reprompts >= this.profile.maxReprompts) return this.endCall('silence');
      this.reprompts++;
      this.repromptsTotal++;
      this.lastActivityAt = Date.now();
      this.sayLine(this.profile.repromptText, 'reprompt');
    }
  }

  private onCallerSpeech(text: string): void {
    const now = Date.now();
    this.conversation.caller(text, now);
    this.lastActivityAt = now;
    if (this.phase === 'ending' || this.phase === 'ended') return;
    this.pendingCaller++;
    this.reprompts = 0;
    const speaker = this.speaker;
    if (!speaker) return;
    // Barge-in: the caller speaks while the agent thinks or speaks.
    const turn = this.turn;
    if (turn && !turn.cancelled) {
      turn.cancelled = true;
      turn.scope.cancel();
    }
    if (turn || speaker.isSpeaking(now)) {
      this.bargeIns++;
      if (this.speaking && speaker.isSpeaking(now)) this.speaking.interrupted = true;
      if (turn?.reply) turn.reply.interrupted = true;
      speaker.interrupt();
    }
  }

  private async runTurn(): Promise<void> {
    const turn: Turn = {
      id: ++this.turnCount,
      scope: new CancellationScope(),
      nextSeq: 0,
      heardAt: this.lastActivityAt,
      cancelled: false,
    };
    this.pendingCaller = 0;
    this.turn = turn;
    this.phase = 'thinking';
    try {
      const result = await turn.scope.run(() =>
        llm.llmTurn({
          workflowId: workflowInfo().workflowId,
          turnId: turn.id,
          model: this.profile.model,
          systemPrompt: this.profile.systemPrompt,
          messages: this.conversation.llmMessages(),
        }),
      );
      // Every sentence signal precedes the activity's completion in history.
      if (result.sentences !== turn.nextSeq) {
        log.warn('reply sentences missing', {
          turnId: turn.id,
          expected: result.sentences,
          got: turn.nextSeq,
        });
      }
      if (result.endCall) this.endCallRequested = { replied: Boolean(turn.reply) };
      await this.drainSpeech();
    } catch (err) {
      if (!isCancellation(err)) {
        log.warn('reply failed, apologising', { turnId: turn.id, error: (err as Error).message });
        if (!turn.cancelled && !this.callGone) this.sayLine(this.profile.apologyText, 'apology');
      }
    } finally {
      this.turn = undefined;
      if (this.phase === 'thinking') this.phase = 'listening';
      this.lastActivityAt = Math.max(this.lastActivityAt, Date.now());
    }
  }

  private sayLine(text: string, kind: NonNullable<ConversationMessage['kind']>): void {
    this.sayPart(this.conversation.agent(kind, Date.now()), text);
  }

  private sayPart(message: ConversationMessage, text: string, onSent?: () => void): void {
    this.speaking = message;
    this.speaker?.say(text, () => {
      appendSentence(message, text);
      onSent?.();
    });
  }

  private async drainSpeech(): Promise<void> {
    const speaker = this.speaker;
    if (speaker) await condition(() => !speaker.busy || this.callGone || this.pendingCaller > 0);
  }

  /** The agent ends the call: goodbye, let it play, hang up. */
  private async endCall(reason: EndReason): Promise<EndReason> {
    this.phase = 'ending';
    const speaker = this.speaker!;
    // The model's own farewell stands in for the goodbye when it said one.
    if (!(reason === 'agent-ended' && this.endCallRequested?.replied))
      this.sayLine(this.profile.goodbyeText, 'goodbye');
    await this.drainSpeech();
    const playLeft = Math.min(GOODBYE_PLAYBACK_CAP_MS, speaker.playbackEndsAt - Date.now());
    if (playLeft > 0) await condition(() => this.callGone, playLeft);
    if (!this.callGone) await this.hangup();
    return reason;
  }

  private async hangup(): Promise<void> {
    try {
      const { status } = await voipbin.hangupCall({ callId: this.input.callId });
      this.onEvent({ kind: 'call', eventType: 'hangup_response', callId: this.input.callId, status });
    } catch (err) {
      log.error('hangup failed', { error: (err as Error).message });
    }
  }

  private onCallGone(): void {
    this.turn?.scope.cancel();
    if (this.turn) this.turn.cancelled = true;
    this.speaker?.abandon();
  }

  private async finish(
    endReason: EndReason,
    sessions: { transcribeId?: string; speakingId?: string } = {},
  ): Promise<CallSummary> {
    this.phase = 'ended';
    // Stop both sessions even if this workflow is being cancelled.
    await CancellationScope.nonCancellable(async () => {
      const stops: Promise<void>[] = [];
      if (sessions.speakingId) stops.push(voipbin.stopSpeaking({ speakingId: sessions.speakingId }));
      if (sessions.transcribeId) stops.push(voipbin.stopTranscribe({ transcribeId: sessions.transcribeId }));
      for (const outcome of await Promise.allSettled(stops)) {
        if (outcome.status === 'rejected') log.warn('session stop failed', { error: String(outcome.reason) });
      }
    });
    return {
      ...this.view(),
      endReason,
      firstSentenceLatenciesMs: this.firstSentenceLatenciesMs,
      startedAt: this.startedAt,
      endedAt: Date.now(),
    };
  }
}
