import { Connection } from '@temporalio/client';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CALL_SEARCH_ATTRIBUTE_NAMES } from '../../workflows/search-attributes';
import type { Logger } from '../logger';
import { temporalCliPath } from './binaries';
import { alive } from '../runtime/processes';

export interface DevServerOptions {
  cliPath?: string;
  port: number;
  uiPort: number;
  namespace: string;
  /** The SQLite file lives here, so calls survive a restart of the agent. */
  dataDir: string;
  log: Logger;
  startTimeoutMs?: number;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  stop: () => Promise<void>;
}

/** Flags that make the single-shard SQLite dev server quick enough for live calls (TEMPORAL-NOTES). */
export function devServerArgs(
  o: Pick<DevServerOptions, 'port' | 'uiPort' | 'namespace' | 'dataDir'>,
): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--ui-port',
    String(o.uiPort),
    '--namespace',
    o.namespace,
    '--db-filename',
    join(o.dataDir, 'temporal.db'),
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=NORMAL',
    '--sqlite-pragma',
    'busy_timeout=5000',
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // A stopping worker's open polls are ended by the server (on ShutdownWorker), not cut by the
    // worker. Without it the namespace does not advertise workerPollCompleteOnShutdown and the SDK
    // drops its open polls at once (sdk-core pollers/poll_buffer.rs): a workflow task the server
    // hands to such a poll in that instant is lost, and the call waits out its workflow task
    // timeout. Off by default up to server 1.31 at least. (A narrower race remains in sdk-core:
    // test/e2e/drain.test.ts `lostInTheShutdownInstant`.)
    '--dynamic-config-value',
    'frontend.enableCancelWorkerPollsOnShutdown=true',
    '--log-level',
    'warn',
    // The calls' search attributes (workflows/search-attributes.ts): `temporal workflow list
    // --query "VoipbinProfile='sales'"`, the UI's filters and `GET /calls` find calls by them.
    ...CALL_SEARCH_ATTRIBUTE_NAMES.flatMap((name) => ['--search-attribute', `${name}=Keyword`]),
  ];
}

async function waitUntilServing(address: string, child: ChildProcess, deadline: number): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal server exited with code ${child.exitCode}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.healthService.check({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`temporal server did not come up on ${address}`, { cause: err });
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** The pid of the running dev server, beside its database. */
const PID_FILE = 'temporal.pid';

/**
 * A `serve` that was SIGKILLed leaves its dev server running (a child outlives its parent), holding
 * the port and the database: the next `serve` stops it first. Only a process whose command line is
 * a dev server on this very database is touched.
 */
async function stopLeftover(dataDir: string, log: Logger): Promise<void> {
  const file = join(dataDir, PID_FILE);
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  rmSync(file, { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  const command = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).stdout ?? '';
  if (!command.includes('start-dev') || !command.includes(join(dataDir, 'temporal.db'))) return;
  log.warn('stopping the Temporal dev server an earlier run left behind', { pid });
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; alive(pid); waited += 100) {
    if (waited >= 10_000) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The dev server picks free ports for its internal services as it starts, then binds them: on a
 * busy machine another process can take one in between, and the server panics (Go's exit code 2)
 * before it serves. Such a start is tried again, with new ports; our own ports are checked by the
 * CLI up front (exit code 1, a clear message) and never retried.
 */
export const DEV_SERVER_START_ATTEMPTS = 3;

/** A start that died of a Go panic, as a lost port race does. */
export function isStartupPanic(exitCode: number | null, output: string): boolean {
  return exitCode === 2 && output.includes('panic');
}

/**
 * A dev server's output as kept for an error: the panic's first lines (the cause) and the tail.
 */
export class ServerOutput {
  private head = '';
  private tail = '';
  add(chunk: string): void {
    if (this.head.length < 2000) this.head += chunk.slice(0, 2000 - this.head.length);
    this.tail = (this.tail + chunk).slice(-3000);
  }
  get text(): string {
    const panic = this.head.indexOf('panic');
    const cause = panic === -1 ? '' : this.head.slice(panic, panic + 600);
    return cause && !this.tail.includes(cause) ? `${cause}\n...\n${this.tail}` : this.tail;
  }
}

/**
 * Runs `start` again while it fails with a panic at start-up (`panicked` tells), up to
 * DEV_SERVER_START_ATTEMPTS in all; `onRetry` hears of each retry.
 */
export async function retryingStartupPanics<T>(
  start: () => Promise<T>,
  panicked: (err: unknown) => boolean,
  onRetry: (attempt: number, err: unknown) => void = () => undefined,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= DEV_SERVER_START_ATTEMPTS || !panicked(err)) throw err;
      onRetry(attempt, err);
    }
  }
}

/** Starts `temporal server start-dev` as a child process and waits until it answers. */
export function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  return retryingStartupPanics(
    () => startOnce(opts),
    (err) => (err as { panicked?: boolean }).panicked === true,
    (attempt, err) =>
      opts.log.warn('the Temporal dev server panicked as it started: starting it again', {
        attempt,
        error: (err as Error).message.split('\n').slice(0, 3).join(' '),
      }),
  );
}

async function startOnce(opts: DevServerOptions): Promise<DevServer> {
  mkdirSync(opts.dataDir, { recursive: true });
  await stopLeftover(opts.dataDir, opts.log);
  const address = `127.0.0.1:${opts.port}`;
  const child = spawn(temporalCliPath(opts.cliPath), devServerArgs(opts), {
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: a Ctrl-C in the terminal reaches `serve` alone, whose worker drains
    // against a server still up, and which stops the server last.
    detached: true,
  });
  const pidFile = join(opts.dataDir, PID_FILE);
  if (child.pid) writeFileSync(pidFile, String(child.pid));
  const output = new ServerOutput();
  const keep = (chunk: Buffer) => output.add(chunk.toString());
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Its own process group keeps it out of the terminal's Ctrl-C, so a process.exit that skips the
  // orderly stop (a second Ctrl-C) would leave it running, with its ports and its database: it is
  // told to stop on the way out, at least.
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    rmSync(pidFile, { force: true });
  };
  process.on('exit', onExit);
  const stop = async () => {
    process.removeListener('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(pidFile, { force: true });
  };
  try {
    await waitUntilServing(address, child, Date.now() + (opts.startTimeoutMs ?? 30_000));
  } catch (err) {
    await stop();
    const failure = new Error(`${(err as Error).message}\n${output.text.trim()}`, { cause: err });
    throw Object.assign(failure, { panicked: isStartupPanic(child.exitCode, output.text) });
  }
  child.stdout?.off('data', keep);
  child.stderr?.off('data', keep);
  child.stdout?.resume();
  child.stderr?.resume();
  opts.log.debug('temporal dev server started', { address, pid: child.pid });
  return { address, uiUrl: `http://127.0.0.1:${opts.uiPort}`, stop };
}
