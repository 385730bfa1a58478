/**
 * Public types of the VoIPBIN simulator: a local HTTP server that behaves like the real VoIPBIN
 * REST API (shapes and status codes per shared/voipbin/API-NOTES.md), delivers events as signed
 * webhooks, and plays scripted callers.
 */

import type { SimulatorFaults } from './faults';

export type { SimulatorFaults } from './faults';

export type SimLog = (msg: string, fields?: Record<string, unknown>) => void;

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (a random free port). */
  port?: number;
  /** Every REST request must carry ?accesskey=<this> (or cookie `accesskey`). */
  accessKey: string;
  /** Default: a random uuid. */
  customerId?: string;
  /** Where events are POSTed; may be set later with setWebhookUri. */
  webhookUri?: string;
  /** Default: 32 random characters. '' means the customer has no secret: webhooks go unsigned. */
  webhookSecret?: string;
  /** Delay between webhook attempts (VoIPBIN: 3 attempts, 1 s apart). Default 1000. */
  webhookRetryDelayMs?: number;
  /** Simulated TTS playback speed. Default 15 chars/s. */
  speechCharsPerSecond?: number;
  /** Default true: a said sentence that finished playing comes back as a transcript_created 'out'. */
  echoAgentSpeech?: boolean;
  /** After POST /calls/{id}/hangup: terminating at once, hangup after this. Default 50. */
  hangupDelayMs?: number;
  /** What the callee of an outbound call (POST /calls) does. Default: says nothing, never hangs up. */
  outboundScript?: CallerScript;
  /** The shape of WebSocket event frames. Default 'bare', as VoIPBIN sends at HEAD. */
  wsFrames?: WsFrames;
  log?: SimLog;
}

/**
 * 'bare': the resource object alone, nothing names the event type (VoIPBIN since the 2026-08
 * cutover). 'wrapped': the webhook body `{"type","data"}`, as the docs still describe (API-NOTES §6).
 */
export type WsFrames = 'bare' | 'wrapped';

export interface RecordedRequest {
  method: string;
  /** Without the /v1.0 prefix and without the query, e.g. /speakings/<id>/say. */
  path: string;
  /** The query parameters, accesskey removed. */
  query: Record<string, string>;
  /** The parsed JSON body; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  status: number;
  /** performance.now() when the request arrived. */
  at: number;
}

export interface DeliveredWebhook {
  type: string;
  /** The exact bytes sent. */
  body: string;
  /** 0 when no webhook uri was set (the event was not delivered). */
  attempts: number;
  finalStatus: number | 'error';
  /** performance.now() when the event was emitted. */
  at: number;
  /** performance.now() when its last attempt was sent, and when that attempt was answered. */
  sentAt?: number;
  answeredAt?: number;
}

export interface SocketAttempt {
  /** performance.now() when the upgrade request arrived. */
  at: number;
  /** False when it was answered with an HTTP error instead (401, 404, 503). */
  accepted: boolean;
}

export interface SocketSubscribe {
  /** performance.now() when the frame arrived. */
  at: number;
  topics: string[];
}

export type CallerStep =
  | {
      say: string;
      /** Default true: wait until the agent has said something new and finished playing, then quietMs. */
      waitForAgent?: boolean;
      /** Default 200. */
      quietMs?: number;
      /** Extra delay before speaking (after any waiting). */
      afterMs?: number;
      /**
       * Barge-in: wait until the agent starts playing something new (since the caller last spoke),
       * then afterMs, then speak over it. Takes precedence over waitForAgent.
       */
      duringAgentSpeech?: boolean;
      /**
       * How long the caller takes to say it. Default 0: the speech events and the final transcript
       * all at once. Else `transcribe_speech_started` at once, an interim with one more word at
       * each even step, then `_ended` and the final at the end, as a real speech-to-text sends them.
       */
      speakingMs?: number;
    }
  | { pause: number }
  | { hangup: true; afterMs?: number }
  | { waitForAgent: true; quietMs?: number };

export interface CallerScript {
  steps: CallerStep[];
  /** ringing → progressing after this. Default 20. */
  answerAfterMs?: number;
}

/**
 * What the caller's phone plays: a text starting to play, or a `/flush`, with the text it cut off
 * mid-play (if one was playing) and those it dropped before they played.
 */
export type PlaybackEvent =
  { kind: 'playing'; text: string } | { kind: 'flushed'; interrupted?: string; unplayed: string[] };

export interface SimCall {
  id: string;
  from: string;
  to: string;
  status(): string;
  /** Every text the agent POSTed to /say for this call, in order. */
  agentSaid(): string[];
  /** The texts that were actually played to the caller (flush drops queued and unplayed ones). */
  heard(): string[];
  callerSaid(): string[];
  /** Emit caller speech now (speech events + transcript_created 'in'). */
  speak(text: string): void;
  /** The caller hangs up now. */
  hangup(): void;
  /** Something is playing or queued to play. */
  agentSpeaking(): boolean;
  /** Hears each text as it starts playing and each `/flush` (not a session's stop); returns the unsubscribe. */
  onPlayback(listener: (event: PlaybackEvent) => void): () => void;
  /**
   * Resolves once the agent has finished playing something said since the caller last spoke and
   * stayed quiet `quietMs` (default 200), or the call ended: a scripted caller's turn to speak.
   */
  agentDone(quietMs?: number): Promise<void>;
  /** Resolves when the call reaches hangup. */
  ended: Promise<void>;
  /** Resolves when the script ran to its end, or stopped early because the call ended. */
  scriptDone: Promise<void>;
}

export interface Simulator {
  /** E.g. http://127.0.0.1:PORT/v1.0 (what the agent uses as VOIPBIN_BASE_URL). */
  baseUrl: string;
  port: number;
  accessKey: string;
  customer: { id: string; webhookSecret: string };
  /** Every REST request, in order of arrival. */
  requests: RecordedRequest[];
  /** Every event, once its delivery finished (in order per call). */
  webhooks: DeliveredWebhook[];
  setWebhookUri(uri: string): void;
  /** Faults injected from now on (events dropped, duplicated, delayed; REST errors and latency); undefined: none. */
  setFaults(faults: SimulatorFaults | undefined): void;
  startInboundCall(opts: { from: string; to: string; script?: CallerScript }): SimCall;
  calls: Map<string, SimCall>;
  /** Resolves when no webhook delivery is queued or in flight. */
  webhooksIdle(): Promise<void>;
  /** E.g. ws://127.0.0.1:PORT/v1.0/ws, the event feed; the client adds ?accesskey=. */
  wsUrl: string;
  /** Every WebSocket upgrade attempt, in order of arrival. */
  socketAttempts: SocketAttempt[];
  /** Every valid subscribe frame, in order of arrival (there is no ack to wait for). */
  socketSubscribes: SocketSubscribe[];
  /**
   * While true, every upgrade is answered 503 (an outage of the feed). Setting true also closes
   * every open socket at once (1012, service restart).
   */
  refuseSockets(refuse: boolean): void;
  /** How many sockets are open now. */
  openSockets(): number;
  /** Stops timers, pending webhook deliveries, open sockets and the server. */
  close(): Promise<void>;
}
