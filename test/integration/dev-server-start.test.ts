// The embedded dev server's start: one that dies of a Go panic before it serves (another process
// took one of the ports it had just picked for its internal services) is started again; one that
// fails for a reason of ours (a port of ours taken) is not, and its error names the cause.
import { chmodSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/logger';
import { temporalCliPath } from '../../src/temporal/binaries';
import { ServerOutput, startDevServer } from '../../src/temporal/dev-server';
import { freePort } from '../helpers/cli';

let dir: string;
const warnings: string[] = [];
const log = {
  debug: () => undefined,
  info: () => undefined,
  warn: (msg: string) => void warnings.push(msg),
  error: () => undefined,
  child: () => log,
} as unknown as Logger;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-dev-start-'));
  warnings.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A CLI that panics as a lost port race does on its first `panics` starts, then is the real one. */
function flakyCli(panics: number): string {
  const script = join(dir, 'temporal');
  const count = join(dir, 'starts');
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      `n=$(cat ${count} 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${count}`,
      `if [ "$n" -le ${panics} ]; then`,
      '  echo "panic: listen tcp 127.0.0.1:41234: bind: address already in use" >&2',
      '  echo "goroutine 1 [running]:" >&2',
      '  exit 2',
      'fi',
      `exec ${temporalCliPath(process.env.TEMPORAL_CLI_PATH)} "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(script, 0o755);
  return script;
}

const options = async (cliPath: string) => ({
  cliPath,
  port: await freePort(),
  uiPort: await freePort(),
  namespace: 'default',
  dataDir: join(dir, 'data'),
  log,
});

it('starts again after a panic at start-up, and serves', async () => {
  const server = await startDevServer(await options(flakyCli(2)));
  try {
    expect(warnings).toEqual([
      'the Temporal dev server panicked as it started: starting it again',
      'the Temporal dev server panicked as it started: starting it again',
    ]);
  } finally {
    await server.stop();
  }
}, 60_000);

it('gives up after three panics, with the panic in the error', async () => {
  await expect(startDevServer(await options(flakyCli(3)))).rejects.toThrow(
    /temporal server exited with code 2\npanic: listen tcp 127\.0\.0\.1:41234: bind: address already in use/,
  );
  expect(warnings).toHaveLength(2);
}, 60_000);

it('does not retry a port of ours that is taken: the CLI says so at once', async () => {
  // The server polls the port until it answers: whatever connects here is dropped.
  const taken: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  try {
    const opts = { ...(await options(flakyCli(0))), port };
    await expect(startDevServer(opts)).rejects.toThrow(/can't set frontend port .*address already in use/);
    expect(warnings).toEqual([]);
    expect(existsSync(join(dir, 'starts'))).toBe(true);
  } finally {
    taken.close();
  }
}, 60_000);

it('keeps the panic line of a long output, and its tail', () => {
  const out = new ServerOutput();
  out.add('noise\npanic: the cause\n');
  for (let i = 0; i < 200; i++) out.add(`goroutine frame ${i} ${'x'.repeat(40)}\n`);
  expect(out.text.startsWith('panic: the cause')).toBe(true);
  expect(out.text.endsWith(`goroutine frame 199 ${'x'.repeat(40)}\n`)).toBe(true);
});
