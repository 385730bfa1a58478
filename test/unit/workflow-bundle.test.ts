// What decides a workflow bundle, apart from its use by a worker (test/e2e/prebuilt-bundle.test.ts):
// the interceptor modules go into it, and a bundle built with other interceptors than a worker
// runs is refused, as one built from other workflow code is.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config-error';
import { bundleCallWorkflows, bundleFingerprint, readCallWorkflowsBundle } from '../../src/workflow-bundle';

const INTERCEPTORS = require.resolve('../fixtures/marking-interceptors');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-bundle-unit-'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('bundles the extra workflow interceptor modules it is given, and only those', async () => {
  const [plain, intercepted] = await Promise.all([
    bundleCallWorkflows(),
    bundleCallWorkflows({ workflowInterceptorModules: [INTERCEPTORS] }),
  ]);
  expect(intercepted.code).toContain('marking-interceptors: bundled');
  expect(plain.code).not.toContain('marking-interceptors: bundled');
}, 30_000);

describe('a bundle file is run only by the build and interceptors it was made for', () => {
  const file = (name: string, fingerprint: string) => {
    const path = join(dir, name);
    writeFileSync(path, `// voipbin-agent call workflows bundle ${fingerprint}\nthe bundled code\n`);
    return path;
  };

  it("loads one headed by this build's fingerprint, without its header", () => {
    expect(readCallWorkflowsBundle(file('same.js', bundleFingerprint()))).toEqual({
      code: 'the bundled code\n',
    });
  });

  it('refuses one built with other interceptors, either way', () => {
    const plain = file('plain.js', bundleFingerprint());
    const intercepted = file(
      'intercepted.js',
      bundleFingerprint({ workflowInterceptorModules: [INTERCEPTORS] }),
    );
    expect(() => readCallWorkflowsBundle(plain, { workflowInterceptorModules: [INTERCEPTORS] })).toThrow(
      ConfigError,
    );
    expect(() => readCallWorkflowsBundle(intercepted)).toThrow(
      /WORKFLOW_BUNDLE .* was built from other workflow code or interceptors/,
    );
    expect(readCallWorkflowsBundle(intercepted, { workflowInterceptorModules: [INTERCEPTORS] }).code).toBe(
      'the bundled code\n',
    );
  });
});
