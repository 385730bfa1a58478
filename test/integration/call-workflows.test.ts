import { Client, Connection } from '@temporalio/client';
import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import { TemporalUnavailableError, temporalCallWorkflows } from '../../src/ingress/call-workflows';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { callWorkflowId } from '../../workflows/messages';
import { freePort } from '../helpers/cli';
import { localEnv } from '../helpers/temporal-env';

describe('temporalCallWorkflows with Temporal unreachable', () => {
  let connection: Connection;
  afterAll(() => connection?.close());

  it('fails with TemporalUnavailableError (the ingress answers 503) within its deadline', async () => {
    connection = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    const workflows = temporalCallWorkflows(new Client({ connection }), 'q', 1500);
    const event = {
      kind: 'call',
      eventType: 'call_progressing',
      callId: 'c1',
      status: 'progressing',
    } as const;
    const input = { callId: 'c1', profileName: 'default', profile: DEFAULT_AGENT_CONFIG.profiles.default! };
    const started = Date.now();
    await expect(workflows.signal('c1', event)).rejects.toBeInstanceOf(TemporalUnavailableError);
    await expect(workflows.signalWithStart(input, event)).rejects.toBeInstanceOf(TemporalUnavailableError);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('temporalCallWorkflows on a real server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await localEnv();
  }, 60_000);
  afterAll(() => env?.teardown());

  const event = (status: 'progressing' | 'hangup') =>
    ({ kind: 'call', eventType: `call_${status}`, callId: 'c2', status }) as const;

  it('starts once, signals while running, and reports a closed or unknown call without error', async () => {
    const workflows = temporalCallWorkflows(env.client, 'no-worker-queue');
    const input = { callId: 'c2', profileName: 'default', profile: DEFAULT_AGENT_CONFIG.profiles.default! };
    expect(await workflows.signal('never-seen', event('progressing'))).toBe('no-workflow');
    expect(await workflows.signalWithStart(input, event('progressing'))).toBe('delivered');
    expect(await workflows.signalWithStart(input, event('progressing'))).toBe('delivered');
    const handle = env.client.workflow.getHandle(callWorkflowId('c2'));
    const history = await handle.fetchHistory();
    expect(history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes)).toHaveLength(2);
    await handle.terminate('test');
    // A late event for a call whose workflow has closed never starts a second one.
    expect(await workflows.signalWithStart(input, event('progressing'))).toBe('call-ended');
    expect(await workflows.signal('c2', event('hangup'))).toBe('no-workflow');
  });
});
