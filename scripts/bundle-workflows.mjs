#!/usr/bin/env node
// Bundles the call workflows ahead of time (`npm run build:bundle`, after `npm run build`), into
// dist/workflow-bundle.js or the path given: a worker started with WORKFLOW_BUNDLE=<that path>
// loads it instead of bundling as it starts. The image does this (Dockerfile).
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
let bundler;
try {
  bundler = require(join(root, 'dist', 'src', 'workflow-bundle.js'));
} catch (err) {
  console.error(`voipbin-agent: run npm run build first (${err.message.split('\n')[0]})`);
  process.exit(1);
}
const out = resolve(process.argv[2] ?? join(root, 'dist', 'workflow-bundle.js'));
const started = performance.now();
const { bytes, fingerprint } = await bundler.writeCallWorkflowsBundle(out, {
  logger: {
    ...console,
    log: () => undefined,
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
  },
});
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `voipbin-agent: call workflows bundled into ${out} (${bytes} bytes, ${fingerprint}, ${seconds} s)`,
);
