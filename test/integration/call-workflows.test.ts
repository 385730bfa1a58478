import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import { TemporalUnavailableError, temporalCallWorkflows } from '../../src/ingress/call-workflows';
import { silentLogger } from '../../src/logger';
import { startIngress } from '../../src/runtime/ingress-runtime';
import { callWorkflowId } from '../../workflows/messages';
import { freePort } from '../helpers/cli';
import { localEnv } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait-for';

const profile = DEFAULT_AGENT_CONFIG.profiles.default!;
const input = (callId: string) => ({ callId, profileName: 'default', profile });
const event = (callId: string, status: 'dialing' | 'ringing' | 'progressing' | 'hangup') =>
  ({ kind: 'call', eventType: `call_${status}`, callId, status }) as const;

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe('temporalCallWorkflows with Temporal unreachable', () => {
  let connection: Connection;
  afterAll(() => connection?.close());

  it('fails with TemporalUnavailableError (the ingress answers 503) within its deadline', async () => {
    connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    const workflows = temporalCallWorkflows(new Client({ connection }), 'q', { deadlineMs: 1500 });
    const started = Date.now();
    await expect(workflows.signal('c1', event('c1', 'progressing'))).rejects.toBeInstanceOf(
      TemporalUnavailableError,
    );
    await expect(workflows.signalWithStart(input('c1'), event('c1', 'progressing'))).rejects.toBeInstanceOf(
      TemporalUnavailableError,
    );
    await expect(workflows.reconcile('c1', { reason: 'events-refused' })).rejects.toBeInstanceOf(
      TemporalUnavailableError,
    );
    await expect(collect(workflows.runningCalls())).rejects.toBeInstanceOf(TemporalUnavailableError);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('does not keep the ingress from listening: the start sweep waits in the background', async () => {
    const started = Date.now();
    const ingress = await startIngress({
      client: new Client({ connection }),
      taskQueue: 'q',
      agent: DEFAULT_AGENT_CONFIG,
      voipbin: { baseUrl: `http://127.0.0.1:${await freePort()}/v1.0`, apiKey: 'k', webhookSecret: 's' },
      host: '127.0.0.1',
      port: 0,
      log: silentLogger,
    });
    try {
      // Each attempt to reach Temporal waits out its 5 s deadline: listening must not wait for one.
      expect(Date.now() - started).toBeLessThan(3000);
      const res = await fetch(`http://127.0.0.1:${ingress.port}/healthz`);
      expect(res.status).toBe(200);
      expect(ingress.counters.get('reconcile_sent')).toBe(0);
    } finally {
      await ingress.close();
    }
  });
});

describe('temporalCallWorkflows on a real server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await localEnv();
  }, 60_000);
  afterAll(() => env?.teardown());

  /** The signals in the workflow's history, as name and decoded argument. */
  async function signals(callId: string): Promise<{ name: string; arg: unknown }[]> {
    const history = await env.client.workflow.getHandle(callWorkflowId(callId)).fetchHistory();
    return (history.events ?? []).flatMap((e) => {
      const signalled = e.workflowExecutionSignaledEventAttributes;
      if (!signalled) return [];
      const data = signalled.input?.payloads?.[0]?.data;
      const arg: unknown = data ? JSON.parse(Buffer.from(data).toString()) : null;
      return [{ name: signalled.signalName ?? '', arg }];
    });
  }

  it('starts once, signals while running, and reports a closed or unknown call without error', async () => {
    const workflows = temporalCallWorkflows(env.client, 'no-worker-queue');
    expect(await workflows.signal('never-seen', event('never-seen', 'progressing'))).toBe('no-workflow');
    expect(await workflows.signalWithStart(input('c2'), event('c2', 'progressing'))).toBe('delivered');
    expect(await workflows.signalWithStart(input('c2'), event('c2', 'progressing'))).toBe('delivered');
    expect((await signals('c2')).map((s) => s.name)).toEqual(['voipbinEvent', 'voipbinEvent']);
    await env.client.workflow.getHandle(callWorkflowId('c2')).terminate('test');
    // A late event for a call whose workflow has closed never starts a second one.
    expect(await workflows.signalWithStart(input('c2'), event('c2', 'progressing'))).toBe('call-ended');
    expect(await workflows.signal('c2', event('c2', 'hangup'))).toBe('no-workflow');
  });

  /** The call's signals (by the status they carry) and workflow tasks scheduled, in order. */
  async function startOf(callId: string): Promise<string[]> {
    const history = await env.client.workflow.getHandle(callWorkflowId(callId)).fetchHistory();
    return (history.events ?? []).flatMap((e) => {
      if (e.workflowTaskScheduledEventAttributes) return ['workflow task'];
      const data = e.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]?.data;
      if (!data) return [];
      const { status } = JSON.parse(Buffer.from(data).toString()) as { status: string };
      return [`signal ${status}`];
    });
  }

  it("holds a call's first workflow task back until it is answered: its first events go in one task", async () => {
    const workflows = temporalCallWorkflows(env.client, 'no-worker-queue');
    expect(await workflows.signalWithStart(input('d1'), event('d1', 'dialing'))).toBe('delivered');
    // The event router sends a `ringing` after a start as a plain signal: it does not end the delay.
    expect(await workflows.signal('d1', event('d1', 'ringing'))).toBe('delivered');
    await new Promise((r) => setTimeout(r, 300));
    expect(await startOf('d1')).toEqual(['signal dialing', 'signal ringing']);
    // Answered: a start event ends the delay, and one workflow task takes all three.
    expect(await workflows.signalWithStart(input('d1'), event('d1', 'progressing'))).toBe('delivered');
    expect(await startOf('d1')).toEqual([
      'signal dialing',
      'signal ringing',
      'signal progressing',
      'workflow task',
    ]);
    await env.client.workflow.getHandle(callWorkflowId('d1')).terminate('test');
  });

  it('a call that rings long is taken up after PRE_ANSWER_START_DELAY, answered or not', async () => {
    const workflows = temporalCallWorkflows(env.client, 'no-worker-queue');
    expect(await workflows.signalWithStart(input('d2'), event('d2', 'ringing'))).toBe('delivered');
    // The caller gives up while it rings: kept in the history, taken with the delayed first task.
    expect(await workflows.signal('d2', event('d2', 'hangup'))).toBe('delivered');
    const scheduled = async () =>
      ((await env.client.workflow.getHandle(callWorkflowId('d2')).fetchHistory()).events ?? []).some(
        (e) => e.workflowTaskScheduledEventAttributes,
      );
    expect(await scheduled()).toBe(false);
    await waitFor(scheduled, 'the first workflow task, after the delay', 5000);
    expect(await startOf('d2')).toEqual(['signal ringing', 'signal hangup', 'workflow task']);
    await env.client.workflow.getHandle(callWorkflowId('d2')).terminate('test');
  });

  it('delivers reconcile to a running workflow as a `reconcile` signal; no-workflow otherwise', async () => {
    const workflows = temporalCallWorkflows(env.client, 'no-worker-queue');
    expect(await workflows.signalWithStart(input('c3'), event('c3', 'progressing'))).toBe('delivered');
    expect(await workflows.reconcile('c3', { reason: 'events-refused' })).toBe('delivered');
    expect(await signals('c3')).toEqual([
      { name: 'voipbinEvent', arg: event('c3', 'progressing') },
      { name: 'reconcile', arg: { reason: 'events-refused' } },
    ]);
    expect(await workflows.reconcile('never-seen', { reason: 'events-refused' })).toBe('no-workflow');
    await env.client.workflow.getHandle(callWorkflowId('c3')).terminate('test');
    expect(await workflows.reconcile('c3', { reason: 'events-refused' })).toBe('no-workflow');
  });

  it('lists the running calls of its task queue: not a terminated one, not another queue’s', async () => {
    const workflows = temporalCallWorkflows(env.client, 'listing-queue');
    const elsewhere = temporalCallWorkflows(env.client, 'other-queue');
    for (const id of ['l1', 'l2']) await workflows.signalWithStart(input(id), event(id, 'progressing'));
    await elsewhere.signalWithStart(input('l3'), event('l3', 'progressing'));
    await env.client.workflow.getHandle(callWorkflowId('l2')).terminate('test');
    // Visibility is eventually consistent: wait until it has caught up with the termination.
    await waitFor(async () => {
      const running = await collect(workflows.runningCalls());
      return running.length === 1 && running[0] === 'l1';
    }, 'the listing to show l1 alone');
    expect(await collect(workflows.runningCalls())).toEqual(['l1']);
    expect(await collect(elsewhere.runningCalls())).toEqual(['l3']);
  });

  it('the ingress, on start, asks every running call of its queue to reconcile', async () => {
    const taskQueue = 'sweep-queue';
    const workflows = temporalCallWorkflows(env.client, taskQueue);
    await workflows.signalWithStart(input('s1'), event('s1', 'progressing'));
    await waitFor(async () => (await collect(workflows.runningCalls())).includes('s1'), 's1 to be listed');
    const ingress = await startIngress({
      client: env.client,
      taskQueue,
      agent: DEFAULT_AGENT_CONFIG,
      // Never asked: the secret is given, and no webhook arrives.
      voipbin: { baseUrl: `http://127.0.0.1:${await freePort()}/v1.0`, apiKey: 'k', webhookSecret: 's' },
      host: '127.0.0.1',
      port: 0,
      log: silentLogger,
    });
    try {
      await waitFor(async () => (await signals('s1')).length === 2, 'the reconcile signal');
      expect(await signals('s1')).toEqual([
        { name: 'voipbinEvent', arg: event('s1', 'progressing') },
        { name: 'reconcile', arg: { reason: 'ingress-started' } },
      ]);
      expect(ingress.counters.get('reconcile_sent')).toBe(1);
    } finally {
      await ingress.close();
    }
  });
});
