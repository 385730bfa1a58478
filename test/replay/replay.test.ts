// Calls in flight replay the workflow code a worker runs: every committed history (recorded from real
// calls by test/replay/record.ts) must replay against today's workflows/, and a change to the
// workflow's commands must be caught.
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { callSinks } from '../../src/worker';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflows } from '../helpers/temporal-env';

const DIR = join(__dirname, 'histories');
const HISTORIES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const history = (file: string): unknown => JSON.parse(readFileSync(join(DIR, file), 'utf8'));

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
}, 60_000);

it('has the histories of the paths a call can take', () => {
  expect(HISTORIES).toEqual([
    'barge-in-and-end-call.json',
    'continue-as-new-1.json',
    'continue-as-new-2.json',
    'continue-as-new-3.json',
    'failover-continued-reply.json',
    'outage-reconciled.json',
    'silence-reprompt-goodbye.json',
    'speaking-session-gone.json',
  ]);
});

it.each(HISTORIES)('%s replays against the current workflow', async (file) => {
  await Worker.runReplayHistory(
    { workflowBundle: bundle, replayName: file, sinks: callSinks() },
    history(file),
  );
});

it('a workflow that issues one more command is caught by every history', async () => {
  const changed = await bundleWorkflows(require.resolve('./changed-workflow'));
  for (const file of HISTORIES) {
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: changed, replayName: file, sinks: callSinks() },
        history(file),
      ),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  }
}, 60_000);
