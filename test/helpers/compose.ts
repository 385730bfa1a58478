import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';

const INSTALL_HINT =
  'Docker Compose v2 or later is needed to check docker-compose.yml: install Docker Compose ' +
  '(`docker compose`), or run `bash scripts/install-compose.sh` (needs Go), which builds the ' +
  "pinned one into .tools/bin as the project's CI does";

function majorVersion(command: string[]): number | undefined {
  const [bin, ...args] = command as [string, ...string[]];
  const probe = spawnSync(bin, [...args, 'version', '--short'], { encoding: 'utf8' });
  if (probe.status !== 0) return undefined;
  const major = /^v?(\d+)\./.exec(probe.stdout.trim())?.[1];
  return major === undefined ? undefined : Number(major);
}

/**
 * The Docker Compose command to run: the one scripts/install-compose.sh built into .tools/bin, else
 * `docker compose`, else a `docker-compose` of version 2 or later (version 1 reads another schema).
 * None: built by scripts/install-compose.sh; failing that, an error that says how to get one, never
 * a skipped test.
 */
export function composeCommand(): string[] {
  const found = findCompose();
  if (found) return found;
  // None installed: the project's own step builds the pinned one (needs Go), as CI does, so that
  // `npm test` on a fresh clone passes too; it fails with its reason when it cannot.
  const install = spawnSync('bash', [join(PROJECT_ROOT, 'scripts', 'install-compose.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const built = findCompose();
  if (built) return built;
  throw new Error(
    `${INSTALL_HINT}\n(scripts/install-compose.sh: ${install.stderr.trim() || `exit ${install.status}`})`,
  );
}

function findCompose(): string[] | undefined {
  const candidates = [
    [join(PROJECT_ROOT, '.tools', 'bin', 'docker-compose')],
    ['docker', 'compose'],
    ['docker-compose'],
  ];
  for (const command of candidates) {
    if (command.length === 1 && command[0]!.startsWith('/') && !existsSync(command[0]!)) continue;
    if ((majorVersion(command) ?? 0) >= 2) return command;
  }
  return undefined;
}

export interface ComposeResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `docker compose config --format json` on the project's docker-compose.yml (and `extraFiles`), with
 * `dotenv` as its .env and nothing else: no variable from the shell, and not a developer's own .env.
 */
export function composeConfig(
  command: string[],
  dotenv: Record<string, string>,
  extraFiles: string[] = [],
): ComposeResult {
  const dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-compose-'));
  try {
    const envFile = join(dir, '.env');
    writeFileSync(
      envFile,
      Object.entries(dotenv)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    const files = [join(PROJECT_ROOT, 'docker-compose.yml'), ...extraFiles].flatMap((f) => ['-f', f]);
    const [bin, ...args] = command as [string, ...string[]];
    const result = spawnSync(
      bin,
      [
        ...args,
        '--project-directory',
        PROJECT_ROOT,
        ...files,
        '--env-file',
        envFile,
        'config',
        '--format',
        'json',
      ],
      { encoding: 'utf8', cwd: dir, env: { PATH: process.env.PATH ?? '', HOME: dir } },
    );
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
