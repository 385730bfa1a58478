import { requireToolEnvironment } from '../agent-tools';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { UsageError, parseCommandArgs } from './usage';

/**
 * `console [--to <number>] [--from <number>]`: the person at the terminal is the caller of one
 * call to the agent on the built-in VoIPBIN simulator. The sandbox is loaded here, never by
 * `worker` or `ingress`.
 */
export async function talk(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    to: { type: 'string' },
    from: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError('console takes no arguments but --to and --from');
  const config = loadConfig();
  requireToolEnvironment(config.agent.profiles, process.env);
  const log = createLogger({ ...config.log, level: process.env['LOG_LEVEL'] ? config.log.level : 'warn' });
  const { runConsole } = await import('../sandbox/console/session');
  return runConsole(config, log, { ...values, input: process.stdin, output: process.stdout });
}
