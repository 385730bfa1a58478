import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { freePort as freePortIn, PORT_RANGE } from '../../src/runtime/free-port';
import { readFileSync } from 'node:fs';
import { waitFor } from './wait-for';

const BIN = join(PROJECT_ROOT, 'bin', 'voipbin-agent.js');

/**
 * A free port for a test to hand to a server. Jest's workers run side by side, so each draws from
 * its own eighth of the range and two of them never draw the same port between one's check and its
 * server's listen.
 */
export function freePort(): Promise<number> {
  const worker = Number(process.env.JEST_WORKER_ID);
  if (!Number.isInteger(worker) || worker < 1) return freePortIn();
  const size = Math.floor((PORT_RANGE.last - PORT_RANGE.first + 1) / 8);
  const first = PORT_RANGE.first + ((worker - 1) % 8) * size;
  return freePortIn({ first, last: first + size - 1 });
}

export { alive } from '../../src/runtime/processes';

/** The pids of a process's children (Linux: /proc). */
export function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

/** Something accepts TCP connections on the port (HTTP or gRPC alike). */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setTimeout(500);
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

/** `voipbin-agent <command>` as a user runs it, with only the given environment (and PATH). */
export class AgentProcess {
  readonly child: ChildProcess;
  private text = '';
  /** Each stream on its own: lines from the two do not interleave mid-line here. */
  readonly streams = { stdout: '', stderr: '' };

  constructor(args: string[], env: Record<string, string>, cwd: string) {
    if (!existsSync(join(PROJECT_ROOT, 'dist', 'src', 'cli.js'))) {
      throw new Error('dist/ is missing: run `npm run build` (npm test does) before the CLI tests');
    }
    this.child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.text += d.toString();
      this.streams.stdout += d.toString();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.text += d.toString();
      this.streams.stderr += d.toString();
    });
  }

  get output(): string {
    return this.text;
  }

  /** Waits until GET `path` on `port` answers 200; fails at once if the process exits. */
  async waitReady(port: number, path = '/readyz', timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => {
        if (this.child.exitCode !== null) throw new Error(`voipbin-agent exited early:\n${this.text}`);
        const res = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
        return res?.status === 200;
      },
      `voipbin-agent on port ${port}`,
      timeoutMs,
    );
  }

  /** Waits until the output contains `text`. */
  waitOutput(text: string, timeoutMs = 60_000): Promise<true> {
    return waitFor(
      () => {
        if (this.child.exitCode !== null && !this.text.includes(text)) {
          throw new Error(`voipbin-agent exited early:\n${this.text}`);
        }
        return this.text.includes(text);
      },
      `"${text}" in the output`,
      timeoutMs,
    );
  }

  exited(): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child.exitCode === null) this.child.kill(signal);
  }
}

/**
 * The environment of `voipbin-agent serve` against a simulator and a fake model: its ingress on
 * 127.0.0.1:`port`, its embedded Temporal server on `temporalPort` (UI `uiPort`), its data under
 * `dataDir`; `extra` adds to it or overrides it.
 */
export function serveEnv(
  sim: { baseUrl: string; accessKey: string; customer: { webhookSecret: string } },
  llmBaseUrl: string,
  at: { port: number; temporalPort: number; uiPort: number; dataDir: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    VOIPBIN_BASE_URL: sim.baseUrl,
    VOIPBIN_API_KEY: sim.accessKey,
    VOIPBIN_WEBHOOK_SECRET: sim.customer.webhookSecret,
    OPENAI_BASE_URL: llmBaseUrl,
    PORT: String(at.port),
    HOST: '127.0.0.1',
    TEMPORAL_DEV_PORT: String(at.temporalPort),
    TEMPORAL_DEV_UI_PORT: String(at.uiPort),
    DATA_DIR: at.dataDir,
    ...extra,
  };
}

/** The agent processes a test file starts, stopped together at its end. */
export class AgentProcesses {
  private readonly started: AgentProcess[] = [];

  /** `cwd`: read when each process starts (a test file makes its folder in `beforeAll`). */
  constructor(private readonly cwd: () => string) {}

  start(args: string[], vars: Record<string, string>): AgentProcess {
    const p = new AgentProcess(args, vars, this.cwd());
    this.started.push(p);
    return p;
  }

  /** SIGKILL, for processes with no embedded Temporal server of their own (TEMPORAL_ADDRESS set). */
  async killAll(): Promise<void> {
    for (const p of this.started) p.kill();
    await Promise.all(this.started.map((p) => p.exited()));
  }

  /**
   * SIGTERM, then SIGKILL for any still running after `graceMs`: `serve` stops its embedded Temporal
   * server on the way out, which a SIGKILL would leave running.
   */
  async stopAll(graceMs = 30_000): Promise<void> {
    for (const p of this.started) p.kill('SIGTERM');
    const timer = setTimeout(() => this.started.forEach((p) => p.kill()), graceMs);
    try {
      await Promise.all(this.started.map((p) => p.exited()));
    } finally {
      clearTimeout(timer);
    }
  }
}
