import type OpenAI from 'openai';
import type { AgentMetrics } from '../src/metrics';
import type { VoipbinClient } from '../src/voipbin/client';
import { createLlmActivities } from './llm-turn';
import { createToolActivities, type ToolActivityDeps } from './tools';
import type { TurnChannel } from './turn-channel';
import type { Activities } from './types';
import { createVoipbinActivities } from './voipbin';

export interface ActivityDeps {
  voipbin: VoipbinClient;
  openai: OpenAI;
  /** The LLM activity's line to its call's workflow. */
  channel: TurnChannel;
  /** The model's first-token time and errors, for `GET /metrics`. */
  metrics?: AgentMetrics;
  /** The HTTP tools' environment (`${VAR}`) and fetch; default the worker's. */
  tools?: ToolActivityDeps;
}

/** Every activity, from injected clients: the worker passes real ones, tests pass fakes. */
export function createActivities(deps: ActivityDeps): Activities {
  return {
    ...createVoipbinActivities(deps.voipbin),
    ...createLlmActivities(deps),
    ...createToolActivities(deps.tools),
  };
}

export type { Activities } from './types';
export { temporalTurnChannel, type TurnChannel } from './turn-channel';
