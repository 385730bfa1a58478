import { placeCall } from './commands/call';
import { talk } from './commands/console';
import { exportHistory } from './commands/export';
import { inspect } from './commands/inspect';
import { ingress } from './commands/ingress';
import { replay } from './commands/replay';
import { serve } from './commands/serve';
import { simulate } from './commands/simulate';
import { UsageError } from './commands/usage';
import { worker } from './commands/worker';
import { ConfigError, loadConfig } from './config';
import { HistoryError } from './histories';
import { createLogger } from './logger';
import { AgentMetrics } from './metrics';
import { coreMetrics } from './runtime/core-metrics';
import { coreLevelOf, installRuntime } from './runtime/telemetry';

const USAGE = `usage: voipbin-agent <command> [arguments]

commands:
  serve     ingress + worker in one process; starts an embedded Temporal dev server
            unless TEMPORAL_ADDRESS is set, and the VoIPBIN simulator unless VOIPBIN_API_KEY is
  worker    run call workflows and activities (scale out: run several)
  ingress   receive VoIPBIN webhooks and signal the call workflows
  replay [--workflows <path>] <call-id | history.json> ...
            replay each call's history (every run, from Temporal) or history file against the
            workflow code this build runs, or the workflows module at <path> (a build about to be
            deployed); exits 1 if one does not replay
  call --to <number> [--from <number>] [--profile <name>] [--var name=value ...]
            place an outbound call and start the workflow that runs it (the workers and the
            ingress take it from there); the profile is that of the first "outbound" route for
            the number; prints the call id, its workflow id and its status
  inspect <call-id> [--json]
            the call as a timeline from its Temporal history (every run; live while it runs):
            what the caller and the agent said and when, barge-ins and what they cut, reprompts,
            each turn's latencies; --json prints it as one JSON document. The VoIPBIN call id or
            the workflow id
  console [--to <number>] [--from <number>]
            talk to the agent: you are the caller of one call on the built-in VoIPBIN simulator,
            with the fake model (or OPENAI_BASE_URL's) and the profile AGENT_CONFIG routes --to
            to; the agent's sentences print as they are said, typing while it speaks interrupts
            it, /hangup ends the call and prints its timeline
  simulate <scenario.yaml> ...
            run each scenario (a scripted caller and what the agent must say, in order, within
            what latency) against the agent on the built-in VoIPBIN simulator, with the fake model
            (or OPENAI_BASE_URL's); prints PASS or FAIL and each turn's latencies; exits 1 if one
            failed
  export <call-id> [--out <directory> | <file> | -]
            save the call's history as JSON, loadable by replay: <workflow id>-<run id>.json, one
            per run (a call that continued as new has several), in the current directory

configuration: environment variables (see README.md) and AGENT_CONFIG`;

/** Services run until stopped and take no arguments. */
const SERVICES = { serve, worker, ingress };
/** Tools take arguments, print their results and return an exit code. */
const TOOLS = { replay, export: exportHistory, call: placeCall, inspect, simulate, console: talk };

function usageError(message: string): number {
  process.stderr.write(`voipbin-agent: ${message}\n\n${USAGE}\n`);
  return 2;
}

async function runTool(tool: (typeof TOOLS)[keyof typeof TOOLS], args: string[]): Promise<number> {
  // A replay that fails is the answer, not a problem: Core's warning that it failed the task would
  // only repeat the result line.
  const format = process.env['LOG_FORMAT'] === 'json' ? 'json' : 'text';
  const runtime = installRuntime(createLogger({ level: 'warn', format }), { coreLevel: 'ERROR' });
  try {
    return await tool(args, (line) => process.stdout.write(line + '\n'));
  } catch (err) {
    if (err instanceof UsageError) return usageError(err.message);
    if (err instanceof ConfigError || err instanceof HistoryError) {
      process.stderr.write(`voipbin-agent: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    runtime.flushLogs();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE + '\n');
    return name ? 0 : 2;
  }
  if (Object.hasOwn(TOOLS, name)) return runTool(TOOLS[name as keyof typeof TOOLS], rest);
  if (!Object.hasOwn(SERVICES, name) || rest.length > 0) {
    return usageError(`unknown command or argument: ${argv.join(' ')}`);
  }
  const command = SERVICES[name as keyof typeof SERVICES];
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
  // One scrape: the agent's metrics, the process's, and the Temporal runtime's (src/metrics.ts).
  const metrics = new AgentMetrics({ processMetrics: true });
  const core = await coreMetrics();
  metrics.append(core.scrape);
  const runtime = installRuntime(log, { coreLevel: coreLevelOf(config.log.level), metrics: core.exporter });
  try {
    await command(config, log, metrics);
    return 0;
  } catch (err) {
    log.error(err instanceof ConfigError ? err.message : 'fatal error', { error: err as Error });
    return 1;
  } finally {
    // The forwarded lines wait up to 100 ms to be put in order: the last ones, before the exit.
    runtime.flushLogs();
  }
}
