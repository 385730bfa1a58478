// What a line typed into `console` means: the caller's words, or a command.

export type ConsoleAction =
  | { kind: 'say'; text: string }
  | { kind: 'hangup' }
  | { kind: 'help' }
  | { kind: 'unknown'; command: string }
  | { kind: 'nothing' };

/** The commands, as `/help` lists them. */
export const CONSOLE_COMMANDS: readonly (readonly [string, string])[] = [
  ['/hangup', 'hang up (Ctrl-D and Ctrl-C too): the call ends and its timeline is printed'],
  ['/help', 'this list'],
];

/**
 * A line starting with `/` is a command (its first word, any case); any other line is what the
 * caller says, its spaces collapsed; a blank line is nothing.
 */
export function parseConsoleLine(line: string): ConsoleAction {
  const text = line.replace(/\s+/g, ' ').trim();
  if (text === '') return { kind: 'nothing' };
  if (!text.startsWith('/')) return { kind: 'say', text };
  const command = text.split(' ')[0]!.toLowerCase();
  if (command === '/hangup') return { kind: 'hangup' };
  if (command === '/help') return { kind: 'help' };
  return { kind: 'unknown', command };
}
