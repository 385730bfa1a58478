import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../paths';

/** Where `npm install` put the pinned Temporal binaries (scripts/install-temporal.mjs). */
export const TEMPORAL_BIN_DIR = join(PROJECT_ROOT, '.temporal', 'bin');

function resolveBinary(override: string | undefined, name: string, variable: string): string {
  const path = override ?? join(TEMPORAL_BIN_DIR, name);
  if (!existsSync(path)) {
    throw new Error(
      `${name} not found at ${path}. Run \`npm install\` (it installs the pinned Temporal binaries) or set ${variable}.`,
    );
  }
  return path;
}

export function temporalCliPath(override?: string): string {
  return resolveBinary(override, 'temporal', 'TEMPORAL_CLI_PATH');
}

export function temporalTestServerPath(override?: string): string {
  return resolveBinary(override, 'temporal-test-server', 'TEMPORAL_TEST_SERVER_PATH');
}
