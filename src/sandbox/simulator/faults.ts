// Faults the simulator injects on purpose, as a real network and a real VoIPBIN have them: events
// dropped, duplicated, or delayed (and so reordered); REST requests that fail or are slow. Chance
// is a seeded sequence: the same faults for the same run.
import { z } from 'zod';
import { INJECTED_STATUSES, type InjectedStatus } from './api-error';

const chance = z.number().min(0).max(1);
const ms = z.number().int().min(0).max(60_000);

export const faultsSchema = z
  .object({
    /** Each event (by webhook and WebSocket alike), independently. */
    events: z
      .object({
        /** Lost for good by both paths (the agent's reconciliation is what finds it). */
        drop: chance.optional(),
        /** Delivered twice. */
        duplicate: chance.optional(),
        /** Held back a random time up to this: events of a call then arrive out of order. */
        delayMs: ms.optional(),
        /** Only events whose type matches (a regular expression, e.g. `^transcript_created$`); default all. */
        types: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /** REST requests whose path matches `paths` (a regular expression; default every one). */
    rest: z
      .object({
        /** Answered `status` instead of being carried out. */
        errorRate: chance.optional(),
        /** Default 500, VoIPBIN's answer to a server-side failure; 400, 401, 403, 404, 409 or 503 too. */
        status: z
          .number()
          .int()
          .refine((n): n is InjectedStatus => (INJECTED_STATUSES as number[]).includes(n), {
            message: `one of ${INJECTED_STATUSES.join(', ')}`,
          })
          .optional(),
        /** Each answered this much later. */
        latencyMs: ms.optional(),
        paths: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    /**
     * `POST /transfers` is answered 200 but the call stays with the agent (the transferer's
     * hangup did not happen): the agent must find out from VoIPBIN and carry on the call.
     */
    transfers: z
      .object({ keepCall: z.literal(true) })
      .strict()
      .optional(),
    /** The chance sequence's seed (default 1). */
    seed: z.number().int().optional(),
  })
  .strict();

export type SimulatorFaults = z.input<typeof faultsSchema>;

/** The faults in force and their chance sequence. */
export class FaultPlan {
  private x: number;

  constructor(readonly faults: SimulatorFaults) {
    this.x = (faults.seed ?? 1) >>> 0 || 1;
  }

  /** The next number of the sequence, in [0, 1). */
  private next(): number {
    // xorshift32: small, and the same sequence everywhere.
    this.x ^= this.x << 13;
    this.x ^= this.x >>> 17;
    this.x ^= this.x << 5;
    this.x >>>= 0;
    return this.x / 2 ** 32;
  }

  private happens(p: number | undefined): boolean {
    return p !== undefined && p > 0 && this.next() < p;
  }

  /** What becomes of one event: how many copies go out, each after how long. */
  event(type: string): number[] {
    const e = this.faults.events;
    if (!e || (e.types !== undefined && !new RegExp(e.types).test(type))) return [0];
    if (this.happens(e.drop)) return [];
    const copies = this.happens(e.duplicate) ? 2 : 1;
    return Array.from({ length: copies }, () => (e.delayMs ? Math.floor(this.next() * e.delayMs) : 0));
  }

  /** A transfer VoIPBIN accepts leaves the call where it is. */
  get transferKeepsCall(): boolean {
    return this.faults.transfers?.keepCall === true;
  }

  /** For a REST request: an error status to answer instead, and how long to wait first. */
  rest(path: string): { status?: InjectedStatus; delayMs: number } {
    const r = this.faults.rest;
    if (!r || (r.paths !== undefined && !new RegExp(r.paths).test(path))) return { delayMs: 0 };
    return {
      delayMs: r.latencyMs ?? 0,
      ...(this.happens(r.errorRate) && { status: (r.status ?? 500) as InjectedStatus }),
    };
  }
}
