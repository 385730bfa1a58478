// `voipbin-agent replay` and `export` as an operator runs them before a deploy: on the Temporal
// server the agent runs on, for a call `serve` handled (its demo call, on the built-in simulator).
import { Client, Connection } from '@temporalio/client';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callWorkflowId } from '../../workflows/messages';
import { AgentProcess, freePort } from '../helpers/cli';
import { TemporalServer } from '../helpers/temporal-server';

const CHANGED = join(__dirname, '..', 'replay', 'changed-workflow.ts');
let temporal: TemporalServer;
let dir: string;
let callId: string;
let workflowId: string;
let runId: string;

/** A command run to its end: its exit code and what it printed (stdout and stderr). */
async function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const p = new AgentProcess(args, env, dir);
  const code = await p.exited();
  return { code, output: p.output };
}

beforeAll(async () => {
  temporal = await TemporalServer.start();
  dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-replay-cli-'));
  // No VoIPBIN key: serve places its demo call on the built-in simulator and prints its id.
  const serve = new AgentProcess(
    ['serve'],
    { TEMPORAL_ADDRESS: temporal.address, PORT: String(await freePort()), HOST: '127.0.0.1' },
    dir,
  );
  try {
    await serve.waitOutput(' ended (', 60_000);
    callId = /\[demo\] call (\S+) ended/.exec(serve.output)![1]!;
    workflowId = callWorkflowId(callId);
    const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    try {
      // The caller has hung up; the workflow completes once both sessions are stopped.
      const handle = client.workflow.getHandle(workflowId);
      await handle.result();
      runId = (await handle.describe()).runId;
    } finally {
      await client.connection.close();
    }
  } finally {
    serve.kill('SIGTERM');
    await serve.exited();
  }
}, 90_000);

afterAll(async () => {
  await temporal?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('replay <call id> replays the call against the workflows serve ran: exit 0', async () => {
  for (const id of [callId, workflowId]) {
    expect(await cli(['replay', id], { TEMPORAL_ADDRESS: temporal.address })).toEqual({
      code: 0,
      output: `ok    ${workflowId} run ${runId}\n`,
    });
  }
}, 30_000);

it('export <call id> writes a file that replay accepts with no server and no settings', async () => {
  // TEMPORAL_ADDRESS unset: the local dev server on TEMPORAL_DEV_PORT, as beside a running `serve`.
  const file = `${workflowId}-${runId}.json`;
  expect(await cli(['export', callId], { TEMPORAL_DEV_PORT: String(temporal.port) })).toEqual({
    code: 0,
    output: `${file}\n`,
  });
  expect(existsSync(join(dir, file))).toBe(true);
  // Settings `serve` would refuse to start with: a replay of files reads none of them.
  const unusable = {
    AGENT_CONFIG: 'missing.json',
    PORT: 'http',
    TEMPORAL_DEV_PORT: String(await freePort()),
  };
  expect(await cli(['replay', file], unusable)).toEqual({ code: 0, output: `ok    ${file}\n` });
}, 30_000);

/** The changed workflow's timer comes where the call's history has its first patch marker. */
const CHANGED_ERROR =
  '[TMPRL1100] Nondeterminism error: Non-deprecated patch marker encountered for change turn-taking-1, but there is no corresponding change command!';

it('replay against a changed workflow exits 1, naming the call', async () => {
  const file = `${workflowId}-${runId}.json`;
  const { code, output } = await cli(['replay', '--workflows', CHANGED, callId, file], {
    TEMPORAL_ADDRESS: temporal.address,
  });
  expect(output.split('\n')).toEqual([
    `FAIL  ${file}: ${CHANGED_ERROR}`,
    `FAIL  ${workflowId} run ${runId}: ${CHANGED_ERROR}`,
    `2 of 2 histories do not replay against ${CHANGED}: ${workflowId}`,
    '',
  ]);
  expect(code).toBe(1);
}, 30_000);

it('bad arguments: exit 2 and the usage; an unknown call or unreadable file: exit 1, one line', async () => {
  const env = { TEMPORAL_ADDRESS: temporal.address };
  for (const args of [
    ['replay'],
    ['replay', '--bogus', 'x.json'],
    ['export'],
    ['export', 'a', 'b'],
    ['serve', 'x'],
  ]) {
    const { code, output } = await cli(args, env);
    expect([args, code]).toEqual([args, 2]);
    expect(output).toContain('usage: voipbin-agent <command> [arguments]');
    expect(output).toContain('replay [--workflows <path>] <call-id | history.json> ...');
  }
  expect(await cli(['replay', 'no-such-call'], env)).toEqual({
    code: 1,
    output: 'voipbin-agent: no call no-such-call: Temporal has no workflow call-no-such-call\n',
  });
  expect(await cli(['export', 'no-such-call'], env)).toEqual({
    code: 1,
    output: 'voipbin-agent: no call no-such-call: Temporal has no workflow call-no-such-call\n',
  });
  expect(await cli(['replay', 'missing.json'])).toEqual({
    code: 1,
    output:
      "voipbin-agent: cannot read the history missing.json: ENOENT: no such file or directory, open 'missing.json'\n",
  });
}, 60_000);
