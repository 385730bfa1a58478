import type { Client } from '@temporalio/client';
import { createLogger, type LogFields } from '../../src/logger';
import { settleVersion, type SettleVersionOptions } from '../../src/runtime/worker-version';

const VERSION = { deploymentName: 'voipbin-agent', buildId: 'build-2' };

/** What describeWorkerDeployment answers, call by call (the last one repeats); an Error is thrown. */
function fakeClient(answers: ({ known: boolean; current?: string } | Error)[]) {
  const set = jest.fn(async (_req: { buildId: string }) => ({}));
  let n = 0;
  const describe = jest.fn(async () => {
    const a = answers[Math.min(n++, answers.length - 1)]!;
    if (a instanceof Error) throw a;
    return {
      workerDeploymentInfo: {
        versionSummaries: a.known ? [{ deploymentVersion: { buildId: VERSION.buildId } }] : [],
        routingConfig: a.current ? { currentDeploymentVersion: { buildId: a.current } } : {},
      },
    };
  });
  const client = {
    workflowService: { describeWorkerDeployment: describe, setWorkerDeploymentCurrentVersion: set },
    options: { identity: 'worker@test' },
  } as unknown as Client;
  return { client, describe, set };
}

function run(client: Client, setCurrent: boolean, extra: Partial<SettleVersionOptions> = {}) {
  const lines: LogFields[] = [];
  const log = createLogger({ format: 'json', write: (l) => lines.push(JSON.parse(l) as LogFields) });
  const outcome = settleVersion({
    client,
    namespace: 'default',
    versioning: { ...VERSION, setCurrent },
    log,
    retryEveryMs: 5,
    ...extra,
  });
  return { outcome, lines };
}

it('waits until the server knows the version, then makes it current when asked', async () => {
  const { client, describe, set } = fakeClient([
    new Error('5 NOT_FOUND: worker deployment not found'),
    { known: false },
    { known: true, current: 'build-1' },
  ]);
  const { outcome, lines } = run(client, true);
  expect(await outcome).toBe('made-current');
  expect(describe).toHaveBeenCalledTimes(3);
  expect(set).toHaveBeenCalledWith(
    expect.objectContaining({ deploymentName: 'voipbin-agent', buildId: 'build-2', identity: 'worker@test' }),
  );
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ level: 'info', previous: 'build-1' });
  expect(lines[0]?.msg).toMatch(/made current/);
});

it('retries when setting fails (another worker of the build set it meanwhile), then sees it current', async () => {
  const { client, set } = fakeClient([{ known: true }, { known: true, current: 'build-2' }]);
  set.mockRejectedValueOnce(new Error('conflict'));
  const { outcome } = run(client, true);
  expect(await outcome).toBe('current');
  expect(set).toHaveBeenCalledTimes(1);
});

it('without setCurrent, only reports which build takes new calls', async () => {
  const other = fakeClient([{ known: true, current: 'build-1' }]);
  const a = run(other.client, false);
  expect(await a.outcome).toBe('not-current');
  expect(other.set).not.toHaveBeenCalled();
  expect(a.lines[0]).toMatchObject({ level: 'info', current: 'build-1' });

  const none = fakeClient([{ known: true }]);
  const b = run(none.client, false);
  expect(await b.outcome).toBe('no-current');
  expect(b.lines[0]).toMatchObject({ level: 'warn' });
  expect(b.lines[0]?.msg).toMatch(/no current version/);

  const self = fakeClient([{ known: true, current: 'build-2' }]);
  expect(await run(self.client, false).outcome).toBe('current');
});

it('gives up after its timeout, saying so; quietly when the worker is shutting down', async () => {
  const never = fakeClient([{ known: false }]);
  const a = run(never.client, true, { timeoutMs: 30 });
  expect(await a.outcome).toBe('gave-up');
  expect(a.lines).toEqual([expect.objectContaining({ level: 'error', buildId: 'build-2' })]);

  const stopping = new AbortController();
  const b = run(fakeClient([{ known: false }]).client, true, {
    signal: stopping.signal,
    retryEveryMs: 60_000,
  });
  stopping.abort();
  expect(await b.outcome).toBe('gave-up');
  expect(b.lines).toEqual([]);
});
