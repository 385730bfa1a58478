import type { AgentConfig } from '../agent-config';
import type { Logger } from '../logger';
import { SANDBOX_FROM, sandboxDialled } from './numbers';
import type { CallerScript, SimCall, Simulator } from './simulator';

const DEMO_SCRIPT: CallerScript = {
  steps: [
    { say: 'Hi, I would like to check the balance on my account.' },
    { say: 'Thanks. And what are your opening hours?' },
    { say: "That's all I needed, goodbye." },
  ],
};

/** Prints what the demo caller and the agent say, as the simulator plays it. */
function narrate(call: SimCall, write: (line: string) => void): () => void {
  let heard = 0;
  let said = 0;
  const timer = setInterval(() => {
    for (const text of call.callerSaid().slice(said)) write(`  caller: ${text}`);
    for (const text of call.heard().slice(heard)) write(`  agent:  ${text}`);
    said = call.callerSaid().length;
    heard = call.heard().length;
  }, 50);
  return () => clearInterval(timer);
}

/** The offline quick start: one scripted inbound call through the whole agent. */
export async function runDemoCall(
  simulator: Simulator,
  log: Logger,
  agent: AgentConfig,
  write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
): Promise<void> {
  const to = sandboxDialled(agent);
  write(`\n[demo] a simulated caller is dialling ${to}; the conversation follows.\n`);
  const call = simulator.startInboundCall({ from: SANDBOX_FROM, to, script: DEMO_SCRIPT });
  const stop = narrate(call, write);
  try {
    await call.ended;
    await new Promise((r) => setTimeout(r, 100));
  } catch (err) {
    log.warn('demo call failed', { error: err as Error });
  } finally {
    stop();
  }
  write(
    `\n[demo] call ${call.id} ended (${call.status()}). Its history is in the Temporal UI as call-${call.id}.`,
  );
  write('[demo] the agent keeps running; press Ctrl+C to stop.\n');
}
