import type { RecordedRequest, Simulator } from '../../src/sandbox/simulator';

/** The two session creates, sent in parallel: either may arrive first, so they are listed sorted. */
export const SESSIONS_CREATED = ['POST /speakings -> 201', 'POST /transcribes -> 200'];
/** The stops of both sessions at the end of a call, in the order `requestSequence` puts them. */
export const SESSIONS_STOPPED = ['POST /speakings/{id}/stop -> 200', 'POST /transcribes/{id}/stop -> 200'];

function line(r: RecordedRequest): string {
  const path = r.path.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '{id}');
  const text = (r.body as { text?: string } | undefined)?.text;
  return `${r.method} ${path}${text ? ` ${text}` : ''} -> ${r.status}`;
}

/**
 * What VoIPBIN was asked to do, in order: every request but the reads (GET), as
 * `METHOD /path[ text] -> status` with ids replaced by `{id}`. The parallel session creates at
 * the start, and the parallel stops at the end, come sorted.
 */
export function requestSequence(sim: Pick<Simulator, 'requests'>): string[] {
  const lines = sim.requests.filter((r) => r.method !== 'GET').map(line);
  const creates = lines.slice(0, 2);
  if (creates.every((l) => SESSIONS_CREATED.includes(l))) lines.splice(0, 2, ...creates.sort());
  // The two stops at the end of a call go out together too: either may arrive first.
  const stops = lines.slice(-2);
  if (stops.length === 2 && new Set(stops).size === 2 && stops.every((l) => SESSIONS_STOPPED.includes(l)))
    lines.splice(-2, 2, ...stops.sort());
  return lines;
}

/** The reads (GET): reconciliation and lookups, with their query keys. */
export function readsOf(sim: Pick<Simulator, 'requests'>): string[] {
  return sim.requests
    .filter((r) => r.method === 'GET')
    .map(
      (r) => `${line(r)}${Object.keys(r.query).length ? ` ?${Object.keys(r.query).sort().join('&')}` : ''}`,
    );
}

/** The texts sent to `/say` that VoIPBIN accepted, in order. */
export function saysOf(sim: Pick<Simulator, 'requests'>): string[] {
  return sim.requests
    .filter((r) => r.method === 'POST' && r.path.endsWith('/say') && r.status === 200)
    .map((r) => (r.body as { text: string }).text);
}
