// The simulator's injected faults (scenario `faults:`): events dropped, duplicated, delayed; REST
// answered with an error or late, only where asked.
import { type Simulator, startSimulator } from '../../src/sandbox/simulator';
import { FaultPlan } from '../../src/sandbox/simulator/faults';
import { waitFor } from '../helpers/wait-for';

const KEY = 'faults-key';
let sim: Simulator;

beforeEach(async () => {
  sim = await startSimulator({ accessKey: KEY });
});
afterEach(() => sim.close());

const get = (path: string) => fetch(`${sim.baseUrl}${path}?accesskey=${KEY}`);
const post = (path: string, body: unknown) =>
  fetch(`${sim.baseUrl}${path}?accesskey=${KEY}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

/** The events the simulator sent out (no webhook URI: each is recorded as it goes). */
const sent = (type: string) => sim.webhooks.filter((w) => w.type === type).length;

it('answers matching REST requests with the injected status, in VoIPBIN error envelope, and no others', async () => {
  sim.setFaults({ rest: { errorRate: 1, status: 503, paths: '^/speakings' } });
  const refused = await post('/speakings', { reference_type: 'call', reference_id: 'x', language: 'en-US' });
  expect(refused.status).toBe(503);
  expect(await refused.json()).toMatchObject({ error: { status: 'UNAVAILABLE', reason: 'INJECTED_FAULT' } });
  expect(sim.requests.at(-1)).toMatchObject({ method: 'POST', path: '/speakings', status: 503 });
  expect((await get('/customer')).status).toBe(200);
  sim.setFaults(undefined);
  expect((await get('/speakings')).status).toBe(200);
});

it('answers REST requests late by latencyMs', async () => {
  sim.setFaults({ rest: { latencyMs: 300 } });
  const started = performance.now();
  expect((await get('/customer')).status).toBe(200);
  expect(performance.now() - started).toBeGreaterThanOrEqual(290);
});

it('drops the events of the types asked, duplicates and delays others', async () => {
  sim.setFaults({ events: { drop: 1, types: '^call_ringing$' } });
  const dropped = sim.startInboundCall({ from: '+15550000001', to: '+15550000002' });
  await waitFor(() => sent('call_progressing') === 1, 'the call answered');
  expect(sent('call_created')).toBe(1);
  expect(sent('call_ringing')).toBe(0);
  dropped.hangup();

  sim.setFaults({ events: { duplicate: 1, delayMs: 50 } });
  sim.startInboundCall({ from: '+15550000001', to: '+15550000002' });
  await waitFor(() => sent('call_progressing') === 3, 'the second call answered, twice');
  expect(sent('call_ringing')).toBe(2);
});

it('with transfers.keepCall, accepts a blind transfer and leaves the call up', async () => {
  const transfer = (callId: string) =>
    post('/transfers', {
      transfer_type: 'blind',
      transferer_call_id: callId,
      transferee_addresses: [{ type: 'tel', target: '+15550001111' }],
    });
  sim.setFaults({ transfers: { keepCall: true } });
  const kept = sim.startInboundCall({ from: '+15550000001', to: '+15550000002' });
  await waitFor(() => kept.status() === 'progressing', 'the call answered');
  expect((await transfer(kept.id)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 200));
  expect(kept.status()).toBe('progressing');
  expect(sent('call_hangup')).toBe(0);

  sim.setFaults(undefined);
  expect((await transfer(kept.id)).status).toBe(200);
  await waitFor(() => kept.status() === 'hangup', 'the transferred call hung up');
});

it('draws its chances from a seeded sequence: the same faults for the same seed', () => {
  const draws = (seed: number) => {
    const plan = new FaultPlan({ events: { drop: 0.5, duplicate: 0.5, delayMs: 100 }, seed });
    return Array.from({ length: 20 }, () => plan.event('transcript_created'));
  };
  expect(draws(7)).toEqual(draws(7));
  expect(draws(7)).not.toEqual(draws(8));
  const all = draws(7);
  // Some dropped, some doubled, all within the delay.
  expect(all.some((d) => d.length === 0)).toBe(true);
  expect(all.some((d) => d.length === 2)).toBe(true);
  expect(all.flat().every((ms) => ms >= 0 && ms < 100)).toBe(true);
});
