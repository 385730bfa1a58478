// `console`'s pure parts: what a typed line means, what is printed, and the line queue of its
// terminal. The session itself is driven in a real terminal by test/e2e/console-cli.test.ts.
import { PassThrough } from 'node:stream';
import { parseConsoleLine } from '../../src/sandbox/console/input';
import { ConsoleTerminal } from '../../src/sandbox/console/terminal';
import {
  ANSI,
  PLAIN,
  agentLine,
  bargeInLine,
  helpLines,
  introLines,
  unknownCommandLine,
  whereAfterLines,
  type SessionView,
} from '../../src/sandbox/console/view';

describe('a typed line', () => {
  it.each([
    ['What are your opening hours?', { kind: 'say', text: 'What are your opening hours?' }],
    ['  two   spaces\tand a tab  ', { kind: 'say', text: 'two spaces and a tab' }],
    ['/hangup', { kind: 'hangup' }],
    [' /HangUp now ', { kind: 'hangup' }],
    ['/help', { kind: 'help' }],
    ['/quit', { kind: 'unknown', command: '/quit' }],
    ['/', { kind: 'unknown', command: '/' }],
    ['', { kind: 'nothing' }],
    ['   ', { kind: 'nothing' }],
    ['Is 1/2 off?', { kind: 'say', text: 'Is 1/2 off?' }],
  ])('%j is %j', (line, action) => {
    expect(parseConsoleLine(line)).toEqual(action);
  });
});

describe('what console prints', () => {
  it("prints the agent's line, a reprompt and an answer's latency as notes (dimmed on a terminal)", () => {
    expect(agentLine('Hello.', {}, PLAIN)).toBe('agent> Hello.');
    expect(agentLine('Are you still there?', { reprompt: true }, PLAIN)).toBe(
      'agent> Are you still there?  (silence reprompt)',
    );
    expect(agentLine('You said: hi.', { answeredMs: 412.6 }, ANSI)).toBe(
      'agent> You said: hi.\x1b[2m  (answered in 413 ms)\x1b[22m',
    );
  });

  it('marks a barge-in with what the flush cut off and what never played', () => {
    expect(bargeInLine({ unplayed: [] }, PLAIN)).toBe('[barge-in: agent stopped]');
    expect(bargeInLine({ interrupted: 'You said: a lot.', unplayed: ['More.', 'And "more".'] }, PLAIN)).toBe(
      '[barge-in: agent stopped]  cut off: "You said: a lot."; never played: "More." "And \\"more\\"."',
    );
    expect(bargeInLine({ unplayed: ['Later.'] }, PLAIN)).toBe(
      '[barge-in: agent stopped]  never played: "Later."',
    );
  });

  it('lists the commands, and names an unknown one', () => {
    expect(helpLines().join('\n')).toMatch(/^ {2}\/hangup {2}hang up .*\n {2}\/help {4}this list$/m);
    expect(unknownCommandLine('/quit')).toContain('unknown command /quit: /help lists the commands');
  });

  const view: SessionView = {
    callId: 'c1',
    workflowId: 'call-c1',
    from: '+15550100001',
    to: '+15550100000',
    profileName: 'default',
    agentConfigSource: 'built-in default',
    silenceTimeoutSeconds: 30,
    temporal: { own: true, address: '127.0.0.1:7233', taskQueue: 'console' },
    callPage: 'http://127.0.0.1:8080/calls/c1',
    temporalUi: 'http://127.0.0.1:8233/namespaces/default/workflows/call-c1',
  };

  it('says where the call is seen while it runs: its page and the Temporal UI; the model', () => {
    const intro = introLines(view).join('\n');
    expect(intro).toContain('call page    http://127.0.0.1:8080/calls/c1');
    expect(intro).toContain('Temporal UI  http://127.0.0.1:8233/namespaces/default/workflows/call-c1');
    expect(intro).toContain('the built-in fake model');
    expect(intro).toContain('Quiet for 30 s, the agent reprompts');
    const real = introLines({ ...view, modelBaseUrl: 'http://127.0.0.1:11434/v1', temporalUi: undefined });
    expect(real.join('\n')).toContain('model        http://127.0.0.1:11434/v1');
    expect(real.join('\n')).toContain('Temporal UI  unknown: set TEMPORAL_UI_URL');
  });

  it("says truly where the call is seen afterwards: nowhere on the console's own server", () => {
    const own = whereAfterLines(view).join('\n');
    expect(own).toContain('stops now');
    expect(own).toContain('`voipbin-agent inspect c1`');
    expect(own).toContain('TEMPORAL_ADDRESS');
    const kept = whereAfterLines({
      ...view,
      temporal: { own: false, address: 'temporal.example:7233', taskQueue: 'console-1234abcd' },
    }).join('\n');
    expect(kept).toContain('The call stays on temporal.example:7233: `voipbin-agent inspect c1`');
    expect(kept).toContain(view.temporalUi);
    expect(kept).not.toContain('stops now');
  });
});

describe("the console's terminal, with lines piped in", () => {
  function piped(): {
    input: PassThrough;
    output: PassThrough;
    written: () => string;
    term: ConsoleTerminal;
  } {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString()));
    return { input, output, written: () => text, term: new ConsoleTerminal({ input, output }) };
  }

  it('hands each line in order, then the end of the input once they are all taken', async () => {
    const { input, term } = piped();
    expect(term.interactive).toBe(false);
    input.end('first\nsecond\n');
    expect(await term.next()).toEqual({ line: 'first' });
    expect(await term.next()).toEqual({ line: 'second' });
    expect(await term.next()).toEqual({ end: 'eof' });
    term.close();
  });

  it('an interrupt drops the lines not yet taken', async () => {
    const { input, term } = piped();
    input.write('first\nsecond\n');
    await new Promise((r) => setImmediate(r));
    term.end('interrupt');
    expect(await term.next()).toEqual({ end: 'interrupt' });
    term.close();
  });

  it('prints plain lines, with no prompt, when not at a terminal', () => {
    const { term, written } = piped();
    term.prompt();
    term.print('agent> Hello.');
    term.close();
    expect(written()).toBe('agent> Hello.\n');
  });
});
