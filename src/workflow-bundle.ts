import { bundleWorkflowCode, type Logger, type WorkflowBundle } from '@temporalio/worker';
import { version as workflowSdkVersion } from '@temporalio/workflow/package.json';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ConfigError } from './config-error';
import { PROJECT_ROOT } from './paths';
import { CALL_WORKFLOWS_PATH } from './worker';

export interface CallWorkflowsBundleOptions {
  /**
   * Workflow interceptor modules to bundle besides the SDK's own (OpenTelemetry's, say). A bundle
   * holds the interceptors it was built with, whatever the worker is given later: the build step and
   * the worker must pass the same list, and a bundle built with another list is refused.
   */
  workflowInterceptorModules?: readonly string[];
  /** Where webpack's warnings go; by default nowhere. */
  logger?: Logger;
}

/** Webpack's output while bundling, dropped (tests bundle quietly too). */
export const QUIET_BUNDLER: Logger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * The call workflows as one bundle: what a worker runs. The one place that decides what goes into
 * it, used both ahead of time (`npm run build:bundle`, the image) and by a worker that bundles as it
 * starts.
 */
export async function bundleCallWorkflows(opts: CallWorkflowsBundleOptions = {}): Promise<{ code: string }> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: CALL_WORKFLOWS_PATH,
    workflowInterceptorModules: [...(opts.workflowInterceptorModules ?? [])],
    logger: opts.logger ?? QUIET_BUNDLER,
  });
  return { code };
}

/** The first line of a bundle file: its fingerprint. A comment, so the line numbers of the code move by one only. */
const HEADER = '// voipbin-agent call workflows bundle ';

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    })
    .filter((path) => /\.[cm]?[jt]s$/.test(path) && !path.endsWith('.d.ts'));
}

/**
 * What the bundle is made of in this build: the workflow modules (every file beside
 * CALL_WORKFLOWS_PATH), the SDK's version, and the interceptor modules. A bundle whose fingerprint
 * differs was built from other code than the worker's.
 */
export function bundleFingerprint(opts: CallWorkflowsBundleOptions = {}): string {
  const hash = createHash('sha256');
  const dir = dirname(CALL_WORKFLOWS_PATH);
  for (const file of filesUnder(dir).sort()) {
    hash
      .update(`${relative(dir, file)}\0`)
      .update(readFileSync(file))
      .update('\0');
  }
  hash.update(`@temporalio/workflow@${workflowSdkVersion}\0`);
  for (const module of opts.workflowInterceptorModules ?? []) {
    hash.update(`interceptor ${module.startsWith(PROJECT_ROOT) ? relative(PROJECT_ROOT, module) : module}\0`);
  }
  return hash.digest('hex').slice(0, 32);
}

/** Bundles the call workflows into `path`, headed by their fingerprint (`npm run build:bundle`). */
export async function writeCallWorkflowsBundle(
  path: string,
  opts: CallWorkflowsBundleOptions = {},
): Promise<{ bytes: number; fingerprint: string }> {
  const fingerprint = bundleFingerprint(opts);
  const { code } = await bundleCallWorkflows(opts);
  const text = `${HEADER}${fingerprint}\n${code}`;
  writeFileSync(path, text);
  return { bytes: Buffer.byteLength(text), fingerprint };
}

/**
 * The bundle at `path` (WORKFLOW_BUNDLE), if it was built from this build's workflows with the
 * same interceptors; a ConfigError naming the variable otherwise. Running another build's workflow
 * code would break the calls in flight on replay, or run without the interceptors it should have.
 */
export function readCallWorkflowsBundle(
  path: string,
  opts: CallWorkflowsBundleOptions = {},
): Extract<WorkflowBundle, { code: string }> {
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new ConfigError(`WORKFLOW_BUNDLE ${path} does not exist (npm run build:bundle writes one)`);
  }
  const text = readFileSync(path, 'utf8');
  const newline = text.indexOf('\n');
  if (!text.startsWith(HEADER) || newline < 0) {
    throw new ConfigError(
      `WORKFLOW_BUNDLE ${path} is not a call workflows bundle (npm run build:bundle writes one)`,
    );
  }
  const built = text.slice(HEADER.length, newline).trim();
  const expected = bundleFingerprint(opts);
  if (built !== expected) {
    throw new ConfigError(
      `WORKFLOW_BUNDLE ${path} was built from other workflow code or interceptors than this build runs ` +
        `(bundle ${built}, this build ${expected}): run npm run build:bundle again, or unset WORKFLOW_BUNDLE`,
    );
  }
  return { code: text.slice(newline + 1) };
}
