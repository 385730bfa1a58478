// Which search attributes a call's workflow starts with and keeps: only those registered on the
// namespace (an unregistered one fails the start or the workflow's task), phone numbers only when
// the operator opts in.
import {
  CALL_SEARCH_ATTRIBUTE_NAMES,
  startSearchAttributes,
  upsertedByWorkflow,
} from '../../workflows/search-attributes';

const FACTS = {
  callId: 'c1',
  profile: 'sales',
  direction: 'inbound' as const,
  caller: '+15550001111',
  called: '+15550002222',
};
const ALL = new Set(CALL_SEARCH_ATTRIBUTE_NAMES);
const shown = (pairs: ReturnType<typeof startSearchAttributes>) =>
  pairs.map((p) => `${p.key.name}=${String(p.value)}`);

it('starts with the call id, profile and direction; the numbers only when opted in', () => {
  expect(shown(startSearchAttributes(FACTS, ALL, false))).toEqual([
    'VoipbinCallId=c1',
    'VoipbinProfile=sales',
    'VoipbinDirection=inbound',
  ]);
  expect(shown(startSearchAttributes(FACTS, ALL, true))).toEqual([
    'VoipbinCallId=c1',
    'VoipbinProfile=sales',
    'VoipbinDirection=inbound',
    'VoipbinCaller=+15550001111',
    'VoipbinCalled=+15550002222',
  ]);
  expect(startSearchAttributes(FACTS, ALL, true).every((p) => p.key.type === 'KEYWORD')).toBe(true);
});

it('leaves out what the namespace has not registered, at start and in the workflow', () => {
  const some = new Set(['VoipbinProfile', 'VoipbinEndReason', 'SomethingElse']);
  expect(shown(startSearchAttributes(FACTS, some, true))).toEqual(['VoipbinProfile=sales']);
  expect(upsertedByWorkflow(some)).toEqual(['endReason']);
  expect(upsertedByWorkflow(ALL)).toEqual(['callStatus', 'endReason']);
  expect(startSearchAttributes(FACTS, new Set(), true)).toEqual([]);
  expect(upsertedByWorkflow(new Set())).toEqual([]);
});
