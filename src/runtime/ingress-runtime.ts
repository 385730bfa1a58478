import type { Client } from '@temporalio/client';
import { callerSpokeHere } from '../../activities/turn-speech';
import { callWorkflowId } from '../../workflows/messages';
import type { AgentConfig } from '../agent-config';
import { socketUrlOf } from '../config';
import { ConfigError } from '../config-error';
import { createApp } from '../ingress/app';
import { temporalCallReads } from '../ingress/call-reads';
import { countRunningCalls, temporalCallWorkflows } from '../ingress/call-workflows';
import { EventRouter } from '../ingress/event-router';
import { EventSocket } from '../ingress/event-socket';
import { Counters } from '../ingress/metrics';
import { RefusedEvents } from '../ingress/refused-events';
import { lookupTranscribeCall } from '../ingress/transcribe-lookup';
import type { Logger } from '../logger';
import { AgentMetrics } from '../metrics';
import { VoipbinClient } from '../voipbin/client';
import type { SearchAttributeRegistry } from '../temporal/search-attributes';
import { listen } from './metrics-server';
import type { Customer } from '../voipbin/schemas';

export interface IngressRuntimeOptions {
  client: Client;
  taskQueue: string;
  agent: AgentConfig;
  voipbin: {
    baseUrl: string;
    apiKey: string;
    webhookSecret?: string;
    /** Default `both`: webhooks and the event WebSocket. */
    events?: 'websocket' | 'webhook' | 'both';
    /** Default: derived from the base URL. */
    wsUrl?: string;
    /** Accept unsigned webhooks when no secret is known. Default false: refused (401). */
    allowUnsigned?: boolean;
  };
  host: string;
  port: number;
  /** The calls' search attributes the namespace has. Default: none used. */
  searchAttributes?: SearchAttributeRegistry;
  /** ADMIN_TOKEN: the call pages' bearer token. Unset, they answer loopback clients only. */
  adminToken?: string;
  /** The Temporal UI's address: each call page links to its workflow there. */
  temporalUiUrl?: string;
  /** Served at `GET /metrics` (with the worker's, in `serve`). Default: the ingress's own. */
  metrics?: AgentMetrics;
  log: Logger;
}

export interface RunningIngress {
  port: number;
  counters: Counters;
  metrics: AgentMetrics;
  close: () => Promise<void>;
}

export const MAX_WEBHOOK_BYTES = 1024 * 1024;

export async function startIngress(opts: IngressRuntimeOptions): Promise<RunningIngress> {
  const { log } = opts;
  const voipbin = new VoipbinClient(opts.voipbin);
  const events = opts.voipbin.events ?? 'both';
  const webhooks = events !== 'websocket';
  const socket = events !== 'webhook';
  // VOIPBIN_WEBHOOK_SECRET, else the customer's own secret (needed at start); the socket needs
  // the customer's id, which it asks for itself, again until VoIPBIN answers.
  let customer: Promise<Customer> | undefined;
  const getCustomer = () =>
    (customer ??= voipbin.getCustomer().catch((err: unknown) => {
      customer = undefined;
      throw err;
    }));
  let secret = opts.voipbin.webhookSecret;
  if (webhooks && !secret) {
    try {
      secret = (await getCustomer()).webhook_secret || undefined;
    } catch (err) {
      throw new ConfigError(
        `VOIPBIN_WEBHOOK_SECRET is not set and GET /customer failed (${(err as Error).message}); set it to verify webhooks`,
      );
    }
  }
  const allowUnsigned = opts.voipbin.allowUnsigned ?? false;
  if (webhooks && !secret) {
    if (allowUnsigned)
      log.warn('no webhook secret: UNSIGNED webhooks are accepted (VOIPBIN_WEBHOOK_ALLOW_UNSIGNED=true)');
    else
      log.warn(
        'no webhook secret (VOIPBIN_WEBHOOK_SECRET, or the customer has none): every webhook is refused (401); events come by the WebSocket only',
      );
  }
  const counters = new Counters();
  const metrics = opts.metrics ?? new AgentMetrics();
  metrics.countActiveCalls(() => countRunningCalls(opts.client, opts.taskQueue));
  // Asked now, so that the first call's start does not wait for it.
  void opts.searchAttributes?.registered();
  const workflows = temporalCallWorkflows(opts.client, opts.taskQueue, {
    searchAttributes: opts.searchAttributes,
  });
  const refused = new RefusedEvents({ workflows, counters, log });
  const router = new EventRouter({
    workflows,
    agent: opts.agent,
    counters,
    metrics,
    log,
    lookupTranscribe: lookupTranscribeCall(voipbin),
    refused,
    // The speaking turns of this process (`serve`: the worker's) hear the caller at once; in an
    // ingress of its own there are none, and the workflows cut their turns.
    heardHere: (callId, heard) => callerSpokeHere(callWorkflowId(callId), heard),
  });
  const ready = async () => {
    await opts.client.withDeadline(Date.now() + 2000, () => opts.client.workflowService.getSystemInfo({}));
    return true;
  };
  const calls = temporalCallReads(opts.client, { taskQueue: opts.taskQueue, uiUrl: opts.temporalUiUrl });
  const app = createApp(
    {
      webhooks,
      webhookSecret: secret,
      allowUnsigned,
      maxBodyBytes: MAX_WEBHOOK_BYTES,
      adminToken: opts.adminToken,
    },
    { router, ready, counters, metrics, calls, log },
  );
  const server = await listen(app, opts.port, opts.host);
  const { port } = server;
  log.info('ingress listening', {
    host: opts.host,
    port,
    webhook: webhooks ? '/webhooks/voipbin' : 'off (VOIPBIN_EVENTS=websocket)',
    signed: webhooks ? Boolean(secret) : undefined,
    callPages: opts.adminToken ? 'ADMIN_TOKEN bearer' : 'loopback clients only (ADMIN_TOKEN unset)',
  });
  let eventSocket: EventSocket | undefined;
  if (socket) {
    eventSocket = new EventSocket({
      url: opts.voipbin.wsUrl ?? socketUrlOf(opts.voipbin.baseUrl),
      accessKey: opts.voipbin.apiKey,
      customerId: async () => (await getCustomer()).id,
      route: (event, path) => router.route(event, path),
      onReconnected: () => refused.requestSweep(),
      counters,
      metrics,
      log,
    });
    eventSocket.start();
  }
  // In the background, once listening: while this ingress was not running, VoIPBIN's retries may
  // have found no one, so every running call checks what it missed.
  refused.requestSweep();
  return {
    port,
    counters,
    metrics,
    close: async () => {
      try {
        await eventSocket?.close();
        await router.settled();
        await server.close();
      } finally {
        await refused.close();
      }
    },
  };
}
