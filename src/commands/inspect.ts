import { loadTemporalConfig } from '../config';
import { withTemporalClient } from '../histories';
import { formatTimeline } from '../inspect/format';
import { loadCallTimeline } from '../inspect/load';
import { temporalUiLink } from '../temporal/ui-link';
import { UsageError, parseCommandArgs } from './usage';

/**
 * `inspect`: the call as a timeline, read from its Temporal history (every run) and, while it runs,
 * the workflow's live view. `--json`: the same as one JSON document.
 */
export async function inspect(args: string[], print: (line: string) => void): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
  const [callId, ...extra] = positionals;
  if (!callId || extra.length > 0) throw new UsageError('inspect takes one call id');
  const config = loadTemporalConfig();
  const timeline = await withTemporalClient(config, (client) => loadCallTimeline(client, callId));
  const uiLink = temporalUiLink(config.temporal.uiUrl, config.temporal.namespace, timeline.workflowId);
  if (values.json) print(JSON.stringify({ ...timeline, ...(uiLink && { temporalUi: uiLink }) }, null, 2));
  else for (const line of formatTimeline(timeline, uiLink)) print(line);
  return 0;
}
