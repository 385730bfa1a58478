import { type Simulator, startSimulator } from '../../src/simulator';
import { type WebhookReceiver, startWebhookReceiver } from '../helpers/webhook-receiver';
import { waitFor } from '../helpers/wait-for';

const KEY = 'k';
const CALLS = 100;

/** Many concurrent scripted calls: each call's events stay in order, nothing leaks a warning. */
describe('VoIPBIN simulator under load', () => {
  let receiver: WebhookReceiver;
  let sim: Simulator;
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);

  beforeAll(async () => {
    process.on('warning', onWarning);
    receiver = await startWebhookReceiver();
    sim = await startSimulator({
      accessKey: KEY,
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

  it(`runs ${CALLS} calls at once with per-call event order`, async () => {
    const calls = Array.from({ length: CALLS }, (_, i) =>
      sim.startInboundCall({
        from: `+1555000${i}`,
        to: '+15559999999',
        script: { steps: [{ say: `caller ${i}`, quietMs: 0 }, { hangup: true }] },
      }),
    );
    const post = async (path: string, body: unknown): Promise<string> => {
      const res = await fetch(`${sim.baseUrl}${path}?accesskey=${KEY}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBeLessThan(300);
      return ((await res.json()) as { id: string }).id;
    };
    const transcribeIds = await Promise.all(
      calls.map(async (call) => {
        await waitFor(() => call.status() === 'progressing', 'progressing', 5000);
        const ref = { reference_type: 'call', reference_id: call.id };
        const transcribeId = await post('/transcribes', { ...ref, language: 'en-US' });
        const speakingId = await post('/speakings', ref);
        await post(`/speakings/${speakingId}/say`, { text: 'hi' });
        return transcribeId;
      }),
    );
    await Promise.all(calls.map((c) => c.scriptDone));
    await sim.webhooksIdle();

    calls.forEach((call, i) => {
      const types = receiver.received
        .filter((h) => {
          const d = h.data as { id?: string; reference_id?: string; transcribe_id?: string };
          return d.id === call.id || d.reference_id === call.id || d.transcribe_id === transcribeIds[i];
        })
        .map((h) => h.type);
      expect(types).toEqual([
        'call_created',
        'call_ringing',
        'call_progressing',
        'transcribe_created',
        'transcribe_progressing',
        'transcript_created',
        'transcribe_speech_started',
        'transcribe_speech_interim',
        'transcribe_speech_ended',
        'transcript_created',
        'call_hangup',
        'transcribe_done',
      ]);
      expect(call.heard()).toEqual(['hi']);
    });
    expect(warnings).toEqual([]);
  });
});
