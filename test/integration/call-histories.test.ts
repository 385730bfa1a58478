// `replay` and `export` by call id against a real dev server, for a call whose workflow continued
// as new: every run is fetched, oldest first, and every run replays.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportHistory } from '../../src/commands/export';
import { replay } from '../../src/commands/replay';
import { HistoryError } from '../../src/histories';
import type { continuedWorkflow } from '../fixtures/continued-workflow';
import { localEnv } from '../helpers/temporal-env';

const WORKFLOWS = require.resolve('../fixtures/continued-workflow');
const callId = randomUUID();
const workflowId = `call-${callId}`;
let env: TestWorkflowEnvironment;
const runIds: string[] = [];
let firstRunId: string;
let tmp: string;
const savedAddress = process.env.TEMPORAL_ADDRESS;

async function command(
  fn: typeof replay | typeof exportHistory,
  args: string[],
): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await fn(args, (line) => lines.push(line));
  return { code, lines };
}

beforeAll(async () => {
  env = await localEnv();
  // The commands connect as the CLI does, from TEMPORAL_*.
  process.env.TEMPORAL_ADDRESS = env.address;
  tmp = mkdtempSync(join(tmpdir(), 'voipbin-agent-export-'));
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'histories',
    workflowsPath: WORKFLOWS,
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof continuedWorkflow>('continuedWorkflow', {
      workflowId,
      taskQueue: 'histories',
      args: [3],
    });
    await handle.result();
    // The runs, newest to oldest, by the run each one's start event continues (the commands list them).
    let runId: string | null | undefined = (await handle.describe()).runId;
    while (runId) {
      runIds.unshift(runId);
      const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    }
    firstRunId = handle.firstExecutionRunId;
  });
}, 90_000);

afterAll(async () => {
  if (savedAddress === undefined) delete process.env.TEMPORAL_ADDRESS;
  else process.env.TEMPORAL_ADDRESS = savedAddress;
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  await env?.teardown();
});

it('the call has three runs', () => {
  expect(new Set(runIds).size).toBe(3);
  expect(runIds[0]).toBe(firstRunId);
});

it('replay <call id> replays every run, oldest first', async () => {
  for (const id of [callId, workflowId]) {
    expect(await command(replay, ['--workflows', WORKFLOWS, id])).toEqual({
      code: 0,
      lines: runIds.map((runId) => `ok    ${workflowId} run ${runId}`),
    });
  }
}, 60_000);

it('export writes one file per run, each of which replay accepts', async () => {
  const files = runIds.map((runId) => join(tmp, `${workflowId}-${runId}.json`));
  expect(await command(exportHistory, [callId, '--out', tmp])).toEqual({ code: 0, lines: files });
  expect(readdirSync(tmp).sort()).toEqual(files.map((f) => f.slice(tmp.length + 1)).sort());
  expect(await command(replay, ['--workflows', WORKFLOWS, ...files])).toEqual({
    code: 0,
    lines: files.map((file) => `ok    ${file}`),
  });
}, 60_000);

it('export refuses to put several runs in one file', async () => {
  await expect(command(exportHistory, [callId, '--out', join(tmp, 'one.json')])).rejects.toThrow(
    new HistoryError(`call ${callId} has 3 runs (it continued as new): --out must be a directory`),
  );
});

it('an unknown call is an error naming it', async () => {
  await expect(command(replay, ['no-such-call'])).rejects.toThrow(
    new HistoryError('no call no-such-call: Temporal has no workflow call-no-such-call'),
  );
});
