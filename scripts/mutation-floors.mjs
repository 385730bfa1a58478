#!/usr/bin/env node
// Stryker enforces one threshold over all mutated modules; the call's core is held to a higher
// floor of its own. Reads the report `stryker run` just wrote and fails below a file's floor.
import { readFileSync } from 'node:fs';

const FLOORS = {
  'workflows/call-state.ts': 85,
  'workflows/speech-queue.ts': 85,
};

const report = JSON.parse(readFileSync('reports/mutation/mutation.json', 'utf8'));
let failed = false;
for (const [file, floor] of Object.entries(FLOORS)) {
  const mutants = report.files[file]?.mutants;
  if (!mutants) {
    console.error(`mutation floors: ${file} is not in the report`);
    failed = true;
    continue;
  }
  const detected = mutants.filter((m) => m.status === 'Killed' || m.status === 'Timeout').length;
  const valid = mutants.filter((m) => m.status !== 'CompileError' && m.status !== 'RuntimeError').length;
  const score = (100 * detected) / valid;
  const ok = score >= floor;
  console.log(`mutation floors: ${file} ${score.toFixed(2)}% (floor ${floor}%) ${ok ? 'ok' : 'BELOW'}`);
  if (!ok) failed = true;
}
process.exitCode = failed ? 1 : 0;
