import { Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporalCliPath } from '../../src/temporal/binaries';
import {
  ServerOutput,
  devServerArgs,
  isStartupPanic,
  retryingStartupPanics,
} from '../../src/temporal/dev-server';
import { freePort } from './cli';
import { waitFor } from './wait-for';

/**
 * `temporal server start-dev` as its own process, on a database file, with the flags `serve`
 * uses: a test can SIGKILL it and start it again on the same port and database, as an operator's
 * server crashes and comes back.
 */
export class TemporalServer {
  private child?: ChildProcess;
  private output = new ServerOutput();

  private constructor(
    readonly port: number,
    private readonly uiPort: number,
    readonly dataDir: string,
  ) {}

  static async start(): Promise<TemporalServer> {
    const server = new TemporalServer(
      await freePort(),
      await freePort(),
      mkdtempSync(join(tmpdir(), 'voipbin-agent-temporal-')),
    );
    await server.up();
    return server;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The server process, while it runs (benchmarks read its memory and CPU). */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the server (again) and waits until it answers; a start that panicked is tried again. */
  up(): Promise<void> {
    return retryingStartupPanics(
      () => this.upOnce(),
      () => isStartupPanic(this.child?.exitCode ?? null, this.output.text),
    );
  }

  private async upOnce(): Promise<void> {
    this.output = new ServerOutput();
    const args = devServerArgs({
      port: this.port,
      uiPort: this.uiPort,
      namespace: 'default',
      dataDir: this.dataDir,
    });
    this.child = spawn(temporalCliPath(process.env.TEMPORAL_CLI_PATH), [...args, '--headless'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => this.output.add(d.toString());
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    await waitFor(
      async () => {
        if (!this.running) throw new Error(`temporal server exited:\n${this.output.text}`);
        try {
          const connection = await Connection.connect({ address: this.address, connectTimeout: 1000 });
          try {
            await connection.healthService.check({});
            return true;
          } finally {
            await connection.close();
          }
        } catch {
          return false;
        }
      },
      'the Temporal server',
      30_000,
    );
  }

  /** SIGKILL: no shutdown, as a crash. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
