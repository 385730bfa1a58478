// The console's terminal: lines typed (readline, with a `you> ` prompt on a TTY; plain lines when
// piped) and lines printed above the prompt, which is redrawn with what was being typed.
import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
import { ANSI, PLAIN, YOU, type Style } from './view';

/** A line typed, or the end of the input: Ctrl-D or EOF (`eof`), Ctrl-C or a signal (`interrupt`). */
export type TerminalInput = { line: string } | { end: 'eof' | 'interrupt' };

export interface TerminalStreams {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean; hasColors?: () => boolean };
}

export class ConsoleTerminal {
  /** A person at a terminal (else lines piped in): lines are said as typed, and prompted for. */
  readonly interactive: boolean;
  readonly style: Style;
  private readonly rl: Interface;
  private readonly output: TerminalStreams['output'];
  private readonly queue: TerminalInput[] = [];
  private wake?: () => void;
  private ended = false;
  private prompting = false;

  constructor(streams: TerminalStreams) {
    this.output = streams.output;
    this.interactive = streams.input.isTTY === true;
    this.style = this.output.isTTY && this.output.hasColors?.() ? ANSI : PLAIN;
    this.rl = createInterface({
      input: streams.input,
      output: this.output,
      terminal: this.interactive && this.output.isTTY === true,
      prompt: YOU,
    });
    this.rl.on('line', (line) => this.push({ line }));
    this.rl.on('close', () => this.end('eof'));
    this.rl.on('SIGINT', () => this.end('interrupt'));
  }

  /** Ctrl-C drops what is still queued (the person wants out now); EOF lets it be said first. */
  end(how: 'eof' | 'interrupt'): void {
    if (this.ended) return;
    this.ended = true;
    if (how === 'interrupt') this.queue.length = 0;
    this.push({ end: how });
  }

  /** The next line typed, or the end; lines typed while the caller was busy wait their turn. */
  async next(): Promise<TerminalInput> {
    for (;;) {
      const input = this.queue.shift();
      if (input) return input;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Shows the prompt from now on (on a terminal). */
  prompt(): void {
    if (!this.rl.terminal || this.ended) return;
    this.prompting = true;
    this.rl.prompt(true);
  }

  /** A line above the prompt; the prompt and what is being typed are drawn again below it. */
  print(line: string): void {
    if (!this.prompting) {
      this.output.write(line + '\n');
      return;
    }
    clearLine(this.output, 0);
    cursorTo(this.output, 0);
    this.output.write(line + '\n');
    this.rl.prompt(true);
  }

  close(): void {
    if (this.prompting) {
      // The prompt's line, left empty, is where the next line prints.
      clearLine(this.output, 0);
      cursorTo(this.output, 0);
    }
    this.prompting = false;
    this.ended = true;
    this.rl.close();
  }

  private push(input: TerminalInput): void {
    this.queue.push(input);
    this.wake?.();
    this.wake = undefined;
  }
}
