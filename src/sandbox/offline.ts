import { socketUrlOf, type AppConfig } from '../config';
import { startFakeLlm } from './fake-llm/server';
import type { Logger } from '../logger';
import { startSimulator } from './simulator';
import { runDemoCall } from './demo-call';
import type { Stack } from '../runtime/lifecycle';
import type { Endpoints } from '../runtime/endpoints';

/** The model of OPENAI_*, else the built-in fake LLM (stopped with `stack`), streaming like a real one. */
export async function modelOf(config: AppConfig, log: Logger, stack: Stack): Promise<Endpoints['openai']> {
  const { openai } = config;
  if (openai.apiKey || openai.baseUrl) return openai;
  const fake = await startFakeLlm({ firstTokenDelayMs: 150, chunkDelayMs: 20 });
  stack.add('fake LLM', () => fake.close());
  log.info('no OpenAI settings: using the built-in fake LLM', { baseUrl: fake.baseUrl });
  return { baseUrl: fake.baseUrl, apiKey: 'fake' };
}

/**
 * With no VOIPBIN_API_KEY, `serve` runs against the built-in VoIPBIN simulator with a demo caller
 * (runtime/endpoints.ts); with no OpenAI settings either, against the built-in fake LLM. No keys,
 * no network.
 */
export async function startOffline(config: AppConfig, log: Logger, stack: Stack): Promise<Endpoints> {
  const openai = await modelOf(config, log, stack);
  const simulator = await startSimulator({ accessKey: 'simulator-key' });
  stack.add('VoIPBIN simulator', () => simulator.close());
  log.info('no VOIPBIN_API_KEY: running against the built-in VoIPBIN simulator', {
    baseUrl: simulator.baseUrl,
  });
  return {
    voipbin: {
      baseUrl: simulator.baseUrl,
      apiKey: simulator.accessKey,
      webhookSecret: simulator.customer.webhookSecret || undefined,
      allowUnsigned: config.voipbin.allowUnsigned,
      events: config.voipbin.events,
      wsUrl: socketUrlOf(simulator.baseUrl),
    },
    openai,
    ready: (port) => {
      // With VOIPBIN_EVENTS=websocket the simulator has no webhook to call, as VoIPBIN has none
      // for an agent on a laptop: its events reach the agent by the WebSocket alone.
      if (config.voipbin.events !== 'websocket')
        simulator.setWebhookUri(`http://127.0.0.1:${port}/webhooks/voipbin`);
      void runDemoCall(simulator, log, config.agent);
    },
  };
}
