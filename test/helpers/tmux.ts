// A real terminal for the CLI: a tmux session on a server of the test's own (its own socket, so a
// developer's tmux is never touched), typed into with send-keys and read with capture-pane.
// The project installs tmux itself (.ci/run); where it is missing, the tests fail saying how to get it.
import { execFileSync, spawnSync } from 'node:child_process';
import { waitFor } from './wait-for';

export function requireTmux(): void {
  if (spawnSync('tmux', ['-V']).status !== 0) {
    throw new Error(
      'tmux is not installed: the console tests drive the CLI in a real terminal with it. Install it with ' +
        '`apt-get update && apt-get install -y tmux` (as .ci/run does).',
    );
  }
}

export class TmuxTerminal {
  private readonly socket = `voipbin-agent-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private started = false;

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Runs `command` (one shell command line) in a new 200×50 terminal. */
  start(command: string): void {
    this.tmux('new-session', '-d', '-s', 'main', '-x', '200', '-y', '50', command);
    this.started = true;
  }

  /** Types `text` (literally), then Enter. */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', text);
    this.tmux('send-keys', '-t', 'main', 'Enter');
  }

  /** Keys by tmux's names: `C-c`, `C-d`. */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** What the terminal shows, with its scrollback; wrapped lines joined, no colours. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'main');
  }

  /** Waits until the screen matches; the error shows the screen. */
  async waitFor(pattern: string | RegExp, timeoutMs = 30_000): Promise<string> {
    const matches = (s: string) => (typeof pattern === 'string' ? s.includes(pattern) : pattern.test(s));
    try {
      return await waitFor(
        () => {
          const s = this.screen();
          return matches(s) && s;
        },
        `${String(pattern)} on the terminal`,
        timeoutMs,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}; the terminal shows:\n${this.screen()}`, { cause: err });
    }
  }

  /** Ends the tmux server, and what still runs in it (SIGHUP). */
  close(): void {
    if (!this.started) return;
    this.started = false;
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}
