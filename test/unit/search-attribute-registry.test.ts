// Which search attributes the namespace has, as the ingress and `call` ask it: at most once a
// minute, never making a call's start wait once it is known, the last answer kept through a failure.
import type { Client } from '@temporalio/client';
import { silentLogger } from '../../src/logger';
import { namespaceSearchAttributes } from '../../src/temporal/search-attributes';

function fakeClient(answers: (() => Promise<Record<string, number>>)[]) {
  let asked = 0;
  const client = {
    options: { namespace: 'default' },
    withDeadline: <T>(_d: number, fn: () => Promise<T>) => fn(),
    connection: {
      operatorService: {
        listSearchAttributes: async () => ({
          customAttributes: await answers[Math.min(asked++, answers.length - 1)]!(),
        }),
      },
    },
  } as unknown as Client;
  return { client, asked: () => asked };
}

afterEach(() => jest.useRealTimers());

it('asks once, keeps the answer a minute, then answers at once from it while asking again', async () => {
  jest.useFakeTimers({ now: 0, doNotFake: ['nextTick', 'setImmediate'] });
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  const { client, asked } = fakeClient([
    () => Promise.resolve({ VoipbinCallId: 2, VoipbinProfile: 2, Unrelated: 2 }),
    () => slow.then(() => ({ VoipbinCallId: 2 })),
  ]);
  const registry = namespaceSearchAttributes(client, { phoneNumbers: false, log: silentLogger });
  expect([...(await registry.registered())]).toEqual(['VoipbinCallId', 'VoipbinProfile']);
  await registry.registered();
  expect(asked()).toBe(1);
  jest.setSystemTime(61_000);
  // Stale: answered from the last answer without waiting for the slow one.
  expect([...(await registry.registered())]).toEqual(['VoipbinCallId', 'VoipbinProfile']);
  expect(asked()).toBe(2);
  release();
  await new Promise((r) => setImmediate(r));
  expect([...(await registry.registered())]).toEqual(['VoipbinCallId']);
  expect(asked()).toBe(2);
});

it('a failed ask leaves the last answer standing, and none before the first', async () => {
  jest.useFakeTimers({ now: 0, doNotFake: ['nextTick', 'setImmediate'] });
  const { client } = fakeClient([
    () => Promise.reject(new Error('permission denied')),
    () => Promise.resolve({ VoipbinProfile: 2 }),
    () => Promise.reject(new Error('unavailable')),
  ]);
  const registry = namespaceSearchAttributes(client, { phoneNumbers: false, log: silentLogger });
  expect([...(await registry.registered())]).toEqual([]);
  expect([...(await registry.registered())]).toEqual(['VoipbinProfile']);
  jest.setSystemTime(61_000);
  await registry.registered();
  await new Promise((r) => setImmediate(r));
  expect([...(await registry.registered())]).toEqual(['VoipbinProfile']);
});
