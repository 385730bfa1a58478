import { type Simulator, startSimulator } from '../../src/sandbox/simulator';
import {
  LOAD_AGENT_SAYS,
  LOAD_CALL_EVENTS,
  eventTypesOf,
  runInboundCallLoad,
} from '../helpers/simulator-load';
import { type WebhookReceiver, startWebhookReceiver } from '../helpers/webhook-receiver';

const CALLS = 100;

/**
 * Many concurrent scripted calls: every call completes, its events stay in order, nothing leaks a
 * warning. How long it takes is the `simulator-load` benchmark's business (`npm run bench`).
 */
describe('VoIPBIN simulator under load', () => {
  let receiver: WebhookReceiver;
  let sim: Simulator;
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);

  beforeAll(async () => {
    process.on('warning', onWarning);
    receiver = await startWebhookReceiver();
    sim = await startSimulator({
      accessKey: 'k',
      webhookUri: receiver.url,
      speechCharsPerSecond: 1000,
      webhookRetryDelayMs: 10,
    });
  });
  afterAll(async () => {
    await sim.close();
    await receiver.close();
    process.off('warning', onWarning);
  });

  it(`runs ${CALLS} calls at once, each to its end with its events in order`, async () => {
    const { calls } = await runInboundCallLoad(sim, CALLS);

    expect(calls).toHaveLength(CALLS);
    expect(new Set(calls.map((c) => c.call.id)).size).toBe(CALLS);
    for (const [i, load] of calls.entries()) {
      expect({ i, status: load.call.status() }).toEqual({ i, status: 'hangup' });
      expect({ i, events: eventTypesOf(receiver.received, load) }).toEqual({ i, events: LOAD_CALL_EVENTS });
      expect({ i, heard: load.call.heard() }).toEqual({ i, heard: [LOAD_AGENT_SAYS] });
      expect({ i, said: load.call.callerSaid() }).toEqual({ i, said: [`caller ${i}`] });
    }
    expect(receiver.received).toHaveLength(CALLS * LOAD_CALL_EVENTS.length);
    expect(warnings).toEqual([]);
  });
});
