import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { errors } from './api-error';
import { isUuid } from './clock';
import { enqueueSay, flushPlayback, tellPlayback } from './playback';
import { type SpeakingRecord, speakingJson } from './resources';
import { type Reply, type RouteContext, type RouteDef, idParam, listPage, ok, parseBody } from './route';
import type { World } from './world';

/** The Speaking API (API-NOTES §1): streaming TTS sessions. speaking_* events are never delivered. */

const CreateBody = z.object({
  reference_type: z.string().nullish(),
  reference_id: z.string().nullish(),
  language: z.string().nullish(),
  provider: z.string().nullish(),
  voice_id: z.string().nullish(),
  direction: z.string().nullish(),
});

const SayBody = z.object({ text: z.string().nullish() });

const MAX_TEXT = 5000;
const LIVE_CALL = new Set(['dialing', 'ringing', 'progressing']);

export function speakingRoutes(world: World): RouteDef[] {
  const json = (s: SpeakingRecord) => speakingJson(s, world.customerId);

  /** GET/stop/delete: unknown or deleted → 404 SPEAKING_NOT_FOUND. */
  const find = (ctx: RouteContext): SpeakingRecord => {
    const s = world.speakings.get(idParam(ctx));
    if (!s || s.tmDelete) throw errors.notFound('SPEAKING_NOT_FOUND');
    return s;
  };

  /** say/flush: tts-manager answers a bare 404 unless the session is active → RESOURCE_NOT_FOUND. */
  const findActive = (id: string): SpeakingRecord => {
    const s = world.speakings.get(id);
    if (!s || s.tmDelete || s.status !== 'active') throw errors.notFound();
    return s;
  };

  const stop = (s: SpeakingRecord): void => {
    if (s.status === 'stopped') return;
    s.status = 'stopped';
    s.tmUpdate = world.now().text;
    const call = s.referenceType === 'call' ? world.calls.get(s.referenceId) : undefined;
    if (call) flushPlayback(world, call);
  };

  const create = (ctx: RouteContext): Reply => {
    const body = parseBody(ctx, CreateBody);
    const referenceType = body.reference_type ?? '';
    if (referenceType !== 'call' && referenceType !== 'confbridge') {
      throw errors.invalidArgument('The provided reference_type is not valid.');
    }
    if (!isUuid(body.reference_id)) throw errors.invalidArgument('The provided reference_id is not valid.');
    const direction = body.direction ?? '';
    if (!['', 'in', 'out', 'both'].includes(direction)) {
      throw errors.invalidArgument('The provided direction is not valid.');
    }
    const referenceId = body.reference_id.toLowerCase();
    if (referenceType === 'confbridge') throw errors.notFound(); // no conferences in the simulator
    const call = world.calls.get(referenceId);
    if (!call) throw errors.notFound('CALL_NOT_FOUND');
    // The streaming session needs a live channel.
    if (!LIVE_CALL.has(call.record.status)) throw errors.internal();
    const duplicate = [...world.speakings.values()].some(
      (s) =>
        s.referenceType === referenceType &&
        s.referenceId === referenceId &&
        !s.tmDelete &&
        (s.status === 'initiating' || s.status === 'active'),
    );
    if (duplicate) throw errors.internal(); // tts-manager's bare 500, not the documented 409
    const created = world.now();
    const s: SpeakingRecord = {
      id: randomUUID(),
      referenceType,
      referenceId,
      language: body.language ?? '',
      provider: body.provider || 'elevenlabs',
      voiceId: body.voice_id ?? '',
      direction,
      // Inserted as initiating, set active before the POST returns.
      status: 'active',
      createdMicros: created.micros,
      tmCreate: created.text,
      tmUpdate: world.now().text,
    };
    world.speakings.set(s.id, s);
    return { status: 201, body: json(s) };
  };

  const say = (ctx: RouteContext): Reply => {
    const id = idParam(ctx);
    const { text } = parseBody(ctx, SayBody);
    if (text === undefined || text === null || text === '')
      throw errors.invalidArgument('The text field must not be empty.');
    if ([...text].length > MAX_TEXT) {
      throw errors.invalidArgument('The text field exceeds the 5000 character limit.');
    }
    const s = findActive(id);
    const call = s.referenceType === 'call' ? world.calls.get(s.referenceId) : undefined;
    if (call) {
      call.agentSaid.push(text);
      enqueueSay(world, call, text);
    }
    return ok(json(s));
  };

  const flush = (ctx: RouteContext): Reply => {
    const s = findActive(idParam(ctx));
    const call = s.referenceType === 'call' ? world.calls.get(s.referenceId) : undefined;
    if (call) tellPlayback(world, call, { kind: 'flushed', ...flushPlayback(world, call) });
    return ok(json(s));
  };

  return [
    { method: 'post', path: '/speakings', handler: create },
    {
      method: 'get',
      path: '/speakings',
      handler: (ctx) =>
        listPage(
          ctx,
          [...world.speakings.values()].filter((s) => !s.tmDelete),
          (s) => s.createdMicros,
          json,
        ),
    },
    { method: 'get', path: '/speakings/:id', handler: (ctx) => ok(json(find(ctx))) },
    { method: 'post', path: '/speakings/:id/say', handler: say },
    { method: 'post', path: '/speakings/:id/flush', handler: flush },
    {
      method: 'post',
      path: '/speakings/:id/stop',
      handler: (ctx) => {
        const s = find(ctx);
        stop(s);
        return ok(json(s));
      },
    },
    {
      method: 'delete',
      path: '/speakings/:id',
      handler: (ctx) => {
        const s = find(ctx);
        stop(s);
        s.tmDelete = world.now().text;
        s.tmUpdate = s.tmDelete;
        return ok(json(s));
      },
    },
  ];
}
