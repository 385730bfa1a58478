import { conversationQuery } from '../../workflows/messages';

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Waits until the call has no reply turn running (phase `listening`). On the time-skipping test
 * server, a test that hangs up just as a turn ends waits for this first: that server refuses a
 * workflow task that cancels an activity whose completion arrived while the task ran
 * (`ACTIVITY_UNKNOWN`, its TestWorkflowMutableStateImpl.processRequestCancelActivityTask), and
 * the call then never ends. The real server takes it (the completion is buffered: the cancel is
 * a no-op). A speaking turn (`replySpeech: direct`) sends its last `/say` just before it
 * completes, so a hangup sent when that `/say` arrives lands in the window.
 */
export async function turnEnded(handle: {
  query: (query: typeof conversationQuery) => Promise<{ phase: string }>;
}): Promise<void> {
  await waitFor(async () => (await handle.query(conversationQuery)).phase === 'listening', 'the turn ended');
}
