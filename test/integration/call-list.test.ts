// `GET /calls`'s list against a real dev server: each call once (its latest run, however many it
// has), newest first, its search attributes read, the status and profile filters and the limit as
// visibility queries; a namespace without the attributes, and a server that is down.
import { Connection, Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { temporalCallReads } from '../../src/ingress/call-reads';
import { TemporalUnavailableError } from '../../src/ingress/call-workflows';
import { listCalls, SearchAttributeMissingError, type CallListing } from '../../src/inspect/call-list';
import { temporalCliPath } from '../../src/temporal/binaries';
import { CallSearchAttributes } from '../../workflows/search-attributes';
import { freePort } from '../helpers/cli';
import { localEnv } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait-for';

const TASK_QUEUE = 'call-list';
const WORKFLOWS = require.resolve('../fixtures/continued-call-workflow');
let env: TestWorkflowEnvironment;
let client: Client;

const ids = { continued: randomUUID(), single: randomUUID(), running: randomUUID(), bare: randomUUID() };
let continuedFirstStart: Date;
let continuedLastRun: string;
let continuedClosedAt: Date;

function attributes(callId: string, profile: string, direction: string) {
  return [
    { key: CallSearchAttributes.callId, value: callId },
    { key: CallSearchAttributes.profile, value: profile },
    { key: CallSearchAttributes.direction, value: direction },
  ];
}

const list = (filters: Partial<Parameters<typeof listCalls>[2]> = {}): Promise<CallListing[]> =>
  listCalls(client, TASK_QUEUE, { limit: 50, ...filters });

beforeAll(async () => {
  env = await localEnv();
  client = env.client;
}, 60_000);

afterAll(async () => {
  await env?.teardown();
});

it('on a namespace without VoipbinProfile, a profile filter is an error that names it and says how to register it', async () => {
  // A server of its own, as a cluster where nobody registered the attributes.
  const bare = await TestWorkflowEnvironment.createLocal({
    server: {
      port: await freePort(),
      executable: { type: 'existing-path', path: temporalCliPath(process.env.TEMPORAL_CLI_PATH) },
    },
  });
  try {
    const err = await listCalls(bare.client, TASK_QUEUE, { profile: 'sales', limit: 5 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SearchAttributeMissingError);
    expect((err as Error).message).toContain(
      'VoipbinProfile is not registered on the Temporal namespace default',
    );
    expect((err as Error).message).toContain(
      'temporal operator search-attribute create --namespace default --name VoipbinProfile --type Keyword',
    );
    // Without the filter the list needs none of them.
    expect(await listCalls(bare.client, TASK_QUEUE, { limit: 5 })).toEqual([]);
  } finally {
    await bare.teardown();
  }
}, 60_000);

describe('with the search attributes registered', () => {
  beforeAll(async () => {
    // localEnv registers the attributes, as serve does on its embedded server.
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS,
    });
    await worker.runUntil(async () => {
      // A call of three runs (it continued as new twice), then one of a single run.
      const continued = await client.workflow.start('callWorkflow', {
        workflowId: `call-${ids.continued}`,
        taskQueue: TASK_QUEUE,
        args: [3],
        typedSearchAttributes: attributes(ids.continued, 'sales', 'inbound'),
      });
      await continued.result();
      continuedFirstStart = (
        await client.workflow.getHandle(continued.workflowId, continued.firstExecutionRunId).describe()
      ).startTime;
      const last = await continued.describe();
      continuedLastRun = last.runId;
      continuedClosedAt = last.closeTime!;
      const single = await client.workflow.start('callWorkflow', {
        workflowId: `call-${ids.single}`,
        taskQueue: TASK_QUEUE,
        args: [1],
        typedSearchAttributes: attributes(ids.single, 'default', 'outbound'),
      });
      await single.result();
      // One still running in its second run: the first closed as ContinuedAsNew, yet the call has not ended.
      const running = await client.workflow.start('callWorkflow', {
        workflowId: `call-${ids.running}`,
        taskQueue: TASK_QUEUE,
        args: [2, true],
        typedSearchAttributes: attributes(ids.running, 'sales', 'outbound'),
      });
      await waitFor(
        async () => (await running.describe()).runId !== running.firstExecutionRunId,
        'the running call in its second run',
        10_000,
      );
    });
    // And one a cluster without the attributes would have started, terminated.
    await client.workflow.start('callWorkflow', {
      workflowId: `call-${ids.bare}`,
      taskQueue: TASK_QUEUE,
      args: [1, true],
    });
    await client.workflow.getHandle(`call-${ids.bare}`).terminate('the test');
    // Visibility is eventually consistent.
    await waitFor(async () => (await list()).length === 4, 'the four calls in visibility', 10_000);
  }, 90_000);

  it("lists each call once, newest first, its latest run with its first run's start, its attributes, its page", async () => {
    const calls = await list();
    expect(calls.map((c) => c.callId)).toEqual([ids.bare, ids.running, ids.single, ids.continued]);
    const continued = calls.find((c) => c.callId === ids.continued)!;
    expect(continued).toEqual({
      callId: ids.continued,
      workflowId: `call-${ids.continued}`,
      runId: continuedLastRun,
      runs: 3,
      status: 'completed',
      startedAt: continuedFirstStart.toISOString(),
      closedAt: continuedClosedAt.toISOString(),
      profile: 'sales',
      direction: 'inbound',
      callStatus: null,
      endReason: null,
      page: `/calls/${ids.continued}`,
    });
    expect(calls.find((c) => c.callId === ids.running)).toMatchObject({
      status: 'running',
      runs: 2,
      closedAt: null,
      profile: 'sales',
      direction: 'outbound',
    });
    // No attributes: the call id from the workflow id, nothing else made up.
    expect(calls.find((c) => c.callId === ids.bare)).toMatchObject({
      status: 'terminated',
      profile: null,
      direction: null,
      page: `/calls/${ids.bare}`,
    });
  });

  it('filters by status: running, ended, or how the call closed', async () => {
    const callIds = async (status: Parameters<typeof listCalls>[2]['status']) =>
      (await list({ status })).map((c) => c.callId);
    expect(await callIds('running')).toEqual([ids.running]);
    expect(await callIds('ended')).toEqual([ids.bare, ids.single, ids.continued]);
    expect(await callIds('completed')).toEqual([ids.single, ids.continued]);
    expect(await callIds('terminated')).toEqual([ids.bare]);
    expect(await callIds('failed')).toEqual([]);
  });

  it('filters by profile, with the status too', async () => {
    expect((await list({ profile: 'sales' })).map((c) => c.callId)).toEqual([ids.running, ids.continued]);
    expect((await list({ profile: 'sales', status: 'ended' })).map((c) => c.callId)).toEqual([ids.continued]);
    expect(await list({ profile: "o'brien" })).toEqual([]);
  });

  it('keeps to the limit', async () => {
    expect(await list({ limit: 1 })).toHaveLength(1);
    expect(await list({ limit: 3 })).toHaveLength(3);
  });

  it('keeps to its task queue', async () => {
    expect(await listCalls(client, 'another-queue', { limit: 50 })).toEqual([]);
  });
});

it('a server that does not answer: TemporalUnavailableError (the route answers 503)', async () => {
  const connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  try {
    const reads = temporalCallReads(new Client({ connection }), { taskQueue: TASK_QUEUE, deadlineMs: 3000 });
    await expect(reads.list({ limit: 5 })).rejects.toThrow(TemporalUnavailableError);
    await expect(reads.call('some-call')).rejects.toThrow(TemporalUnavailableError);
  } finally {
    await connection.close();
  }
});
