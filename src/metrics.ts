import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** How an event reached the ingress. */
export type EventPath = 'webhook' | 'websocket';

/** Seconds: an event's acknowledgement is milliseconds when all is well, seconds when Temporal is slow. */
const ACK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Seconds: what the caller waits for, from their words to the agent's first sentence. */
const TURN_BUCKETS = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10];

/**
 * The agent's own Prometheus metrics (`GET /metrics`), one registry per process part. Names start
 * with `voipbin_agent_`; the Temporal SDK's worker metrics (`temporal_*`) are appended to the same
 * scrape by `scrape()` when the runtime exports them (src/runtime/core-metrics.ts).
 */
export class AgentMetrics {
  readonly registry = new Registry();

  // Ingress: what came in and what became of it.
  readonly events = new Counter({
    name: 'voipbin_agent_events_total',
    help: 'VoIPBIN events taken in, by type, path (webhook or websocket) and outcome',
    labelNames: ['type', 'path', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly webhookResponses = new Counter({
    name: 'voipbin_agent_webhook_responses_total',
    help: 'Webhook requests answered, by HTTP status (401 signature, 400 shape, 503 Temporal down, ...)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly ackSeconds = new Histogram({
    name: 'voipbin_agent_event_ack_seconds',
    help: 'Event received to handed over (signal accepted by Temporal, or found needless), by path',
    labelNames: ['path'] as const,
    buckets: ACK_BUCKETS,
    registers: [this.registry],
  });
  readonly signalFailures = new Counter({
    name: 'voipbin_agent_signal_failures_total',
    help: 'Signals to call workflows that Temporal did not take, by reason (unavailable, error)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly speechSignals = new Counter({
    name: 'voipbin_agent_speech_signals_total',
    help: "The caller's speech before the final, handed to the call (early barge-in), by outcome (delivered, superseded by its final, dropped, ...)",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly socketConnected = new Gauge({
    name: 'voipbin_agent_socket_connected',
    help: '1 while the event WebSocket is connected and subscribed, else 0',
    registers: [this.registry],
  });
  readonly socketConnects = new Counter({
    name: 'voipbin_agent_socket_connects_total',
    help: 'Event WebSocket connections made, by kind (first, or reconnect after a drop or a refusal)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly socketDrops = new Counter({
    name: 'voipbin_agent_socket_drops_total',
    help: 'Event WebSocket connections lost or refused',
    registers: [this.registry],
  });
  readonly socketFrames = new Counter({
    name: 'voipbin_agent_socket_frames_total',
    help: 'Event WebSocket frames, by result (event, or rejected: not JSON or not an event)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  // Worker: the calls it runs (reported by the call workflows through a sink, never on replay).
  readonly callsStarted = new Counter({
    name: 'voipbin_agent_calls_started_total',
    help: 'Calls whose workflow began on this worker',
    registers: [this.registry],
  });
  readonly callsEnded = new Counter({
    name: 'voipbin_agent_calls_ended_total',
    help: 'Calls whose workflow ended on this worker, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly turns = new Counter({
    name: 'voipbin_agent_turns_total',
    help: 'LLM turns, by outcome (completed, cancelled by a barge-in, failed: the caller heard the apology)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly firstSentenceSeconds = new Histogram({
    name: 'voipbin_agent_turn_first_sentence_seconds',
    help: "Caller's final transcript to the reply's first sentence sent to /say (workflow time)",
    buckets: TURN_BUCKETS,
    registers: [this.registry],
  });
  readonly bargeIns = new Counter({
    name: 'voipbin_agent_barge_ins_total',
    help: 'Times the caller talked over the agent and its speech was flushed',
    registers: [this.registry],
  });
  readonly reprompts = new Counter({
    name: 'voipbin_agent_reprompts_total',
    help: 'Silence reprompts said',
    registers: [this.registry],
  });
  readonly modelErrors = new Counter({
    name: 'voipbin_agent_model_errors_total',
    help: 'LLM requests that failed, by kind (stall: no token in time; error: the request failed)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly modelFirstTokenSeconds = new Histogram({
    name: 'voipbin_agent_model_first_token_seconds',
    help: "LLM request sent to the reply's first token",
    buckets: TURN_BUCKETS,
    registers: [this.registry],
  });

  private readonly extra: Array<() => Promise<string>> = [];

  constructor(opts: { processMetrics?: boolean } = {}) {
    // Node's own (CPU, memory, event loop lag): once per process, in the registry that serves it.
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Calls running now, cluster-wide, asked of Temporal at each scrape (so every instance reports the
   * same figure: take one, not the sum). A failed count leaves the gauge out of that scrape.
   */
  countActiveCalls(count: () => Promise<number>): void {
    const name = 'voipbin_agent_active_calls';
    // `serve` runs the ingress and the worker on one registry: the first to ask counts.
    if (this.registry.getSingleMetric(name)) return;
    new Gauge({
      name,
      help: 'Call workflows running on this task queue (all instances: the same figure on each)',
      registers: [this.registry],
      async collect() {
        // Unknown (Temporal did not answer) is NaN, never a stale or made-up figure.
        this.set(await count().catch(() => Number.NaN));
      },
    });
  }

  /** More exposition text, appended to each scrape: the Temporal runtime's metrics. */
  append(source: () => Promise<string>): void {
    this.extra.push(source);
  }

  /** The whole scrape, in the Prometheus text format. */
  async scrape(): Promise<string> {
    const own = await this.registry.metrics();
    const more = await Promise.all(this.extra.map((source) => source().catch(() => '')));
    return [own, ...more].filter((text) => text.trim()).join('\n');
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
