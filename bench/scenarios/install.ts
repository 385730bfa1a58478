import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PROJECT_ROOT } from '../../src/paths';
import { type Figure, type Scenario, max, median, min, ms } from '../scenario';

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'install-temporal.mjs');
const RUNS = 10;

/** Runs `args` with this Node, without the variables that would make the script skip its check. */
function timeNode(args: string[]): { ms: number; status: number | null; output: string } {
  const env = { ...process.env };
  delete env['TEMPORAL_CLI_PATH'];
  delete env['TEMPORAL_TEST_SERVER_PATH'];
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: PROJECT_ROOT, env, encoding: 'utf8' });
  return { ms: performance.now() - started, status: result.status, output: result.stdout + result.stderr };
}

/** `npm ci` runs scripts/install-temporal.mjs every time: with the binaries in place it must cost nothing. */
export const install: Scenario = {
  name: 'install',
  title: 'idempotent re-install of the Temporal binaries (scripts/install-temporal.mjs, binaries present)',
  async run(): Promise<Figure[]> {
    // The first run installs the binaries if they are missing: not counted.
    const warmUp = timeNode([SCRIPT]);
    if (warmUp.status !== 0) throw new Error(`install-temporal.mjs failed: ${warmUp.output}`);
    const runs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const run = timeNode([SCRIPT]);
      if (run.status !== 0 || run.output !== '')
        throw new Error(`re-install ${i + 1} was not a silent no-op (exit ${run.status}): ${run.output}`);
      runs.push(run.ms);
    }
    const baseline = Array.from({ length: RUNS }, () => timeNode(['-e', '']).ms);
    return [
      { label: 'warm-up run (installs if needed)', value: ms(warmUp.ms), unit: 'ms' },
      { label: 're-install runs', value: RUNS },
      { label: 're-install median', value: ms(median(runs)), unit: 'ms' },
      { label: 're-install max', value: ms(max(runs)), unit: 'ms' },
      { label: 're-install min', value: ms(min(runs)), unit: 'ms' },
      { label: "node -e '' median (startup alone)", value: ms(median(baseline)), unit: 'ms' },
    ];
  },
};
