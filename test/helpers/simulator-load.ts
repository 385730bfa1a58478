import { performance } from 'node:perf_hooks';
import type { SimCall, Simulator } from '../../src/sandbox/simulator';
import { waitFor } from './wait-for';
import type { ReceivedWebhook } from './webhook-receiver';

/**
 * Many concurrent scripted inbound calls through the simulator, each answered as the agent would:
 * a transcribe session, a speaking session and one `/say`. The unit test asserts what every call
 * did; the `simulator-load` benchmark times the same run.
 */

/** The webhooks each call of the load produces, in order. */
export const LOAD_CALL_EVENTS = [
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
] as const;

/** What the agent says on each call of the load, and so what each caller hears. */
export const LOAD_AGENT_SAYS = 'hi';

export interface LoadCall {
  call: SimCall;
  transcribeId: string;
  /** performance.now() marks: the call started, was answered, and its script ran to the end. */
  startedAt: number;
  progressingAt: number;
  doneAt: number;
}

export interface LoadRun {
  calls: LoadCall[];
  startedAt: number;
  /** When every call had run its script and every webhook had been delivered. */
  idleAt: number;
}

/**
 * Runs `count` calls at once and resolves when every script ran and every webhook was delivered.
 * `hangGuardMs` only turns a stuck call into an error instead of a hang: it bounds nothing else.
 */
export async function runInboundCallLoad(
  sim: Simulator,
  count: number,
  hangGuardMs = 60_000,
): Promise<LoadRun> {
  const post = async (path: string, body: unknown): Promise<string> => {
    const res = await fetch(`${sim.baseUrl}${path}?accesskey=${sim.accessKey}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`POST ${path} answered ${res.status}`);
    return ((await res.json()) as { id: string }).id;
  };
  const startedAt = performance.now();
  const calls = await Promise.all(
    Array.from({ length: count }, async (_, i): Promise<LoadCall> => {
      const callStartedAt = performance.now();
      const call = sim.startInboundCall({
        from: `+1555000${i}`,
        to: '+15559999999',
        script: { steps: [{ say: `caller ${i}`, quietMs: 0 }, { hangup: true }] },
      });
      await waitFor(() => call.status() === 'progressing', `call ${i} progressing`, hangGuardMs);
      const progressingAt = performance.now();
      const ref = { reference_type: 'call', reference_id: call.id };
      const transcribeId = await post('/transcribes', { ...ref, language: 'en-US' });
      const speakingId = await post('/speakings', ref);
      await post(`/speakings/${speakingId}/say`, { text: LOAD_AGENT_SAYS });
      await call.scriptDone;
      return { call, transcribeId, startedAt: callStartedAt, progressingAt, doneAt: performance.now() };
    }),
  );
  await sim.webhooksIdle();
  return { calls, startedAt, idleAt: performance.now() };
}

/** The types of the webhooks that concern one call of the load, in the order they arrived. */
export function eventTypesOf(received: readonly ReceivedWebhook[], load: LoadCall): string[] {
  return received
    .filter((hook) => {
      const d = hook.data as { id?: string; reference_id?: string; transcribe_id?: string };
      return (
        d.id === load.call.id || d.reference_id === load.call.id || d.transcribe_id === load.transcribeId
      );
    })
    .map((hook) => hook.type);
}
