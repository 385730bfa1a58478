// The phone numbers of the sandbox's simulated calls: who calls, and which number it dials.
import type { AgentConfig } from '../agent-config';

/** The simulated caller's number, unless a scenario or `console --from` gives one. */
export const SANDBOX_FROM = '+15550100001';
/** The number dialled when the agent config has no inbound route of its own number (only `*`). */
export const SANDBOX_TO = '+15550100000';

/** The number a simulated caller dials by default: the first inbound route's own number. */
export function sandboxDialled(agent: AgentConfig): string {
  return agent.routes.find((r) => r.to !== '*' && (r.direction ?? 'inbound') === 'inbound')?.to ?? SANDBOX_TO;
}
