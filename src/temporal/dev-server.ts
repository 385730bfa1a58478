import { Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger';
import { temporalCliPath } from './binaries';

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
    '--log-level',
    'warn',
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

/** Starts `temporal server start-dev` as a child process and waits until it answers. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  mkdirSync(opts.dataDir, { recursive: true });
  const address = `127.0.0.1:${opts.port}`;
  const child = spawn(temporalCliPath(opts.cliPath), devServerArgs(opts), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    await waitUntilServing(address, child, Date.now() + (opts.startTimeoutMs ?? 30_000));
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output.trim()}`, { cause: err });
  }
  child.stdout?.off('data', keep);
  child.stderr?.off('data', keep);
  child.stdout?.resume();
  child.stderr?.resume();
  opts.log.debug('temporal dev server started', { address, pid: child.pid });
  return { address, uiUrl: `http://127.0.0.1:${opts.uiPort}`, stop };
}
