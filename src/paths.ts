import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The project's root: the nearest folder above this file whose package.json is ours (src/ or dist/src/). */
function findRoot(start: string): string {
  for (let dir = start; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'voipbin-agent'
    ) {
      return dir;
    }
  }
  throw new Error(`cannot find the voipbin-agent package root above ${start}`);
}

export const PROJECT_ROOT = findRoot(__dirname);
