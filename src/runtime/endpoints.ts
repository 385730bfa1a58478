// What `serve` talks to: VoIPBIN and the model from the settings, or, with no VOIPBIN_API_KEY, the
// built-in sandbox (the simulator, the fake model, the demo call), loaded only then.
import type { AppConfig } from '../config';
import type { Logger } from '../logger';
import type { Stack } from './lifecycle';
import { requireLlm } from './worker-runtime';

export interface Endpoints {
  voipbin: AppConfig['voipbin'] & { apiKey: string };
  openai: { baseUrl?: string; apiKey?: string };
  /** The ingress is listening (the sandbox points the simulator's webhooks at it, and dials). */
  ready(ingressPort: number): void;
}

/**
 * The real VoIPBIN and model when VOIPBIN_API_KEY is set (a model is then required); the sandbox
 * otherwise (src/sandbox/offline.ts). A process that never needs the sandbox never loads it.
 */
export async function serveEndpoints(config: AppConfig, log: Logger, stack: Stack): Promise<Endpoints> {
  const apiKey = config.voipbin.apiKey;
  if (apiKey) {
    requireLlm(config.openai);
    return { voipbin: { ...config.voipbin, apiKey }, openai: config.openai, ready: () => undefined };
  }
  const { startOffline } = await import('../sandbox/offline');
  return startOffline(config, log, stack);
}
