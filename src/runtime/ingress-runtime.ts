import type { Client } from '@temporalio/client';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentConfig } from '../agent-config';
import { ConfigError } from '../config-error';
import { createApp } from '../ingress/app';
import { temporalCallWorkflows } from '../ingress/call-workflows';
import { EventRouter } from '../ingress/event-router';
import { Counters } from '../ingress/metrics';
import { RefusedEvents } from '../ingress/refused-events';
import { lookupTranscribeCall } from '../ingress/transcribe-lookup';
import type { Logger } from '../logger';
import { VoipbinClient } from '../voipbin/client';

export interface IngressRuntimeOptions {
  client: Client;
  taskQueue: string;
  agent: AgentConfig;
  voipbin: { baseUrl: string; apiKey: string; webhookSecret?: string };
  host: string;
  port: number;
  log: Logger;
}

export interface RunningIngress {
  port: number;
  counters: Counters;
  close: () => Promise<void>;
}

export const MAX_WEBHOOK_BYTES = 1024 * 1024;

/** VOIPBIN_WEBHOOK_SECRET, else the customer's own secret from `GET /customer`. */
async function webhookSecret(
  voipbin: VoipbinClient,
  configured: string | undefined,
): Promise<string | undefined> {
  if (configured) return configured;
  try {
    return (await voipbin.getCustomer()).webhook_secret || undefined;
  } catch (err) {
    throw new ConfigError(
      `VOIPBIN_WEBHOOK_SECRET is not set and GET /customer failed (${(err as Error).message}); set it to verify webhooks`,
    );
  }
}

export async function startIngress(opts: IngressRuntimeOptions): Promise<RunningIngress> {
  const { log } = opts;
  const voipbin = new VoipbinClient(opts.voipbin);
  const secret = await webhookSecret(voipbin, opts.voipbin.webhookSecret);
  if (!secret) log.warn('no webhook secret: webhooks are accepted unsigned');
  const counters = new Counters();
  const workflows = temporalCallWorkflows(opts.client, opts.taskQueue);
  const refused = new RefusedEvents({ workflows, counters, log });
  const router = new EventRouter({
    workflows,
    agent: opts.agent,
    counters,
    log,
    lookupTranscribe: lookupTranscribeCall(voipbin),
    refused,
  });
  const ready = async () => {
    await opts.client.withDeadline(Date.now() + 2000, () => opts.client.workflowService.getSystemInfo({}));
    return true;
  };
  const app = createApp(
    { webhookSecret: secret, maxBodyBytes: MAX_WEBHOOK_BYTES },
    { router, ready, counters, log },
  );
  const server: Server = app.listen(opts.port, opts.host);
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  log.info('ingress listening', {
    host: opts.host,
    port,
    webhook: '/webhooks/voipbin',
    signed: Boolean(secret),
  });
  // In the background, once listening: while this ingress was not running, VoIPBIN's retries may
  // have found no one, so every running call checks what it missed.
  refused.requestSweep();
  return {
    port,
    counters,
    close: async () => {
      try {
        await new Promise<void>((resolve, reject) => {
          server.close((err) => (err ? reject(err) : resolve()));
          server.closeAllConnections();
        });
      } finally {
        await refused.close();
      }
    },
  };
}
