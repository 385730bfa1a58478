import { Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadTemporalConfig } from '../config';
import { fetchCallHistories, readHistoryFile, type RunHistory } from '../histories';
import { CALL_WORKFLOWS_PATH, callSinks } from '../worker';
import { UsageError, parseCommandArgs } from './usage';

/** An argument naming a history file, as `export` and `temporal workflow show --output json` write them. */
const isHistoryFile = (arg: string): boolean => arg.endsWith('.json');

/**
 * `replay`: each history against the workflow code a worker would run now (or `--workflows`, say a
 * build about to be deployed). A history that does not replay is a call in flight that the new
 * code would break.
 */
export async function replay(args: string[], print: (line: string) => void): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { workflows: { type: 'string' } });
  if (positionals.length === 0) throw new UsageError('replay needs a call id or a history file');
  const workflowsPath = values.workflows ? resolve(values.workflows) : CALL_WORKFLOWS_PATH;
  if (!existsSync(workflowsPath)) throw new UsageError(`--workflows: no such file: ${values.workflows}`);
  const calls = positionals.filter((arg) => !isHistoryFile(arg));
  const histories: RunHistory[] = [
    ...positionals.filter(isHistoryFile).map(readHistoryFile),
    ...(calls.length > 0 ? await fetchCallHistories(loadTemporalConfig(), calls) : []),
  ];
  const broken = new Set<string>();
  let failed = 0;
  const results = Worker.runReplayHistories(
    { workflowsPath, replayName: 'voipbin-agent-replay', sinks: callSinks() },
    histories.map(({ workflowId, history }) => ({ workflowId, history })),
  );
  let i = 0;
  // Results come one per history, in the order given.
  for await (const { error } of results) {
    const run = histories[i++]!;
    if (!error) {
      print(`ok    ${run.source}`);
      continue;
    }
    failed++;
    broken.add(run.workflowId);
    print(`FAIL  ${run.source}: ${reason(error)}`);
  }
  if (failed === 0) return 0;
  print(
    `${failed} of ${histories.length} histories do not replay against ${workflowsPath}: ${[...broken].join(', ')}`,
  );
  return 1;
}

/** Core's own words ("[TMPRL1100] Nondeterminism error: ..."), out of the SDK's paragraph around them. */
function reason(error: Error): string {
  const core = /message: "((?:[^"\\]|\\.)*)"/.exec(error.message)?.[1];
  return core ?? error.message.replace(/\s+/g, ' ');
}
