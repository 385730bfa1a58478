// What `console` prints, as plain functions of what happened: the agent's lines, the barge-in
// marker, the commands, and where the call can be seen during the session and after it.
import { CONSOLE_COMMANDS } from './input';

export interface Style {
  /** Secondary text: latencies, notes. */
  dim(text: string): string;
}

export const PLAIN: Style = { dim: (text) => text };
export const ANSI: Style = { dim: (text) => `\x1b[2m${text}\x1b[22m` };

export const AGENT = 'agent> ';
export const YOU = 'you> ';
export const BARGE_IN = '[barge-in: agent stopped]';

function quote(text: string): string {
  return JSON.stringify(text);
}

/**
 * A text the agent started saying. `answeredMs`: since the caller's words it answers (the first
 * sentence of an answer only); `reprompt`: the profile's reprompt, said after a silence.
 */
export function agentLine(
  text: string,
  notes: { answeredMs?: number; reprompt?: boolean },
  style: Style,
): string {
  const extra = [
    notes.reprompt && '(silence reprompt)',
    notes.answeredMs !== undefined && `(answered in ${Math.round(notes.answeredMs)} ms)`,
  ].filter(Boolean);
  return AGENT + text + (extra.length ? style.dim(`  ${extra.join(' ')}`) : '');
}

/** A /flush reached VoIPBIN: the text it cut off mid-play, those it dropped before they played. */
export function bargeInLine(flushed: { interrupted?: string; unplayed: string[] }, style: Style): string {
  const notes = [
    flushed.interrupted !== undefined && `cut off: ${quote(flushed.interrupted)}`,
    flushed.unplayed.length > 0 && `never played: ${flushed.unplayed.map(quote).join(' ')}`,
  ].filter(Boolean);
  return BARGE_IN + (notes.length ? style.dim(`  ${notes.join('; ')}`) : '');
}

export function helpLines(): string[] {
  const width = Math.max(...CONSOLE_COMMANDS.map(([name]) => name.length));
  return [
    'Type what the caller says and press Enter. Typing while the agent speaks interrupts it (barge-in).',
    ...CONSOLE_COMMANDS.map(([name, what]) => `  ${name.padEnd(width)}  ${what}`),
  ];
}

export function unknownCommandLine(command: string): string {
  return `unknown command ${command}: /help lists the commands (a line without / is said to the agent)`;
}

export interface SessionView {
  callId: string;
  workflowId: string;
  from: string;
  to: string;
  profileName: string;
  agentConfigSource: string;
  silenceTimeoutSeconds: number;
  /** OPENAI_BASE_URL (or OpenAI's); undefined: the built-in fake model. */
  modelBaseUrl?: string;
  temporal: { own: boolean; address: string; taskQueue: string };
  callPage: string;
  temporalUi?: string;
}

/** Printed once the call is placed: who calls whom, on what, and where to watch it live. */
export function introLines(v: SessionView): string[] {
  const temporal = v.temporal.own
    ? `a dev server of this console's own, ${v.temporal.address} (it stops when you leave)`
    : `${v.temporal.address} (TEMPORAL_ADDRESS), task queue ${v.temporal.taskQueue}`;
  return [
    `Calling ${v.to} from ${v.from} on the built-in VoIPBIN simulator: you are the caller.`,
    `  profile      ${v.profileName} (${v.agentConfigSource})`,
    `  model        ${v.modelBaseUrl ?? 'the built-in fake model (it repeats what you say)'}`,
    `  temporal     ${temporal}`,
    `  call         ${v.callId} (workflow ${v.workflowId})`,
    `  call page    ${v.callPage}  (live; loopback clients only)`,
    `  Temporal UI  ${v.temporalUi ?? 'unknown: set TEMPORAL_UI_URL'}`,
    `Type what the caller says and press Enter; typing while the agent speaks interrupts it. Quiet for ${v.silenceTimeoutSeconds} s, the agent reprompts. /hangup ends the call, /help lists the commands.`,
  ];
}

/** Printed after the call: where it can be seen again, as it truly is once the console is gone. */
export function whereAfterLines(v: SessionView): string[] {
  const inspect = `voipbin-agent inspect ${v.callId}`;
  if (v.temporal.own) {
    return [
      `The call lived on this console's own Temporal server, which stops now: afterwards \`${inspect}\`, the call page and the Temporal UI no longer find it.`,
      'To keep the calls, run the console with TEMPORAL_ADDRESS set to a Temporal server that stays up (the embedded one of a running `voipbin-agent serve` is on 127.0.0.1:7233 by default), and inspect them with the same TEMPORAL_ADDRESS.',
    ];
  }
  return [
    `The call stays on ${v.temporal.address}: \`${inspect}\` (with the same TEMPORAL_ADDRESS) shows it again.`,
    v.temporalUi ? `  Temporal UI  ${v.temporalUi}` : '  Temporal UI  unknown: set TEMPORAL_UI_URL',
    `  call page    /calls/${v.callId} on any \`serve\` or \`ingress\` on that cluster`,
  ];
}
