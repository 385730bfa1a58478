import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { ingress } from './commands/ingress';
import { serve } from './commands/serve';
import { worker } from './commands/worker';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';

const USAGE = `usage: voipbin-agent <command>

commands:
  serve     ingress + worker in one process; starts an embedded Temporal dev server
            unless TEMPORAL_ADDRESS is set, and the VoIPBIN simulator unless VOIPBIN_API_KEY is
  worker    run call workflows and activities (scale out: run several)
  ingress   receive VoIPBIN webhooks and signal the call workflows

configuration: environment variables (see README.md) and AGENT_CONFIG`;

const COMMANDS = { serve, worker, ingress };

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name as keyof typeof COMMANDS];
  if (!command || rest.length > 0) {
    process.stderr.write(`voipbin-agent: unknown command or argument: ${argv.join(' ')}\n\n${USAGE}\n`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`voipbin-agent: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const log = createLogger(config.log);
  Runtime.install({
    logger: {
      log: () => undefined,
      trace: () => undefined,
      debug: () => undefined,
      info: () => undefined,
      warn: (m, f) => log.warn(m, f),
      error: (m, f) => log.error(m, f),
    },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });
  try {
    await command(config, log);
    return 0;
  } catch (err) {
    log.error(err instanceof ConfigError ? err.message : 'fatal error', { error: err as Error });
    return 1;
  }
}
