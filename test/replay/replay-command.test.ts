// `voipbin-agent replay` over history files, through the command's own code: what a developer runs
// before a deploy. No Temporal server, no keys.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportHistory } from '../../src/commands/export';
import { replay } from '../../src/commands/replay';
import { UsageError } from '../../src/commands/usage';
import { HistoryError } from '../../src/histories';
// Installs a quiet Runtime: the replay worker's own log lines are not what these tests read.
import '../helpers/temporal-env';

const DIR = join(__dirname, 'histories');
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => join(DIR, f));
const CHANGED = join(__dirname, 'changed-workflow.ts');

interface History {
  events: {
    workflowExecutionStartedEventAttributes?: { workflowId: string };
    activityTaskScheduledEventAttributes?: { activityType: { name: string } };
  }[];
}
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as History;
const workflowIdOf = (file: string) =>
  read(file).events[0]!.workflowExecutionStartedEventAttributes!.workflowId;

async function run(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await replay(args, (line) => lines.push(line));
  return { code, lines };
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'voipbin-agent-replay-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('replays every committed history against the current workflows: one ok line each, exit 0', async () => {
  const { code, lines } = await run(FILES);
  expect(lines).toEqual(FILES.map((file) => `ok    ${file}`));
  expect(code).toBe(0);
}, 60_000);

it('against a changed workflow, names every file and its call, and exits 1', async () => {
  const { code, lines } = await run(['--workflows', CHANGED, ...FILES]);
  // Each where the changed workflow first differs from it (a continued run starts from carried state).
  expect(
    lines.slice(0, -1).map((line) => line.slice(0, line.indexOf(': [TMPRL1100] Nondeterminism error: '))),
  ).toEqual(FILES.map((file) => `FAIL  ${file}`));
  expect(lines.at(-1)).toBe(
    `${FILES.length} of ${FILES.length} histories do not replay against ${CHANGED}: ${[...new Set(FILES.map(workflowIdOf))].join(', ')}`,
  );
  expect(code).toBe(1);
}, 60_000);

it('tells the history that no longer replays from those that do, in one run', async () => {
  // The first activity renamed: what a workflow that calls another activity at that step meets.
  const [good1, source, good2] = [
    'barge-in-and-end-call.json',
    'silence-reprompt-goodbye.json',
    'speaking-session-gone.json',
  ].map((name) => join(DIR, name)) as [string, string, string];
  const history = read(source);
  history.events.find(
    (e) => e.activityTaskScheduledEventAttributes,
  )!.activityTaskScheduledEventAttributes!.activityType.name = 'speak';
  const broken = join(tmp, 'renamed-activity.json');
  writeFileSync(broken, JSON.stringify(history));
  const { code, lines } = await run([good1, broken, good2]);
  expect(lines).toEqual([
    `ok    ${good1}`,
    `FAIL  ${broken}: [TMPRL1100] Nondeterminism error: Activity type of scheduled event 'speak' does not match activity type of activity command 'say'`,
    `ok    ${good2}`,
    `1 of 3 histories do not replay against ${require.resolve('../../workflows')}: ${workflowIdOf(source)}`,
  ]);
  expect(code).toBe(1);
}, 60_000);

it('refuses a file that is missing or not a history, naming it', async () => {
  const notHistory = join(tmp, 'not-a-history.json');
  writeFileSync(notHistory, '{"hello": "world"}');
  for (const file of [join(tmp, 'missing.json'), notHistory]) {
    const refused = run([FILES[0]!, file]);
    await expect(refused).rejects.toBeInstanceOf(HistoryError);
    await expect(refused).rejects.toThrow(`cannot read the history ${file}`);
  }
});

it.each([
  ['no argument', []],
  ['an unknown option', ['--bogus', FILES[0]!]],
  ['--workflows with no value', ['--workflows']],
  ['--workflows naming no file', ['--workflows', join(__dirname, 'nowhere.ts'), FILES[0]!]],
])('refuses %s as a usage error (exit 2)', async (_, args) => {
  await expect(run(args)).rejects.toBeInstanceOf(UsageError);
});

it.each([
  ['no call id', []],
  ['two call ids', ['c1', 'c2']],
  ['an unknown option', ['c1', '--to', 'x']],
])('export refuses %s as a usage error (exit 2)', async (_, args) => {
  await expect(exportHistory(args, () => undefined)).rejects.toBeInstanceOf(UsageError);
});
