import { WorkflowIdReusePolicy } from '@temporalio/common';
import { matchOutboundRoute } from '../agent-config';
import { ConfigError, loadConfig } from '../config';
import { callSignal } from '../ingress/call-signals';
import { createLogger } from '../logger';
import { connectClient, resolveTemporal } from '../runtime/temporal';
import { startTracing } from '../runtime/tracing';
import { VoipbinClient } from '../voipbin/client';
import {
  CALL_WORKFLOW_TASK_TIMEOUT,
  callWorkflowId,
  reconcileSignal,
  voipbinEventSignal,
  type CallWorkflowInput,
} from '../../workflows/messages';
import { usedVariables } from '../../workflows/prompt-variables';
import { startSearchAttributes, upsertedByWorkflow } from '../../workflows/search-attributes';
import { namespaceSearchAttributes } from '../temporal/search-attributes';
import { UsageError, parseCommandArgs } from './usage';

/** `name=value`, as `--var` takes it. */
function parseVariable(arg: string): [string, string] {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UsageError(`--var takes name=value: ${arg}`);
  return [arg.slice(0, eq), arg.slice(eq + 1)];
}

/**
 * `call --to <number> [--from <number>] [--profile <name>] [--var name=value ...]`: places an
 * outbound call (`POST /calls`) and starts the workflow that runs it, on the task queue the workers
 * poll; once the callee answers, the agent greets as on an inbound call. The profile is that of the
 * first `outbound` route for the number (naming `--profile`, if given).
 */
export async function placeCall(args: string[], print: (line: string) => void): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    to: { type: 'string' },
    from: { type: 'string' },
    profile: { type: 'string' },
    var: { type: 'string', multiple: true },
  });
  if (positionals.length > 0) throw new UsageError(`call takes options only: ${positionals.join(' ')}`);
  const to = values.to;
  if (!to) throw new UsageError('call needs --to <number>');
  const userVariables = Object.fromEntries((values.var ?? []).map(parseVariable));
  const config = loadConfig();
  const apiKey = config.voipbin.apiKey;
  if (!apiKey) throw new ConfigError('VOIPBIN_API_KEY is required for `call`');
  const route = matchOutboundRoute(config.agent, to, values.profile);
  if (!route) {
    const which = values.profile ? ` with profile "${values.profile}"` : '';
    throw new ConfigError(
      `no outbound route takes calls to ${to}${which}: add {"to": "${to}" or "*", "profile": ..., "direction": "outbound"} to the routes of AGENT_CONFIG (${config.agentConfigSource})`,
    );
  }
  const from = values.from ?? route.from;
  if (!from) throw new UsageError('call needs --from <number> (or "from" on the outbound route)');

  // Connected first: the workflow starts the moment VoIPBIN has the call.
  const log = createLogger({ ...config.log, level: 'warn' });
  // Its spans (the workflow's start, the signal) are exported before the command returns.
  const tracing = await startTracing(config.tracing, 'call', log);
  try {
    const client = await connectClient(await resolveTemporal(config, log, false), tracing?.client);
    try {
      const searchAttributes = namespaceSearchAttributes(client, {
        phoneNumbers: config.temporal.searchPhoneNumbers,
        log,
      });
      // Asked before the call is placed: the workflow starts the moment VoIPBIN has it.
      const registered = await searchAttributes.registered();
      const voipbin = new VoipbinClient({ baseUrl: config.voipbin.baseUrl, apiKey });
      const created = await voipbin.createCall({
        source: { type: 'tel', target: from },
        destinations: [{ type: 'tel', target: to }],
        // The call stays up while the agent talks (it hangs up itself, by maxCallSeconds at the latest).
        actions: [{ type: 'sleep', option: { duration: route.profile.maxCallSeconds * 1000 } }],
        ...(Object.keys(userVariables).length > 0 && { variables: userVariables }),
      });
      const call = created.calls[0];
      if (!call) throw new Error('VoIPBIN created no call');
      const variables = usedVariables(route.profile, {
        ...userVariables,
        caller: from,
        called: to,
        direction: 'outbound',
        profile: route.profileName,
      });
      const kept = upsertedByWorkflow(registered);
      const input: CallWorkflowInput = {
        callId: call.id,
        profileName: route.profileName,
        profile: route.profile,
        ...(variables && { variables }),
        ...(kept.length && { searchAttributes: kept }),
      };
      const facts = {
        callId: call.id,
        profile: route.profileName,
        direction: 'outbound' as const,
        caller: from,
        called: to,
      };
      const workflowId = callWorkflowId(call.id);
      await client.workflow.signalWithStart('callWorkflow', {
        workflowId,
        taskQueue: config.temporal.taskQueue,
        args: [input],
        signal: voipbinEventSignal,
        signalArgs: [callSignal('call_created', call)],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        workflowTaskTimeout: CALL_WORKFLOW_TASK_TIMEOUT,
        typedSearchAttributes: startSearchAttributes(facts, registered, searchAttributes.phoneNumbers),
      });
      // Its first events may have reached the ingress before the workflow existed (a quick answer):
      // it asks VoIPBIN where the call is now.
      await client.workflow.getHandle(workflowId).signal(reconcileSignal, { reason: 'call-placed' });
      print(`${call.id} ${workflowId} ${call.status}`);
      return 0;
    } finally {
      await client.connection.close();
    }
  } finally {
    await tracing?.shutdown();
  }
}
