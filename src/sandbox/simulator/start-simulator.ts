import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomSecret } from './clock';
import { createSimApp } from './http-app';
import { address } from './resources';
import { SimCustomer } from './customer';
import { callRoutes } from './routes-calls';
import { speakingRoutes } from './routes-speakings';
import { transferRoutes } from './routes-transfers';
import { transcribeRoutes } from './routes-transcribes';
import { startSimCall } from './sim-call';
import type { DeliveredWebhook, RecordedRequest, SimCall, Simulator, SimulatorOptions } from './types';
import { FaultPlan, faultsSchema } from './faults';
import { WebhookDispatcher } from './webhook-dispatcher';
import { WS_PATH, WebSocketHub } from './websocket-hub';
import { World } from './world';

/** Starts the VoIPBIN simulator: REST under /v1.0, webhooks and the WebSocket feed out, scripted callers. */
export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const customerId = opts.customerId ?? randomUUID();
  const webhookSecret = opts.webhookSecret ?? randomSecret();
  const speechCharsPerSecond = opts.speechCharsPerSecond ?? 15;
  if (!(speechCharsPerSecond > 0)) throw new Error('speechCharsPerSecond must be positive');
  const requests: RecordedRequest[] = [];
  const webhooks: DeliveredWebhook[] = [];
  const calls = new Map<string, SimCall>();

  /** The faults in force (setFaults); none by default. */
  let faults: FaultPlan | undefined;
  const dispatcher = new WebhookDispatcher({
    getUri: () => customer.webhookUri || undefined,
    secret: webhookSecret,
    retryDelayMs: opts.webhookRetryDelayMs ?? 1000,
    record: (w) => webhooks.push(w),
    log: opts.log,
  });
  const hub = new WebSocketHub({
    accessKey: opts.accessKey,
    customerId,
    frames: opts.wsFrames ?? 'bare',
    log: opts.log,
  });
  const world = new World(
    {
      customerId,
      speechCharsPerSecond,
      echoAgentSpeech: opts.echoAgentSpeech ?? true,
      hangupDelayMs: opts.hangupDelayMs ?? 50,
      log: opts.log,
    },
    (type, data, callId) => {
      for (const delay of faults?.event(type) ?? [0]) {
        const deliver = () => {
          dispatcher.send(type, data, callId);
          hub.publish(type, data);
        };
        if (delay > 0) world.timers.after(delay, deliver);
        else deliver();
      }
    },
  );
  const created = world.now().text;
  const customer = new SimCustomer(customerId, webhookSecret, opts.webhookUri ?? '', created, created);

  const app = createSimApp({
    accessKey: opts.accessKey,
    log: opts.log,
    requests,
    faults: (path) => faults?.rest(path) ?? { delayMs: 0 },
    routes: [
      ...customer.routes(() => world.now().text),
      ...callRoutes(world, (source, destination) => {
        const sim = startSimCall(world, {
          direction: 'outgoing',
          source,
          destination,
          script: opts.outboundScript,
        });
        calls.set(sim.id, sim);
        const state = world.calls.get(sim.id);
        if (!state) throw new Error('call vanished');
        return state;
      }),
      ...speakingRoutes(world),
      ...transcribeRoutes(world),
      ...transferRoutes(world, () => faults?.transferKeepsCall ?? false),
    ],
  });

  const host = opts.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  hub.attach(server);
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  opts.log?.('simulator listening', { host, port });

  let closing: Promise<void> | undefined;
  return {
    baseUrl: `http://${urlHost}:${port}/v1.0`,
    port,
    accessKey: opts.accessKey,
    customer: { id: customerId, webhookSecret },
    requests,
    webhooks,
    calls,
    setWebhookUri: (uri) => {
      customer.webhookUri = uri;
    },
    setFaults: (f) => {
      faults = f ? new FaultPlan(faultsSchema.parse(f)) : undefined;
    },
    startInboundCall: ({ from, to, script }) => {
      const sim = startSimCall(world, {
        direction: 'incoming',
        source: address(from),
        destination: address(to),
        script,
      });
      calls.set(sim.id, sim);
      return sim;
    },
    webhooksIdle: () => dispatcher.idle(),
    wsUrl: `ws://${urlHost}:${port}${WS_PATH}`,
    socketAttempts: hub.attempts,
    socketSubscribes: hub.subscribes,
    refuseSockets: (refuse) => hub.refuse(refuse),
    openSockets: () => hub.openSockets(),
    close: () => {
      closing ??= (async () => {
        world.timers.close();
        hub.close();
        await dispatcher.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
