import { Context } from '@temporalio/activity';

/**
 * How often a request-making activity (`say`, an HTTP tool) tells Temporal it is alive while its
 * request is out: well inside the short heartbeat timeouts the workflow gives them (500 ms for
 * `say`, 1 s for a tool), so that a worker dying mid-request is noticed fast. A quick request does
 * not heartbeat at all.
 */
export const HEARTBEAT_EVERY_MS = 200;

/** Runs `work`, heartbeating while it takes longer than `HEARTBEAT_EVERY_MS`. */
export async function heartbeatWhileSlow<T>(work: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
