// A signal that lands while the call's workflow completes (another ingress replica's copy of the
// hangup, reconciliation) makes the server refuse the completion, and the worker replays the run
// from its history: whatever the last workflow task did in local activities (the session stops,
// the agent's hangup) must already be in that history, or it is done again. On a real dev server:
// the time-skipping one would skip ahead while an activity is held.
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import type { Activities } from '../../activities/types';
import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import { createCallWorker } from '../../src/worker';
import { callWorkflow } from '../../workflows/call';
import {
  callWorkflowId,
  voipbinEventSignal,
  type CallEvent,
  type CallStatus,
} from '../../workflows/messages';
import { FakeCallActivities, type ScriptedReply } from '../helpers/fake-activities';
import { bundleWorkflows, localEnv } from '../helpers/temporal-env';
import { waitFor } from '../helpers/wait-for';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  [env, bundle] = await Promise.all([localEnv(), bundleWorkflows()]);
}, 60_000);

afterAll(async () => {
  await env?.teardown();
});

const PROFILE = DEFAULT_AGENT_CONFIG.profiles.default!;
const callEvent = (callId: string, status: CallStatus): CallEvent => ({
  kind: 'call',
  eventType: `call_${status}`,
  callId,
  status,
});

/**
 * Runs a call whose activity `held` waits, once started, until `body` calls `release` (once the
 * copy of an event it sends has reached the server). Returns every VoIPBIN request made.
 */
async function withHeld(
  held: 'stopTranscribe' | 'hangupCall',
  replies: ScriptedReply[],
  body: (call: {
    fake: FakeCallActivities;
    callId: string;
    handle: WorkflowHandle<typeof callWorkflow>;
    /** Resolves when the held activity has started. */
    heldStarted: Promise<void>;
    release: () => void;
  }) => Promise<void>,
): Promise<string[]> {
  const taskQueue = `test-${randomUUID()}`;
  const callId = randomUUID();
  const fake = new FakeCallActivities(() => env.client);
  fake.replies.push(...replies);
  const activities: Activities = fake.activities();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let started!: () => void;
  const heldStarted = new Promise<void>((resolve) => (started = resolve));
  const original = activities[held] as (input: never) => Promise<unknown>;
  (activities as unknown as Record<string, (input: never) => Promise<unknown>>)[held] = async (input) => {
    started();
    await released;
    return original(input);
  };
  const worker = await createCallWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    activities,
    workflowBundle: bundle,
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.signalWithStart(callWorkflow, {
      workflowId: callWorkflowId(callId),
      taskQueue,
      args: [{ callId, profileName: 'default', profile: PROFILE }],
      signal: voipbinEventSignal,
      signalArgs: [callEvent(callId, 'progressing')],
    });
    await waitFor(() => fake.log.includes(`say:${PROFILE.greeting}`), 'the greeting');
    try {
      await body({ fake, callId, handle, heldStarted, release });
    } finally {
      release(); // never leave the worker waiting for a held activity
    }
  });
  return fake.log.slice(2);
}

it('a copy of the hangup arriving while the sessions are stopped: each stop is sent once', async () => {
  const log = await withHeld('stopTranscribe', [], async ({ callId, handle, heldStarted, release }) => {
    // One replica's hangup: the workflow stops the sessions. The other's arrives meanwhile.
    await handle.signal(voipbinEventSignal, callEvent(callId, 'hangup'));
    await heldStarted;
    await handle.signal(voipbinEventSignal, callEvent(callId, 'hangup'));
    release();
    expect(await handle.result()).toMatchObject({ endReason: 'caller-hangup' });
  });
  expect(log).toEqual([`say:${PROFILE.greeting}`, 'stopSpeaking:speaking-1', 'stopTranscribe']);
}, 60_000);

it('the call ended by the agent, its terminating event arriving during the hangup: one hangup, one stop each', async () => {
  const replies = [{ sentences: ['Goodbye.'], endCall: true }];
  const log = await withHeld('hangupCall', replies, async ({ callId, handle, heldStarted, release }) => {
    await handle.signal(voipbinEventSignal, {
      kind: 'transcript',
      eventType: 'transcript_created',
      id: 't-1',
      transcribeId: 'transcribe-1',
      direction: 'in',
      text: 'That is all, bye.',
    });
    await heldStarted;
    // VoIPBIN's call_terminating, by a replica, while the hangup request is still out.
    await handle.signal(voipbinEventSignal, callEvent(callId, 'terminating'));
    release();
    expect(await handle.result()).toMatchObject({ endReason: 'agent-ended' });
  });
  expect(log).toEqual([
    `say:${PROFILE.greeting}`,
    'flush', // the caller talked over the greeting
    'say:Goodbye.',
    'hangupCall',
    'stopSpeaking:speaking-1',
    'stopTranscribe',
  ]);
}, 60_000);
