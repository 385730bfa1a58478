// The calls' search attributes: how an operator finds a call (`temporal workflow list --query`, the
// Temporal UI, `GET /calls`). Set at start by whoever starts the call's workflow, and upserted by
// the workflow as the call goes on; only those registered on the namespace (a workflow that sets an
// unregistered one fails its task), so the starter tells the workflow which ones it may set.
import type { SearchAttributePair } from '@temporalio/common';
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes';

const keyword = (name: string): SearchAttributeKey<'KEYWORD'> => ({ name, type: 'KEYWORD' });

export const CallSearchAttributes = {
  /** The VoIPBIN call id. */
  callId: keyword('VoipbinCallId'),
  /** The profile that answers the call. */
  profile: keyword('VoipbinProfile'),
  /** `inbound` or `outbound`. */
  direction: keyword('VoipbinDirection'),
  /** The VoIPBIN call's status as the workflow knows it: dialing, ringing, progressing, ..., hangup. */
  callStatus: keyword('VoipbinCallStatus'),
  /** Why the call ended (EndReason), set when it does. */
  endReason: keyword('VoipbinEndReason'),
  /** The caller's number: only when the operator opts in (SEARCH_PHONE_NUMBERS). */
  caller: keyword('VoipbinCaller'),
  /** The number called: only when the operator opts in. */
  called: keyword('VoipbinCalled'),
} as const;

export type CallSearchAttribute = keyof typeof CallSearchAttributes;

/** Every attribute, by the name to register (Keyword each): `serve` registers them on its server. */
export const CALL_SEARCH_ATTRIBUTE_NAMES: readonly string[] = Object.values(CallSearchAttributes).map(
  (k) => k.name,
);

/** What the starter knows of a call when it starts its workflow. */
export interface CallFacts {
  callId: string;
  profile: string;
  direction: 'inbound' | 'outbound';
  caller?: string;
  called?: string;
}

/**
 * The attributes a call's workflow starts with: those of `facts` registered on the namespace
 * (`registered`, by name), phone numbers only when `phoneNumbers`.
 */
export function startSearchAttributes(
  facts: CallFacts,
  registered: ReadonlySet<string>,
  phoneNumbers: boolean,
): SearchAttributePair[] {
  const values: [SearchAttributeKey<'KEYWORD'>, string | undefined][] = [
    [CallSearchAttributes.callId, facts.callId],
    [CallSearchAttributes.profile, facts.profile],
    [CallSearchAttributes.direction, facts.direction],
    [CallSearchAttributes.caller, phoneNumbers ? facts.caller : undefined],
    [CallSearchAttributes.called, phoneNumbers ? facts.called : undefined],
  ];
  return values
    .filter(
      (v): v is [SearchAttributeKey<'KEYWORD'>, string] => v[1] !== undefined && registered.has(v[0].name),
    )
    .map(([key, value]) => ({ key, value }));
}

/** The attributes the workflow itself keeps up to date. */
export type UpsertedSearchAttribute = 'callStatus' | 'endReason';

/** The attributes the workflow itself keeps up to date, of those registered (for its input). */
export function upsertedByWorkflow(registered: ReadonlySet<string>): UpsertedSearchAttribute[] {
  return (['callStatus', 'endReason'] as const).filter((a) => registered.has(CallSearchAttributes[a].name));
}
