import type OpenAI from 'openai';
import type { VoipbinClient } from '../src/voipbin/client';
import { createLlmActivities, type SentenceSink } from './llm-turn';
import type { Activities } from './types';
import { createVoipbinActivities } from './voipbin';

export interface ActivityDeps {
  voipbin: VoipbinClient;
  openai: OpenAI;
  sendSentence: SentenceSink;
}

/** Every activity, from injected clients: the worker passes real ones, tests pass fakes. */
export function createActivities(deps: ActivityDeps): Activities {
  return { ...createVoipbinActivities(deps.voipbin), ...createLlmActivities(deps) };
}

export type { Activities } from './types';
