import { z } from 'zod';
import { errors } from './api-error';
import { requestHangup } from './call-lifecycle';
import { type Address, callJson } from './resources';
import { type Reply, type RouteContext, type RouteDef, idParam, listPage, ok, parseBody } from './route';
import type { CallState, World } from './world';

/** Calls (API-NOTES §4). */

const AddressBody = z.object({
  type: z.string().nullish(),
  target: z.string().nullish(),
  target_name: z.string().nullish(),
  name: z.string().nullish(),
  detail: z.string().nullish(),
});

const CreateBody = z.object({
  source: AddressBody.nullish(),
  destinations: z.array(AddressBody).nullish(),
  flow_id: z.string().nullish(),
  actions: z.array(z.unknown()).nullish(),
  anonymous: z.string().nullish(),
  variables: z.record(z.string(), z.string()).nullish(),
});

function toAddress(a: z.infer<typeof AddressBody>): Address {
  return {
    type: a.type ?? '',
    target: a.target ?? '',
    target_name: a.target_name ?? '',
    name: a.name ?? '',
    detail: a.detail ?? '',
  };
}

/** `dial` creates an outgoing call to one destination and starts its callee script. */
export function callRoutes(
  world: World,
  dial: (source: Address, destination: Address) => CallState,
): RouteDef[] {
  const json = (c: CallState) => callJson(c.record, world.customerId);

  const find = (ctx: RouteContext): CallState => {
    const call = world.calls.get(idParam(ctx));
    if (!call) throw errors.notFound('CALL_NOT_FOUND');
    return call;
  };

  const create = (ctx: RouteContext): Reply => {
    const body = parseBody(ctx, CreateBody);
    if (!body.source?.target) throw errors.invalidArgument('The source field is required.');
    const destinations = body.destinations ?? [];
    if (destinations.length === 0 || destinations.some((d) => !d.target)) {
      throw errors.invalidArgument('The destinations field is required.');
    }
    const source = toAddress(body.source);
    const calls = destinations.map((d) => json(dial(source, toAddress(d))));
    return ok({ calls, groupcalls: [] });
  };

  return [
    { method: 'post', path: '/calls', handler: create },
    {
      method: 'get',
      path: '/calls',
      handler: (ctx) => listPage(ctx, [...world.calls.values()], (c) => c.record.createdMicros, json),
    },
    { method: 'get', path: '/calls/:id', handler: (ctx) => ok(json(find(ctx))) },
    {
      method: 'post',
      path: '/calls/:id/hangup',
      handler: (ctx) => {
        const call = find(ctx);
        requestHangup(world, call);
        return ok(json(call));
      },
    },
  ];
}
