import type { Client } from '@temporalio/client';
import { historyFromJSON, type History } from '@temporalio/common/lib/proto-utils';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { callWorkflowId } from '../workflows/messages';
import type { TemporalConfig } from './config';
import { quoted } from './ingress/call-workflows';
import { silentLogger } from './logger';
import { connectClient, resolveTemporal } from './runtime/temporal';

/** One run of a call workflow's history, and what to call it in the output. */
export interface RunHistory {
  /** The file it was read from, or the workflow id and run id it was fetched by. */
  source: string;
  workflowId: string;
  runId: string;
  history: History;
}

/** A history that cannot be had: an unknown call, a file that is not a history, no server. */
export class HistoryError extends Error {
  override name = 'HistoryError';
}

/** The workflow id of a call given by its VoIPBIN id or by the workflow id itself. */
export function callWorkflowIdOf(callId: string): string {
  return callId.startsWith(callWorkflowId('')) ? callId : callWorkflowId(callId);
}

/**
 * Every run of the call's workflow, oldest first: a call that continued as new has several, and a
 * worker replays whichever one is running.
 */
export async function callHistories(client: Client, callId: string): Promise<RunHistory[]> {
  const workflowId = callWorkflowIdOf(callId);
  const runs = [];
  for await (const run of client.workflow.list({ query: `WorkflowId = ${quoted(workflowId)}` })) {
    runs.push(run);
  }
  if (runs.length === 0) {
    throw new HistoryError(`no call ${callId}: Temporal has no workflow ${workflowId}`);
  }
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  return Promise.all(
    runs.map(async ({ runId }) => ({
      source: `${workflowId} run ${runId}`,
      workflowId,
      runId,
      history: await client.workflow.getHandle(workflowId, runId).fetchHistory(),
    })),
  );
}

/** Runs fn with a client of the Temporal server of TEMPORAL_* (or a local `serve`'s), then closes it. */
export async function withTemporalClient<T>(
  config: TemporalConfig,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const target = await resolveTemporal(config, silentLogger, false);
  const client = await connectClient(target).catch((err: Error) => {
    const where = config.temporal.external ? '' : ' (TEMPORAL_ADDRESS unset: a local `serve`)';
    throw new HistoryError(`cannot reach Temporal at ${target.address}${where}: ${err.message}`);
  });
  try {
    return await fn(client);
  } finally {
    await client.connection.close();
  }
}

/** The histories of the calls, from the Temporal server of TEMPORAL_* (or a local `serve`'s). */
export function fetchCallHistories(config: TemporalConfig, callIds: string[]): Promise<RunHistory[]> {
  return withTemporalClient(config, async (client) => {
    const histories = [];
    for (const callId of callIds) histories.push(...(await callHistories(client, callId)));
    return histories;
  });
}

/** A history as `temporal workflow show --output json` and `export` write it. */
export function readHistoryFile(file: string): RunHistory {
  let history: History;
  try {
    history = historyFromJSON(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new HistoryError(`cannot read the history ${file}: ${(err as Error).message}`);
  }
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started) {
    throw new HistoryError(`cannot read the history ${file}: its first event is not the workflow's start`);
  }
  return {
    source: file,
    // Older servers record no workflow id in the start event; the call workflow never reads its own.
    workflowId: started.workflowId || basename(file, '.json'),
    runId: started.originalExecutionRunId ?? '',
    history,
  };
}
