// `voipbin-agent simulate` as a developer runs it: the scenario set under test/scenarios/ against
// the agent on the built-in simulator and fake model. One scenario must fail, and does.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { AgentProcess } from '../helpers/cli';

const SCENARIOS = join(PROJECT_ROOT, 'test', 'scenarios');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-simulate-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function simulate(files: string[]): Promise<{ code: number | null; output: string }> {
  const p = new AgentProcess(
    ['simulate', ...files],
    { AGENT_CONFIG: join(SCENARIOS, 'agent.config.json') },
    dir,
  );
  const code = await p.exited();
  return { code, output: p.output };
}

/** Every scenario of the set, and the one that must fail, as `npm test` runs them. */
const SET = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => join(SCENARIOS, f));
const FAILING = join(SCENARIOS, 'failing', 'wrong-answer.yaml');

it("passes the scenario set and fails the broken scenario, with each turn's latencies; exit 1", async () => {
  const { code, output } = await simulate([...SET, FAILING]);
  const verdicts = output.split('\n').filter((l) => /^(PASS|FAIL) {2}/.test(l));
  expect(verdicts.map((l) => l.replace(/^(PASS|FAIL) {2}.*\((.*)\)$/, '$1 $2'))).toEqual([
    ...SET.map((f) => `PASS ${f}`),
    `FAIL ${FAILING}`,
  ]);
  expect(SET.length).toBeGreaterThanOrEqual(5);
  expect(output).toMatch(
    /^ {2}ok {4}the agent says "You said: What are your opening hours\." within 1500 ms: \d+ ms after the caller's words/m,
  );
  expect(output).toMatch(/^ {2}ok {4}the caller barges in: at \+\d+\.\d{3}s$/m);
  expect(output).toMatch(/^ {2}ok {4}the agent reprompts: at \+\d+\.\d{3}s$/m);
  // The failure says what was expected and what the agent said instead, then shows the call.
  expect(output).toMatch(
    /^ {2}FAIL {2}the agent says "We are open from nine to five\." within 1500 ms: not after .*the agent said /m,
  );
  expect(output).toContain('  the call:');
  expect(output).toMatch(
    /^ {2}turn 1: first token \d+ ms, first sentence \d+ ms, first \/say \d+ ms \(completed\)$/m,
  );
  expect(output.trimEnd().split('\n').at(-1)).toBe(`${SET.length} passed, 1 failed`);
  expect(code).toBe(1);
}, 180_000);

it('the scenario set alone passes: exit 0', async () => {
  const { code, output } = await simulate([join(SCENARIOS, 'question-answered.yaml')]);
  expect(output.trimEnd().split('\n').at(-1)).toBe('1 passed, 0 failed');
  expect(code).toBe(0);
}, 60_000);

it('refuses a malformed scenario before placing any call, naming the file and the field', async () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'caller:\n  - shout: hello\nexpect:\n  - agent: hi\n');
  const { code, output } = await simulate([join(SCENARIOS, 'question-answered.yaml'), bad]);
  expect(code).toBe(1);
  expect(output).toContain(`scenario ${bad} is not valid`);
  expect(output).toContain('caller');
  expect(output).not.toContain('PASS');
});
