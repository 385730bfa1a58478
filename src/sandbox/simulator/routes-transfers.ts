import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { errors } from './api-error';
import { requestHangup } from './call-lifecycle';
import { isUuid } from './clock';
import { type Reply, type RouteDef, ok, parseBody } from './route';
import type { World } from './world';

/**
 * Transfers (openapi `POST /transfers`), as transfer-manager does them: a blind transfer hangs the
 * transferer call up (the agent's call leaves it: call_hangup follows) and dials the transferees
 * into the call's bridge; the simulator has no bridge, so the dialled side is not played. Real
 * VoIPBIN refuses a call that is not in a conference bridge (README "Tools").
 */
const TransferBody = z.object({
  transfer_type: z.enum(['attended', 'blind']),
  transferer_call_id: z.string(),
  transferee_addresses: z.array(
    z.object({
      type: z.string().nullish(),
      target: z.string().nullish(),
      target_name: z.string().nullish(),
      name: z.string().nullish(),
      detail: z.string().nullish(),
    }),
  ),
});

export function transferRoutes(world: World, keepsCall: () => boolean = () => false): RouteDef[] {
  const create = (ctx: Parameters<RouteDef['handler']>[0]): Reply => {
    const body = parseBody(ctx, TransferBody);
    if (!isUuid(body.transferer_call_id)) throw errors.invalidArgument('The transferer_call_id is invalid.');
    const addresses = body.transferee_addresses;
    if (addresses.length === 0 || addresses.some((a) => !a.target))
      throw errors.invalidArgument('The transferee_addresses field is required.');
    const call = world.calls.get(body.transferer_call_id.toLowerCase());
    if (!call) throw errors.notFound('CALL_NOT_FOUND');
    if (call.record.status !== 'progressing') throw errors.invalidArgument('The call is not in progress.');
    if (body.transfer_type === 'attended')
      throw errors.invalidArgument('Attended transfers are not simulated.');
    // transfer-manager's blindExecute: the transferer call is hung up first (unless a fault says
    // that hangup did not happen).
    if (!keepsCall()) requestHangup(world, call);
    const now = world.now().text;
    return ok({
      id: randomUUID(),
      customer_id: world.customerId,
      type: body.transfer_type,
      transferer_call_id: call.record.id,
      transferee_addresses: addresses.map((a) => ({
        type: a.type ?? '',
        target: a.target ?? '',
        target_name: a.target_name ?? '',
        name: a.name ?? '',
        detail: a.detail ?? '',
      })),
      transferee_call_id: '00000000-0000-0000-0000-000000000000',
      groupcall_id: randomUUID(),
      confbridge_id: randomUUID(),
      tm_create: now,
      tm_update: now,
      tm_delete: null,
    });
  };
  return [{ method: 'post', path: '/transfers', handler: create }];
}
