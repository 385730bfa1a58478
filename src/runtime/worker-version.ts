// Worker Versioning, opt-in (README "Deploying new code"): which build takes new calls. The
// worker itself only says which version it is and runs calls pinned to it (src/worker.ts); this
// reads, and on request sets, the deployment's current version once the server knows this one.
import type { Client } from '@temporalio/client';
import type { WorkerVersioning } from '../config';
import type { Logger } from '../logger';

export interface SettleVersionOptions {
  client: Client;
  namespace: string;
  versioning: WorkerVersioning;
  log: Logger;
  /** Stop trying (the worker is shutting down). */
  signal?: AbortSignal;
  /** How long to wait for the server to know this version. */
  timeoutMs?: number;
  retryEveryMs?: number;
}

export type SettleOutcome = 'current' | 'made-current' | 'not-current' | 'no-current' | 'gave-up';

/**
 * Once the server lists this version (it learns of it from the worker's first polls): with
 * `setCurrent`, makes it the current version, so new calls start on it; without, reports which
 * version takes new calls (none at all is a deployment that answers no new call: warned).
 * Calls already running stay pinned to their own version either way.
 */
export async function settleVersion(opts: SettleVersionOptions): Promise<SettleOutcome> {
  const { client, namespace, versioning, log, signal } = opts;
  const { deploymentName, buildId } = versioning;
  const fields = { deploymentName, buildId };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError: unknown;
  while (!signal?.aborted && Date.now() < deadline) {
    try {
      const { workerDeploymentInfo: info } = await client.workflowService.describeWorkerDeployment({
        namespace,
        deploymentName,
      });
      const known = info?.versionSummaries?.some((v) => v.deploymentVersion?.buildId === buildId);
      const current = info?.routingConfig?.currentDeploymentVersion?.buildId || undefined;
      if (known) {
        if (current === buildId) {
          log.info('worker version is current: new calls start on it', fields);
          return 'current';
        }
        if (!versioning.setCurrent) {
          if (current) {
            log.info('worker version is not current: it runs the calls pinned to it', { ...fields, current });
            return 'not-current';
          }
          log.warn('worker deployment has no current version: new calls wait until one is set', fields);
          return 'no-current';
        }
        await client.workflowService.setWorkerDeploymentCurrentVersion({
          namespace,
          deploymentName,
          buildId,
          identity: client.options.identity,
        });
        log.info('worker version made current: new calls start on it', { ...fields, previous: current });
        return 'made-current';
      }
    } catch (err) {
      // Not found yet (no poll registered), or another worker of this build set it meanwhile:
      // look again.
      lastError = err;
    }
    await sleep(opts.retryEveryMs ?? 500, signal);
  }
  if (!signal?.aborted) {
    log.error('worker version not settled: check it with `temporal worker deployment describe`', {
      ...fields,
      error: lastError as Error,
    });
  }
  return 'gave-up';
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
