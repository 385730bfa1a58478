// `serve` loads the sandbox (simulator, fake model, demo call) only when it runs without
// VOIPBIN_API_KEY (SPEC §2): with real endpoints it never does. Checked in a process of its own,
// on the build (`npm test` builds first), by the modules it loaded.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';

function sandboxModulesLoaded(config: unknown): string[] {
  const script = `
    const { serveEndpoints } = require(${JSON.stringify(join(PROJECT_ROOT, 'dist', 'src', 'runtime', 'endpoints.js'))});
    const log = { debug() {}, info() {}, warn() {}, error() {}, child() { return log; } };
    const closers = [];
    const stack = { add: (_name, close) => closers.push(close) };
    serveEndpoints(${JSON.stringify(config)}, log, stack)
      .then(async () => {
        process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((m) => m.includes('/sandbox/'))));
        for (const close of closers.reverse()) await close();
      });
  `;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
}

const voipbin = {
  baseUrl: 'https://api.voipbin.net/v1.0',
  allowUnsigned: false,
  events: 'both',
  wsUrl: 'wss://x/ws',
};

it('with VOIPBIN_API_KEY and a model, loads nothing of the sandbox', () => {
  expect(
    sandboxModulesLoaded({ voipbin: { ...voipbin, apiKey: 'k' }, openai: { apiKey: 'o' }, agent: {} }),
  ).toEqual([]);
});

it('without VOIPBIN_API_KEY, runs on the sandbox: the simulator and the fake model are loaded', () => {
  const loaded = sandboxModulesLoaded({ voipbin, openai: {}, agent: { profiles: {}, routes: [] } });
  expect(loaded.some((m) => m.includes('/sandbox/simulator/'))).toBe(true);
  expect(loaded.some((m) => m.includes('/sandbox/fake-llm/'))).toBe(true);
});
