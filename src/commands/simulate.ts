import { requireToolEnvironment } from '../agent-tools';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { UsageError, parseCommandArgs } from './usage';

/**
 * `simulate <scenario.yaml ...>`: each scenario's scripted caller against the agent on the built-in
 * VoIPBIN simulator; PASS or FAIL for each, with its turns' latencies; exit 1 if one failed. The
 * sandbox is loaded here, never by `worker` or `ingress`.
 */
export async function simulate(args: string[], print: (line: string) => void): Promise<number> {
  const { positionals } = parseCommandArgs(args, {});
  if (positionals.length === 0) throw new UsageError('simulate needs one or more scenario files');
  const { readScenario } = await import('../sandbox/scenario');
  // Every file is read first: a mistake in the last one stops the run before any call.
  const scenarios = positionals.map(readScenario);
  const config = loadConfig();
  requireToolEnvironment(config.agent.profiles, process.env);
  const log = createLogger({ ...config.log, level: process.env['LOG_LEVEL'] ? config.log.level : 'warn' });
  const { runScenarios, formatOutcome } = await import('../sandbox/simulate');
  const outcomes = await runScenarios(scenarios, config, log, (o) => {
    for (const line of formatOutcome(o)) print(line);
  });
  const failed = outcomes.filter((o) => !o.ok).length;
  print(`${outcomes.length - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}
