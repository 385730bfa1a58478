// `voipbin-agent console`: one inbound call on the simulator, the person at the terminal as its
// caller. Each line typed is the caller's speech (its transcript events, as VoIPBIN sends them);
// the agent's sentences print as the simulator starts playing them, each /flush as a barge-in.
import type { Client } from '@temporalio/client';
import { matchRoute } from '../../agent-config';
import { ConfigError, type AppConfig } from '../../config';
import { formatTimeline } from '../../inspect/format';
import { loadCallTimeline } from '../../inspect/load';
import type { Logger } from '../../logger';
import { Stack } from '../../runtime/lifecycle';
import { temporalUiLink } from '../../temporal/ui-link';
import { callWorkflowId } from '../../../workflows/messages';
import { SANDBOX_FROM, sandboxDialled } from '../numbers';
import { startSandboxStack } from '../sandbox-stack';
import type { SimCall } from '../simulator';
import { parseConsoleLine } from './input';
import { ConsoleTerminal, type TerminalStreams } from './terminal';
import {
  YOU,
  agentLine,
  bargeInLine,
  helpLines,
  introLines,
  unknownCommandLine,
  whereAfterLines,
  type SessionView,
} from './view';

export interface ConsoleOptions extends TerminalStreams {
  /** The caller's number. */
  from?: string;
  /** The number called: its route picks the profile. Default: the first route's own number. */
  to?: string;
}

/** The greeting normally starts within a second or two of the answer; past this, the prompt shows anyway. */
const GREETING_WAIT_MS = 20_000;
/** How long the workflow may take to finish once the call has ended (sessions stopped, summary). */
const WORKFLOW_END_WAIT_MS = 30_000;
/** Piped lines: each waits for the agent's answer to the last one, then this much quiet. */
const PIPED_QUIET_MS = 500;

/** Runs the session to the call's end; 0 once the call ended and was printed. */
export async function runConsole(config: AppConfig, log: Logger, opts: ConsoleOptions): Promise<number> {
  const to = opts.to ?? sandboxDialled(config.agent);
  const from = opts.from ?? SANDBOX_FROM;
  const route = matchRoute(config.agent, to);
  if (!route) {
    throw new ConfigError(
      `no inbound route of the agent config (${config.agentConfigSource}) answers ${to}: the agent would leave the call alone; pick a number with --to`,
    );
  }
  const term = new ConsoleTerminal(opts);
  const signals = onSignals(() => term.end('interrupt'));
  const stack = new Stack();
  try {
    term.print('Starting the agent on the built-in VoIPBIN simulator (Temporal, worker, ingress)...');
    const sandbox = await startSandboxStack(config, log, stack, { name: 'console', temporal: 'configured' });
    const call = sandbox.simulator.startInboundCall({ from, to });
    const workflowId = callWorkflowId(call.id);
    const view: SessionView = {
      callId: call.id,
      workflowId,
      from,
      to,
      profileName: route.profileName,
      agentConfigSource: config.agentConfigSource,
      silenceTimeoutSeconds: route.profile.silenceTimeoutSeconds,
      modelBaseUrl: sandbox.modelBaseUrl,
      temporal: { ...sandbox.temporal, taskQueue: sandbox.taskQueue },
      callPage: `http://127.0.0.1:${sandbox.ingressPort}/calls/${call.id}`,
      temporalUi: temporalUiLink(sandbox.temporal.uiUrl, sandbox.temporal.namespace, workflowId),
    };
    for (const line of introLines(view)) term.print(line);

    const agent = narrate(call, term, route.profile.repromptText);
    const ender = await Promise.race([converse(call, term, agent), call.ended.then(() => 'agent' as const)]);
    if (ender === 'caller') call.hangup();
    term.close();
    term.print(ender === 'caller' ? '[you hung up]' : '[the agent hung up]');

    await showCall(sandbox.client, call.id, view, term);
    return 0;
  } finally {
    term.close();
    await stack.closeAll(log);
    signals.dispose();
  }
}

/** What the agent's side of the call does that the typing side needs to know. */
interface AgentSide {
  /** The greeting started playing, or the wait for it is over. */
  greeted: Promise<void>;
  /** The caller just spoke: the answer's first line shows how long it took. */
  callerSpoke(): void;
}

/** Prints each text as it starts playing and each /flush; times the answer to the caller's words. */
function narrate(call: SimCall, term: ConsoleTerminal, repromptText: string): AgentSide {
  let spokeAt: number | undefined;
  /** The caller spoke over the agent: the answer is timed once the old reply is flushed. */
  let overAt: number | undefined;
  let greet: () => void = () => undefined;
  const greeted = new Promise<void>((resolve) => (greet = resolve));
  const timer = setTimeout(greet, GREETING_WAIT_MS);
  void call.ended.then(greet);
  call.onPlayback((e) => {
    if (e.kind === 'flushed') {
      spokeAt = overAt;
      overAt = undefined;
      term.print(bargeInLine(e, term.style));
      return;
    }
    const answeredMs = spokeAt === undefined ? undefined : performance.now() - spokeAt;
    spokeAt = undefined;
    term.print(agentLine(e.text, { answeredMs, reprompt: e.text === repromptText }, term.style));
    clearTimeout(timer);
    greet();
  });
  return {
    greeted,
    callerSpoke: () => {
      // While the agent speaks, the next line played may still be the old reply's.
      if (call.agentSpeaking()) overAt = performance.now();
      else spokeAt = performance.now();
    },
  };
}

/** Reads lines until the caller hangs up ('caller') or the call ends. */
async function converse(call: SimCall, term: ConsoleTerminal, agent: AgentSide): Promise<'caller' | 'agent'> {
  await agent.greeted;
  term.prompt();
  for (;;) {
    const input = await term.next();
    if (call.status() === 'hangup') return 'agent';
    if ('end' in input) {
      // The end of piped lines: the last one is answered before the caller hangs up.
      if (!term.interactive && input.end === 'eof' && call.callerSaid().length > 0) {
        await call.agentDone(PIPED_QUIET_MS);
      }
      return 'caller';
    }
    const action = parseConsoleLine(input.line);
    if (!term.interactive && action.kind !== 'nothing') {
      // Piped lines come all at once: each waits until the agent has answered the one before.
      await call.agentDone(PIPED_QUIET_MS);
      if (call.status() === 'hangup') return 'agent';
      term.print(YOU + input.line.trim());
    }
    if (action.kind === 'hangup') return 'caller';
    if (action.kind === 'help') for (const line of helpLines()) term.print(line);
    if (action.kind === 'unknown') term.print(unknownCommandLine(action.command));
    if (action.kind === 'say') {
      agent.callerSpoke();
      call.speak(action.text);
    }
    term.prompt();
  }
}

/** Once the call's workflow has finished: the call as it recorded it, and where to see it again. */
async function showCall(
  client: Client,
  callId: string,
  view: SessionView,
  term: ConsoleTerminal,
): Promise<void> {
  const finished = client.workflow
    .getHandle(view.workflowId)
    .result()
    .then(
      () => undefined,
      (err: Error) => `[the call's workflow failed: ${err.message}]`,
    );
  const problem = await withTimeout(finished, WORKFLOW_END_WAIT_MS, () => {
    return `[the call's workflow had not finished after ${WORKFLOW_END_WAIT_MS / 1000} s]`;
  });
  if (problem) term.print(problem);
  term.print('');
  try {
    const timeline = await loadCallTimeline(client, callId);
    term.print(`The call, as its workflow recorded it (what \`voipbin-agent inspect ${callId}\` prints):`);
    for (const line of formatTimeline(timeline, view.temporalUi)) term.print(line && `  ${line}`);
  } catch (err) {
    term.print(`[no timeline of the call: ${(err as Error).message}]`);
  }
  term.print('');
  for (const line of whereAfterLines(view)) term.print(line);
}

async function withTimeout<T>(promise: Promise<T>, ms: number, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<T>((resolve) => (timer = setTimeout(() => resolve(late()), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Ctrl-C (when not at a terminal, where readline takes it), SIGTERM and SIGHUP hang up, so that the
 * Temporal server is stopped on the way out; a second one exits at once.
 */
function onSignals(hangup: () => void): { dispose(): void } {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let seen = false;
  const handler = (signal: NodeJS.Signals) => {
    if (seen) process.exit(signal === 'SIGINT' ? 130 : 143);
    seen = true;
    hangup();
  };
  for (const s of signals) process.on(s, handler);
  return { dispose: () => signals.forEach((s) => process.removeListener(s, handler)) };
}
