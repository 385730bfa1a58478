import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTemporalConfig } from '../config';
import { HistoryError, fetchCallHistories } from '../histories';
import { UsageError, parseCommandArgs } from './usage';

/**
 * `export`: the call's history as JSON, for `replay` and test/replay/histories. One file per run,
 * `<workflow id>-<run id>.json` (a call that continued as new has several), in the current
 * directory or the `--out` directory; `--out <file>` or `-` (stdout) for a call with one run.
 */
export async function exportHistory(args: string[], print: (line: string) => void): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { out: { type: 'string' } });
  const [callId, ...extra] = positionals;
  if (!callId || extra.length > 0) throw new UsageError('export takes one call id');
  const out = values.out ?? '.';
  const dir = out !== '-' && statSync(out, { throwIfNoEntry: false })?.isDirectory();
  const runs = await fetchCallHistories(loadTemporalConfig(), [callId]);
  if (!dir && runs.length > 1) {
    throw new HistoryError(
      `call ${callId} has ${runs.length} runs (it continued as new): --out must be a directory`,
    );
  }
  if (out === '-') {
    print(historyToJSON(runs[0]!.history));
    return 0;
  }
  for (const run of runs) {
    const file = dir ? join(out, `${run.workflowId}-${run.runId}.json`) : out;
    try {
      writeFileSync(file, historyToJSON(run.history) + '\n');
    } catch (err) {
      throw new HistoryError(`cannot write ${file}: ${(err as Error).message}`);
    }
    print(file);
  }
  return 0;
}
