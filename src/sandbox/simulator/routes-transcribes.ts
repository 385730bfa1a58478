import { z } from 'zod';
import { ApiError, errors } from './api-error';
import { NIL_UUID, isUuid } from './clock';
import { type TranscribeRecord, transcribeJson, transcriptJson } from './resources';
import { type Reply, type RouteContext, type RouteDef, idParam, listPage, ok, parseBody } from './route';
import { startTranscribe, stopTranscribe } from './speech';
import type { World } from './world';

/** The Transcribe API and GET /transcripts (API-NOTES §2, §3). */

const CreateBody = z.object({
  reference_type: z.string().nullish(),
  reference_id: z.string().nullish(),
  language: z.string().nullish(),
  direction: z.string().nullish(),
  provider: z.string().nullish(),
  on_end_flow_id: z.string().nullish(),
});

const LIVE_CALL = new Set(['dialing', 'ringing', 'progressing']);

function direction(value: string | null | undefined): TranscribeRecord['direction'] {
  // Missing, empty or unknown silently becomes both (case-sensitive).
  return value === 'in' || value === 'out' ? value : 'both';
}

export function transcribeRoutes(world: World): RouteDef[] {
  const json = (t: TranscribeRecord) => transcribeJson(t, world.customerId);

  const find = (id: string): TranscribeRecord => {
    const t = world.transcribes.get(id);
    if (!t || t.tmDelete) throw errors.notFound('TRANSCRIBE_NOT_FOUND');
    return t;
  };

  const create = (ctx: RouteContext): Reply => {
    const body = parseBody(ctx, CreateBody);
    const referenceType = body.reference_type ?? '';
    if (!['call', 'conference', 'recording'].includes(referenceType)) {
      throw errors.invalidArgument('The provided reference_type is not valid.');
    }
    if (!isUuid(body.reference_id)) throw errors.invalidArgument('The provided reference_id is not valid.');
    const referenceId = body.reference_id.toLowerCase();
    if (referenceType !== 'call') throw errors.notFound(); // no conferences or recordings here
    const call = world.calls.get(referenceId);
    if (!call) throw errors.notFound('CALL_NOT_FOUND');
    if (!LIVE_CALL.has(call.record.status)) throw errors.internal(); // isValidReference: a plain error
    const language = body.language ?? '';
    const duplicate = [...world.transcribes.values()].some(
      (t) => t.referenceId === referenceId && t.language === language && t.status === 'progressing',
    );
    if (duplicate) {
      throw new ApiError(
        'ALREADY_EXISTS',
        'TRANSCRIBE_ALREADY_PROGRESSING',
        'A transcribe is already in progress for this reference and language.',
      );
    }
    const onEnd = body.on_end_flow_id;
    const t = startTranscribe(world, {
      referenceType,
      referenceId,
      language,
      direction: direction(body.direction),
      provider: body.provider ?? '',
      onEndFlowId: isUuid(onEnd) ? onEnd.toLowerCase() : NIL_UUID,
    });
    return ok(json(t));
  };

  const list = (ctx: RouteContext): Reply => {
    const refType = ctx.query.get('reference_type') ?? '';
    const refId = ctx.query.get('reference_id') ?? '';
    if ((refType === '') !== (refId === '')) {
      throw new ApiError(
        'INVALID_ARGUMENT',
        'INVALID_REFERENCE_FILTER',
        'reference_type and reference_id must be given together.',
      );
    }
    const items = [...world.transcribes.values()].filter(
      (t) =>
        !t.tmDelete &&
        (refType === '' || (t.referenceType === refType && t.referenceId === refId.toLowerCase())),
    );
    return listPage(ctx, items, (t) => t.createdMicros, json);
  };

  const transcripts = (ctx: RouteContext): Reply => {
    const id = ctx.query.get('transcribe_id') ?? '';
    if (id === '') throw errors.missingParameter('The transcribe_id parameter is required.');
    if (!isUuid(id)) throw errors.invalidParameter('The transcribe_id parameter is not a valid UUID.');
    const t = find(id.toLowerCase());
    const items = world.transcripts.filter((x) => x.transcribeId === t.id && !x.deleted);
    return listPage(
      ctx,
      items,
      (x) => x.createdMicros,
      (x) => transcriptJson(x, world.customerId),
    );
  };

  return [
    { method: 'post', path: '/transcribes', handler: create },
    { method: 'get', path: '/transcribes', handler: list },
    { method: 'get', path: '/transcribes/:id', handler: (ctx) => ok(json(find(idParam(ctx)))) },
    {
      method: 'post',
      path: '/transcribes/:id/stop',
      handler: (ctx) => {
        const t = find(idParam(ctx));
        stopTranscribe(world, t);
        return ok(json(t));
      },
    },
    {
      method: 'delete',
      path: '/transcribes/:id',
      handler: (ctx) => {
        const t = find(idParam(ctx));
        stopTranscribe(world, t);
        t.tmDelete = world.now().text;
        for (const x of world.transcripts) if (x.transcribeId === t.id) x.deleted = true;
        return ok(json(t));
      },
    },
    { method: 'get', path: '/transcripts', handler: transcripts },
  ];
}
