// Which of the calls' search attributes the namespace has: a workflow started with, or upserting,
// an attribute the namespace lacks is refused (or fails its task), so only those found are used.
import type { Client } from '@temporalio/client';
import { CALL_SEARCH_ATTRIBUTE_NAMES } from '../../workflows/search-attributes';
import type { Logger } from '../logger';

export interface SearchAttributeRegistry {
  /** The calls' attributes registered on the namespace (by name); empty when that cannot be known. */
  registered(): Promise<ReadonlySet<string>>;
  /** SEARCH_PHONE_NUMBERS: the caller's and the called number are attributes too (they are personal data). */
  phoneNumbers: boolean;
}

/** How long an answer is kept: attributes registered while the process runs are used within a minute. */
const REFRESH_MS = 60_000;

/**
 * Asks the namespace (the operator service's ListSearchAttributes) at most once a minute. A failure
 * (a server that refuses the operator service to this identity) leaves the last answer standing
 * (none before the first), is logged once, and is asked again at the next start.
 */
export function namespaceSearchAttributes(
  client: Client,
  opts: { phoneNumbers: boolean; log: Logger; deadlineMs?: number },
): SearchAttributeRegistry {
  let cached: { at: number; names: ReadonlySet<string> } | undefined;
  let pending: Promise<ReadonlySet<string>> | undefined;
  let warned = false;
  /** The namespace's answer; undefined when it gave none (the last answer stands). */
  const ask = async (): Promise<ReadonlySet<string> | undefined> => {
    try {
      const answer = await client.withDeadline(Date.now() + (opts.deadlineMs ?? 2000), () =>
        client.connection.operatorService.listSearchAttributes({ namespace: client.options.namespace }),
      );
      const names = new Set(
        Object.keys(answer.customAttributes ?? {}).filter((n) => CALL_SEARCH_ATTRIBUTE_NAMES.includes(n)),
      );
      const missing = CALL_SEARCH_ATTRIBUTE_NAMES.filter((n) => !names.has(n));
      if (missing.length && !warned) {
        warned = true;
        opts.log.warn('search attributes not registered on the namespace: calls cannot be found by them', {
          missing,
          register:
            'temporal operator search-attribute create --name <name> --type Keyword (README "Finding calls")',
        });
      }
      return names;
    } catch (err) {
      if (!warned) {
        warned = true;
        opts.log.warn('could not list the namespace search attributes: calls are started without them', {
          error: err as Error,
        });
      }
      return undefined;
    }
  };
  return {
    phoneNumbers: opts.phoneNumbers,
    // Once known, a call's start never waits for the namespace: a stale answer is used while a
    // fresh one is asked for in the background.
    async registered() {
      if (!cached || Date.now() - cached.at >= REFRESH_MS) {
        pending ??= ask().then((names) => {
          if (names) cached = { at: Date.now(), names };
          pending = undefined;
          return names ?? cached?.names ?? new Set<string>();
        });
      }
      return cached?.names ?? pending!;
    },
  };
}

/** No attributes: tests and tools that start calls without asking the namespace. */
export const NO_SEARCH_ATTRIBUTES: SearchAttributeRegistry = {
  phoneNumbers: false,
  registered: () => Promise.resolve(new Set()),
};
