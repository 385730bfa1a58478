// Worker Versioning (opt-in: TEMPORAL_DEPLOYMENT_NAME, TEMPORAL_WORKER_BUILD_ID): a call is pinned
// to the build it started on. A new build made current mid-call takes the calls that start after,
// while the call in flight finishes on the old build, its later turns included.
import { decodeVersioningBehavior } from '@temporalio/common';
import { callWorkflowId } from '../../workflows/messages';
import type { AgentProcess } from '../helpers/cli';
import { FIRST, FailoverStack, GREETING } from '../helpers/failover';
import { saysOf } from '../helpers/voipbin-requests';
import { waitFor } from '../helpers/wait-for';

const DEPLOYMENT = 'voipbin-agent';
let stack: FailoverStack;

beforeAll(async () => {
  stack = await FailoverStack.start();
}, 60_000);

afterAll(() => stack?.close());

function versioned(buildId: string): Record<string, string> {
  return {
    TEMPORAL_DEPLOYMENT_NAME: DEPLOYMENT,
    TEMPORAL_WORKER_BUILD_ID: buildId,
    TEMPORAL_WORKER_SET_CURRENT: 'true',
  };
}

/** The build a call is pinned to, and the processes that ran its workflow tasks and activities. */
async function ranOn(callId: string): Promise<{ pinned: unknown; pids: string[] }> {
  const handle = stack.client.workflow.getHandle(callWorkflowId(callId));
  const info = (await handle.describe()).raw.workflowExecutionInfo?.versioningInfo;
  const events = (await handle.fetchHistory()).events ?? [];
  const identities = events.flatMap((e) => [
    e.workflowTaskStartedEventAttributes?.identity,
    e.activityTaskStartedEventAttributes?.identity,
  ]);
  // An identity is `<pid>@<host>`.
  const pids = [...new Set(identities.filter((i): i is string => !!i).map((i) => i.split('@')[0]!))];
  return { pinned: [decodeVersioningBehavior(info?.behavior), info?.deploymentVersion?.buildId], pids };
}

const pidOf = (p: AgentProcess) => String(p.child.pid);

it('a call in flight stays on its build while a new call starts on the new build', async () => {
  const v1 = stack.startWorker('/build-1', versioned('build-1'));
  await v1.waitOutput('worker version made current');

  // Call A: the long reply, streamed by build 1. Build 2 comes up and is made current meanwhile.
  const firstRequest = stack.simulator.requests.length;
  const a = stack.startLongCall();
  await waitFor(
    () => saysOf({ requests: stack.simulator.requests.slice(firstRequest) }).includes(FIRST[1]!),
    'the second sentence',
    30_000,
  );
  const v2 = stack.startWorker('/build-2', versioned('build-2'));
  await v2.waitOutput('worker version made current');
  const switchedAt = Date.now();

  // Call B, started after the switch: a short one.
  const b = stack.simulator.startInboundCall({
    from: '+15550007777',
    to: '+15550008888',
    script: {
      steps: [
        { say: 'What time do you open?', quietMs: 300 },
        { waitForAgent: true, quietMs: 500 },
        { hangup: true },
      ],
    },
  });
  await Promise.all([a.ended, b.ended]);
  await Promise.all([a, b].map((c) => stack.client.workflow.getHandle(callWorkflowId(c.id)).result()));

  // Every workflow task and activity of A ran on build 1, of B on build 2; each is pinned.
  expect(await ranOn(a.id)).toEqual({ pinned: ['PINNED', 'build-1'], pids: [pidOf(v1)] });
  expect(await ranOn(b.id)).toEqual({ pinned: ['PINNED', 'build-2'], pids: [pidOf(v2)] });

  // The model was asked by build 1 for A, its second turn included (asked after the switch), and
  // by build 2 for B.
  const asked = (text: string) =>
    stack.llm.requests
      .filter((r) => String(r.messages.at(-1)?.content).startsWith(text))
      .map((r) => [r.pathPrefix, r.receivedAt > switchedAt]);
  expect(asked('Tell me everything')).toEqual([['/build-1', false]]);
  expect(asked('What is my balance')).toEqual([['/build-1', true]]);
  expect(asked('What time do you open')).toEqual([['/build-2', true]]);

  // A's caller heard the whole reply once, in order.
  const says = saysOf({ requests: stack.simulator.requests.slice(firstRequest) });
  expect(says.filter((s) => FIRST.includes(s))).toEqual(FIRST);
  expect(says.filter((s) => s === GREETING)).toHaveLength(2);

  // Build 2 is the deployment's current version; build 1 still serves what is pinned to it.
  const { workerDeploymentInfo } = await stack.client.workflowService.describeWorkerDeployment({
    namespace: 'default',
    deploymentName: DEPLOYMENT,
  });
  expect(workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId).toBe('build-2');
}, 120_000);
