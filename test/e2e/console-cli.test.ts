// `voipbin-agent console` as a developer uses it: in a real terminal (tmux), typing as the caller.
// A question answered, a barge-in, a reprompt after silence, /hangup with the call's timeline; and
// with lines piped in, on a model of OPENAI_BASE_URL and a Temporal server that outlives the
// console, where `inspect` finds the call afterwards.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PROJECT_ROOT } from '../../src/paths';
import { defaultReply, startFakeLlm, type FakeLlm } from '../../src/sandbox/fake-llm/server';
import { AgentProcess, alive, childrenOf } from '../helpers/cli';
import { localEnv } from '../helpers/temporal-env';
import { TmuxTerminal, requireTmux } from '../helpers/tmux';
import { waitFor } from '../helpers/wait-for';

const BIN = join(PROJECT_ROOT, 'bin', 'voipbin-agent.js');
const AGENT_CONFIG = join(PROJECT_ROOT, 'test', 'scenarios', 'agent.config.json');
/** Routed to the `default` profile (silence: 30 s) and to `quiet` (2 s, one reprompt). */
const DEFAULT_NUMBER = '+15550100000';
const QUIET_NUMBER = '+15550100002';
const GREETING = 'agent> Hello, thanks for calling. How can I help?';
/** The fake model repeats it: a first sentence of 7 s at the simulator's 15 characters a second. */
const LONG_QUESTION =
  'Tell me everything you can about my account and all of its cards, and read me every transaction from last year please.';

/** How long the simulator plays a text (15 characters a second), and a little more. */
function played(text: string): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.ceil((text.length / 15) * 1000) + 500));
}

let dir: string;
let terminal: TmuxTerminal | undefined;

beforeAll(() => {
  requireTmux();
  if (!existsSync(join(PROJECT_ROOT, 'dist', 'src', 'cli.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npm test does) before the CLI tests');
  }
  dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-console-'));
});

afterEach(async () => {
  // A console still running is hung up, so that it stops its Temporal server; then the terminal goes.
  if (terminal && !terminal.screen().includes('[console exited')) {
    terminal.keys('C-c');
    await terminal.waitFor('[console exited', 30_000).catch(() => undefined);
  }
  terminal?.close();
  terminal = undefined;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `console` in a new terminal, with only PATH, TERM and the agent config in its environment. */
function startConsole(args: string[]): TmuxTerminal {
  const script = join(dir, `console-${Date.now()}.sh`);
  const quoted = args.map((a) => `'${a}'`).join(' ');
  writeFileSync(
    script,
    [
      `cd '${dir}'`,
      `env -i PATH='${process.env.PATH ?? ''}' TERM=tmux-256color AGENT_CONFIG='${AGENT_CONFIG}' '${process.execPath}' '${BIN}' console ${quoted}`,
      'echo "[console exited: $?]"',
      'sleep 600',
    ].join('\n'),
  );
  terminal = new TmuxTerminal();
  terminal.start(`sh '${script}'`);
  return terminal;
}

/** The lines of the screen that start with one of the prefixes, in order. */
function linesOf(screen: string, ...prefixes: string[]): string[] {
  return screen.split('\n').filter((l) => prefixes.some((p) => l.startsWith(p)));
}

it('answers a question, stops when talked over, and on /hangup prints the call and where to see it', async () => {
  const t = startConsole(['--to', DEFAULT_NUMBER]);
  const intro = await t.waitFor(GREETING, 60_000);
  await t.waitFor(/^you>\s*$/m);
  // While the session runs, its call page and the call's Temporal UI page answer.
  const page = /call page {4}(http:\/\/127\.0\.0\.1:\d+\/calls\/([0-9a-f-]{36}))/.exec(intro);
  const ui =
    /Temporal UI {2}(http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/call-([0-9a-f-]{36}))/.exec(
      intro,
    );
  expect(page && ui).toBeTruthy();
  const callId = page![2]!;
  expect(ui![2]).toBe(callId);
  expect((await fetch(page![1]!)).status).toBe(200);
  expect((await fetch(ui![1]!)).status).toBe(200);
  expect(intro).toContain('model        the built-in fake model');

  // A question answered (once the greeting has played): the reply's sentences, as they start playing.
  await played(GREETING.slice('agent> '.length));
  t.type('What are your opening hours?');
  await t.waitFor('agent> How else can I help you today?');
  expect(t.screen()).toMatch(/^agent> You said: What are your opening hours\. {2}\(answered in \d+ ms\)$/m);
  // Not said over the reply's last sentence.
  await played('How else can I help you today?');

  // A barge-in: typed while the agent says the long sentence.
  t.type(LONG_QUESTION);
  await t.waitFor(`agent> You said: ${LONG_QUESTION}`);
  t.type('Stop, just the balance please.');
  await t.waitFor('agent> You said: Stop, just the balance please.');
  const talk = t.screen();
  expect(talk).toContain(`[barge-in: agent stopped]  cut off: "You said: ${LONG_QUESTION}"`);
  const said = linesOf(talk, 'agent> ', 'you> ', '[barge-in')
    .filter((l) => l.trim() !== 'you>') // the prompt
    .map((l) => l.replace(/ {2}\(.*$/, '')); // the notes
  expect(said.slice(0, said.indexOf('agent> You said: Stop, just the balance please.') + 1)).toEqual([
    GREETING,
    'you> What are your opening hours?',
    'agent> You said: What are your opening hours.',
    'agent> How else can I help you today?',
    `you> ${LONG_QUESTION}`,
    `agent> You said: ${LONG_QUESTION}`,
    'you> Stop, just the balance please.',
    expect.stringMatching(/^\[barge-in: agent stopped\] {2}cut off: "You said: Tell me everything/),
    'agent> You said: Stop, just the balance please.',
  ]);
  // What the workflow recorded: the barge-in flushed the line being played.
  const recorded = (await (await fetch(`${page![1]!}?format=json`)).json()) as {
    entries: { kind: string; flushed?: boolean; interrupted?: string }[];
  };
  expect(recorded.entries.filter((e) => e.kind === 'barge-in')).toEqual([
    expect.objectContaining({ flushed: true, interrupted: `You said: ${LONG_QUESTION}` }),
  ]);

  t.type('/frobnicate');
  await t.waitFor('unknown command /frobnicate: /help lists the commands');
  t.type('/help');
  await t.waitFor(/^ {2}\/hangup {2}hang up/m);

  t.type('/hangup');
  const end = await t.waitFor('[console exited: 0]', 60_000);
  expect(end).toContain('[you hung up]');
  expect(end).toContain(
    `The call, as its workflow recorded it (what \`voipbin-agent inspect ${callId}\` prints):`,
  );
  expect(end).toContain('3 turn(s), 1 barge-in(s), 0 reprompt(s)');
  expect(end).toMatch(/^ {4}\+\d+\.\d{3}s +barge-in +.*flushed, cutting off "You said: Tell me everything/m);
  expect(end).toMatch(/^ {4}\+\d+\.\d{3}s +ended +caller-hangup$/m);
  expect(end).toContain("The call lived on this console's own Temporal server, which stops now");
  // And so it is: the session's pages are gone with it.
  await expect(fetch(page![1]!)).rejects.toThrow();
}, 150_000);

it('reprompts after a silence, and ends when the agent hangs up', async () => {
  const t = startConsole(['--to', QUIET_NUMBER]);
  await t.waitFor(GREETING, 60_000);
  expect(t.screen()).toContain('Quiet for 2 s, the agent reprompts');
  await t.waitFor('agent> Are you still there?  (silence reprompt)', 15_000);
  await t.waitFor('agent> Thank you for calling. Goodbye.', 15_000);
  const end = await t.waitFor('[console exited: 0]', 60_000);
  expect(end).toContain('[the agent hung up]');
  expect(end).toContain('0 turn(s), 0 barge-in(s), 1 reprompt(s)');
  expect(end).toMatch(/^ {4}\+\d+\.\d{3}s +agent +"Are you still there\?" {2}\[reprompt\]$/m);
  expect(end).toMatch(/^ {4}\+\d+\.\d{3}s +ended +silence$/m);
}, 120_000);

it('a second Ctrl-C exits at once, and leaves no Temporal server running and no data behind', async () => {
  const child = spawn(process.execPath, [BIN, 'console', '--to', DEFAULT_NUMBER], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', AGENT_CONFIG },
    // Lines piped in: Ctrl-C comes as a signal, as from a terminal's process group or `kill -INT`.
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let server: number | undefined;
  try {
    await waitFor(() => output.includes(GREETING), 'the greeting', 60_000);
    // Its own Temporal dev server, on a database in a temporary folder.
    server = childrenOf(child.pid!).find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev'),
    );
    expect(server).toBeDefined();
    const args = readFileSync(`/proc/${server}/cmdline`, 'utf8').split('\0');
    const data = dirname(args[args.indexOf('--db-filename') + 1]!);
    expect(existsSync(data)).toBe(true);

    // The first hangs up and begins the orderly stop; the second, sent once the first is taken
    // (two at once are one to the kernel), cuts it short.
    child.kill('SIGINT');
    await waitFor(() => output.includes('[you hung up]'), 'the hangup', 30_000);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    await waitFor(() => !alive(server!), 'the Temporal dev server to stop', 15_000);
    expect(existsSync(data)).toBe(false);
  } finally {
    child.kill('SIGKILL');
    if (server !== undefined && alive(server)) process.kill(server, 'SIGKILL');
  }
}, 90_000);

describe('with lines piped in, a model of OPENAI_BASE_URL and a Temporal server of TEMPORAL_ADDRESS', () => {
  let env: TestWorkflowEnvironment;
  let llm: FakeLlm;

  beforeAll(async () => {
    [env, llm] = await Promise.all([
      localEnv(),
      startFakeLlm({
        reply: (req) => {
          const said = String(req.messages.at(-1)?.content ?? '');
          if (said.includes('hours')) return { text: 'We open at nine. We close at five.' };
          return defaultReply(req);
        },
      }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await llm?.close();
    await env?.teardown();
  });

  it('says each line once the agent has answered the one before, hangs up at the end of the input, and inspect finds the call afterwards', async () => {
    const vars = {
      PATH: process.env.PATH ?? '',
      AGENT_CONFIG,
      OPENAI_BASE_URL: llm.baseUrl,
      TEMPORAL_ADDRESS: env.address,
    };
    const child = spawn(process.execPath, [BIN, 'console', '--to', DEFAULT_NUMBER], {
      cwd: dir,
      env: vars,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.stdin.end('What are your hours?\n/nonsense\nThanks.\n');
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(output).toContain(`model        ${llm.baseUrl}`);
    expect(output).toMatch(
      /temporal {5}127\.0\.0\.1:\d+ \(TEMPORAL_ADDRESS\), task queue console-[0-9a-f]{8}/,
    );
    expect(
      linesOf(output, 'agent> ', 'you> ', 'unknown', '[').map((l) => l.replace(/ {2}\(.*$/, '')),
    ).toEqual([
      GREETING,
      'you> What are your hours?',
      'agent> We open at nine.',
      'agent> We close at five.',
      'you> /nonsense',
      'unknown command /nonsense: /help lists the commands (a line without / is said to the agent)',
      'you> Thanks.',
      'agent> You said: Thanks.',
      'agent> How else can I help you today?',
      '[you hung up]',
    ]);
    // The model of OPENAI_BASE_URL answered both.
    expect(llm.requests.length).toBeGreaterThanOrEqual(2);
    const callId = /^ {2}call {9}([0-9a-f-]{36}) /m.exec(output)?.[1];
    expect(callId).toBeDefined();
    expect(output).toContain(`The call stays on ${env.address}: \`voipbin-agent inspect ${callId}\``);

    // The console is gone; the call is still there.
    const inspect = new AgentProcess(['inspect', callId!], { TEMPORAL_ADDRESS: env.address }, dir);
    expect(await inspect.exited()).toBe(0);
    expect(inspect.output).toMatch(/^ {2}\+\d+\.\d{3}s +caller +"What are your hours\?"$/m);
    expect(inspect.output).toMatch(/^ {2}\+\d+\.\d{3}s +ended +caller-hangup$/m);
  }, 120_000);
});
