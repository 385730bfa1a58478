import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import type { CallSnapshot } from '../../src/ingress/call-signals';
import { TemporalUnavailableError, type SignalOutcome } from '../../src/ingress/call-workflows';
import { Counters } from '../../src/ingress/metrics';
import { RefusedEvents, type RefusedEventsOptions } from '../../src/ingress/refused-events';
import { createLogger } from '../../src/logger';
import type { CallStatus } from '../../workflows/messages';
import { ManualSchedule } from '../helpers/manual-schedule';
import { RecordingWorkflows, type Recorded } from '../helpers/recording-workflows';

const unavailable = () => new TemporalUnavailableError('Temporal is unreachable');
const snapshot = (callId: string, status: CallStatus): CallSnapshot => ({
  kind: 'call',
  eventType: `call_${status}`,
  callId,
  status,
});
const startInput = (callId: string) => ({
  callId,
  profileName: 'default',
  profile: DEFAULT_AGENT_CONFIG.profiles['default']!,
});
const reconcile = (callId: string, reason = 'events-refused'): Recorded => ({
  method: 'reconcile',
  callId,
  request: { reason } as never,
});

interface Harness {
  refused: RefusedEvents;
  workflows: RecordingWorkflows;
  timers: ManualSchedule;
  counters: Counters;
  logs: { level: string; msg: string; fields: Record<string, unknown> }[];
  /** Fires the pending retry timer (checking its delay) and waits for the round to end. */
  round: (delayMs?: number) => Promise<void>;
}

let h: Harness;

function setup(options: Partial<RefusedEventsOptions> = {}): Harness {
  const workflows = new RecordingWorkflows();
  const timers = new ManualSchedule();
  const counters = new Counters();
  const logs: Harness['logs'] = [];
  const log = createLogger({
    level: 'debug',
    format: 'json',
    write: (line) => {
      const { level, msg, time: _time, ...fields } = JSON.parse(line) as Record<string, unknown>;
      logs.push({ level: String(level), msg: String(msg), fields });
    },
  });
  const refused = new RefusedEvents({ workflows, counters, log, schedule: timers.schedule, ...options });
  h = {
    refused,
    workflows,
    timers,
    counters,
    logs,
    round: async (delayMs = 1000) => {
      expect(timers.pending.map((t) => t.delayMs)).toEqual([delayMs]);
      timers.fire();
      await refused.runRound();
    },
  };
  return h;
}

afterEach(() => h.refused.close());

describe('RefusedEvents: calls whose events were refused', () => {
  it('retries about every second while Temporal is down, and asks the call to reconcile once it is back', async () => {
    setup();
    h.workflows.error = unavailable();
    h.refused.remember('c1');
    expect(h.counters.get('events_refused_pending')).toBe(1);

    await h.round();
    await h.round();
    expect(h.workflows.calls).toEqual([reconcile('c1'), reconcile('c1')]);

    h.workflows.error = undefined;
    await h.round();
    expect(h.workflows.calls).toEqual([reconcile('c1'), reconcile('c1'), reconcile('c1')]);
    // Done: nothing is pending and no timer is left.
    expect(h.timers.pending).toEqual([]);
    expect(h.counters.get('events_refused_pending')).toBe(0);
    expect(h.counters.get('reconcile_sent')).toBe(1);
  });

  it.each(['no-workflow', 'call-ended'] as const)('is done with a call when it is %s', async (outcome) => {
    setup();
    h.workflows.outcome = outcome;
    h.refused.remember('c1');
    await h.round();
    expect(h.workflows.calls).toEqual([reconcile('c1')]);
    expect(h.timers.pending).toEqual([]);
    expect(h.counters.get('reconcile_sent')).toBe(0);
  });

  it('starts a call whose start was refused, with the furthest snapshot, then asks it to reconcile', async () => {
    setup();
    h.refused.rememberStart(startInput('c1'), snapshot('c1', 'ringing'));
    h.refused.rememberStart(startInput('c1'), snapshot('c1', 'progressing'));
    // A retry of an older snapshot, arriving late, does not take the newer one's place.
    h.refused.rememberStart(startInput('c1'), snapshot('c1', 'ringing'));
    await h.round();
    expect(h.workflows.calls).toEqual([
      { method: 'signalWithStart', input: startInput('c1'), event: snapshot('c1', 'progressing') },
      reconcile('c1'),
    ]);
    expect(h.timers.pending).toEqual([]);
  });

  it('starts it with the hangup when that was refused too', async () => {
    setup();
    h.refused.rememberStart(startInput('c1'), snapshot('c1', 'progressing'));
    h.refused.remember('c1', snapshot('c1', 'hangup'));
    await h.round();
    expect(h.workflows.calls).toEqual([
      { method: 'signalWithStart', input: startInput('c1'), event: snapshot('c1', 'hangup') },
      reconcile('c1'),
    ]);
  });

  it('keeps the start while the reconcile cannot be sent, and does not send it twice', async () => {
    setup();
    h.refused.rememberStart(startInput('c1'), snapshot('c1', 'progressing'));
    h.workflows.respond = (r) => {
      if (r.method === 'reconcile' && h.workflows.calls.length === 2) throw unavailable();
      return 'delivered';
    };
    await h.round();
    await h.round();
    expect(h.workflows.calls).toEqual([
      { method: 'signalWithStart', input: startInput('c1'), event: snapshot('c1', 'progressing') },
      reconcile('c1'),
      reconcile('c1'),
    ]);
    expect(h.timers.pending).toEqual([]);
  });

  it('does not reconcile a call whose workflow already ran and closed', async () => {
    setup();
    h.workflows.outcome = 'call-ended';
    h.refused.rememberStart(startInput('c1'), snapshot('c1', 'progressing'));
    await h.round();
    expect(h.workflows.calls).toEqual([
      { method: 'signalWithStart', input: startInput('c1'), event: snapshot('c1', 'progressing') },
    ]);
    expect(h.counters.get('events_refused_pending')).toBe(0);
  });

  it('only reconciles a call whose workflow was started meanwhile', async () => {
    setup();
    h.refused.rememberStart(startInput('c1'), snapshot('c1', 'progressing'));
    h.refused.started('c1');
    await h.round();
    expect(h.workflows.calls).toEqual([reconcile('c1')]);
  });

  it('asks each call once however many of its events were refused, the most recently refused last', async () => {
    setup();
    h.refused.remember('c1');
    h.refused.remember('c2');
    h.refused.remember('c1');
    h.refused.remember('c1');
    expect(h.counters.get('events_refused_pending')).toBe(2);
    await h.round();
    expect(h.workflows.calls).toEqual([reconcile('c2'), reconcile('c1')]);
  });

  it('asks again when an event of the call was refused while it was being asked', async () => {
    setup();
    h.refused.remember('c1');
    h.workflows.respond = (r) => {
      if (h.workflows.calls.length === 1) h.refused.remember('c1');
      return r.method === 'reconcile' ? 'delivered' : 'no-workflow';
    };
    await h.round();
    await h.round();
    expect(h.workflows.calls).toEqual([reconcile('c1'), reconcile('c1')]);
    expect(h.timers.pending).toEqual([]);
  });

  it('stops the round at the first call Temporal refuses, and goes on from there later', async () => {
    setup();
    for (const id of ['c1', 'c2', 'c3']) h.refused.remember(id);
    h.workflows.respond = (r) => {
      if (r.method === 'reconcile' && r.callId === 'c2' && h.workflows.calls.length === 2)
        throw unavailable();
      return 'delivered';
    };
    await h.round();
    expect(h.workflows.calls).toEqual([reconcile('c1'), reconcile('c2')]);
    await h.round();
    expect(h.workflows.calls.slice(2)).toEqual([reconcile('c2'), reconcile('c3')]);
    expect(h.timers.pending).toEqual([]);
  });

  it('gives a call up after a bounded number of other failures, without holding up the others', async () => {
    setup({ maxFailures: 3 });
    h.refused.remember('c1');
    h.refused.remember('c2');
    h.workflows.respond = (r): SignalOutcome => {
      if (r.method === 'reconcile' && r.callId === 'c1') throw new Error('boom');
      return 'delivered';
    };
    await h.round();
    expect(h.workflows.calls).toEqual([reconcile('c1'), reconcile('c2')]);
    await h.round();
    await h.round();
    expect(h.workflows.calls.slice(2)).toEqual([reconcile('c1'), reconcile('c1')]);
    expect(h.timers.pending).toEqual([]);
    expect(h.counters.get('events_refused_abandoned')).toBe(1);
    expect(h.counters.get('events_refused_pending')).toBe(0);
    const boom = {
      name: 'Error',
      message: 'boom',
      stack: expect.stringContaining('Error: boom\n') as unknown,
    };
    expect(h.logs.filter((l) => l.level !== 'debug')).toEqual([
      {
        level: 'warn',
        msg: 'reconcile of a call failed, will retry',
        fields: { callId: 'c1', attempt: 1, error: boom },
      },
      { level: 'info', msg: 'reconciled calls whose events were refused', fields: { calls: 1, pending: 1 } },
      {
        level: 'warn',
        msg: 'reconcile of a call failed, will retry',
        fields: { callId: 'c1', attempt: 2, error: boom },
      },
      {
        level: 'error',
        msg: 'reconcile of a call given up',
        fields: { callId: 'c1', attempts: 3, error: boom },
      },
    ]);
  });

  it('remembers a bounded number of calls, forgetting the oldest (counted)', async () => {
    setup({ capacity: 2 });
    h.refused.remember('c1');
    h.refused.remember('c2');
    h.refused.remember('c3');
    expect(h.counters.get('events_refused_dropped')).toBe(1);
    expect(h.counters.get('events_refused_pending')).toBe(2);
    await h.round();
    expect(h.workflows.calls).toEqual([reconcile('c2'), reconcile('c3')]);
    expect(h.counters.get('events_refused_pending')).toBe(0);
  });

  it('stops on close: the retry timer is cancelled, and nothing is scheduled afterwards', async () => {
    setup();
    h.refused.remember('c1');
    expect(h.timers.pending).toHaveLength(1);
    await h.refused.close();
    expect(h.timers.pending).toEqual([]);

    h.refused.remember('c2');
    h.refused.requestSweep();
    expect(h.timers.pending).toEqual([]);
    expect(h.workflows.calls).toEqual([]);
  });

  it('stops on close: the round in flight ends after its current call, and close waits for it', async () => {
    setup();
    h.refused.remember('c1');
    h.refused.remember('c2');
    let release!: () => void;
    h.workflows.respond = () =>
      h.workflows.calls.length > 1
        ? 'delivered'
        : new Promise<SignalOutcome>((resolve) => (release = () => resolve('delivered')));
    h.timers.fire();
    await waitUntil(() => h.workflows.calls.length === 1);

    let closed = false;
    const closing = h.refused.close().then(() => (closed = true));
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(closed).toBe(false);
    release();
    await closing;
    expect(h.workflows.calls).toEqual([reconcile('c1')]);
    expect(h.timers.pending).toEqual([]);
  });
});

describe('RefusedEvents: the sweep at start', () => {
  it('asks every running call to reconcile, at once, before the refused calls', async () => {
    setup();
    h.workflows.running = ['r1', 'r2'];
    h.refused.requestSweep();
    h.refused.remember('c1');
    await h.round(0);
    expect(h.workflows.calls).toEqual([
      { method: 'runningCalls' },
      reconcile('r1', 'ingress-started'),
      reconcile('r2', 'ingress-started'),
      reconcile('c1'),
    ]);
    expect(h.timers.pending).toEqual([]);
    expect(h.counters.get('reconcile_sent')).toBe(3);
  });

  it('retries the sweep about every second while Temporal is unreachable', async () => {
    setup();
    h.workflows.running = ['r1'];
    h.workflows.error = unavailable();
    h.refused.requestSweep();
    await h.round(0);
    await h.round(1000);
    h.workflows.error = undefined;
    await h.round(1000);
    expect(h.workflows.calls).toEqual([
      { method: 'runningCalls' },
      { method: 'runningCalls' },
      { method: 'runningCalls' },
      reconcile('r1', 'ingress-started'),
    ]);
    expect(h.timers.pending).toEqual([]);
  });

  it('sweeps again from the start when Temporal goes away during the sweep', async () => {
    setup();
    h.workflows.running = ['r1', 'r2'];
    h.refused.requestSweep();
    h.workflows.respond = (r) => {
      if (r.method === 'reconcile' && r.callId === 'r2' && h.workflows.calls.length === 3)
        throw unavailable();
      return 'delivered';
    };
    await h.round(0);
    await h.round(1000);
    expect(h.workflows.calls).toEqual([
      { method: 'runningCalls' },
      reconcile('r1', 'ingress-started'),
      reconcile('r2', 'ingress-started'),
      { method: 'runningCalls' },
      reconcile('r1', 'ingress-started'),
      reconcile('r2', 'ingress-started'),
    ]);
    expect(h.timers.pending).toEqual([]);
  });

  it('logs a call that fails otherwise and goes on; the sweep is not repeated', async () => {
    setup();
    h.workflows.running = ['r1', 'r2'];
    h.workflows.respond = (r) => {
      if (r.method === 'reconcile' && r.callId === 'r1') throw new Error('boom');
      return 'delivered';
    };
    h.refused.requestSweep();
    await h.round(0);
    expect(h.workflows.calls).toEqual([
      { method: 'runningCalls' },
      reconcile('r1', 'ingress-started'),
      reconcile('r2', 'ingress-started'),
    ]);
    expect(h.timers.pending).toEqual([]);
    expect(h.logs.filter((l) => l.level === 'warn')).toEqual([
      {
        level: 'warn',
        msg: 'reconcile request failed',
        fields: {
          callId: 'r1',
          reason: 'ingress-started',
          error: {
            name: 'Error',
            message: 'boom',
            stack: expect.stringContaining('Error: boom\n') as unknown,
          },
        },
      },
    ]);
  });

  it('keeps at most 8 reconcile signals in flight', async () => {
    setup();
    h.workflows.running = Array.from({ length: 20 }, (_, i) => `r${i}`);
    let inFlight = 0;
    let most = 0;
    const waiting: (() => void)[] = [];
    h.workflows.respond = async (r): Promise<SignalOutcome> => {
      if (r.method !== 'reconcile') return 'delivered';
      most = Math.max(most, ++inFlight);
      await new Promise<void>((resolve) => waiting.push(resolve));
      inFlight--;
      return 'delivered';
    };
    h.refused.requestSweep();
    h.timers.fire();
    for (let released = 0; released < 20; released++) {
      await waitUntil(() => waiting.length > 0);
      waiting.shift()!();
    }
    await h.refused.runRound();
    expect(most).toBe(8);
    expect(h.workflows.calls.filter((c) => c.method === 'reconcile').map((c) => c.callId)).toEqual(
      h.workflows.running,
    );
  });
});

/** Lets pending promise callbacks run until `check` holds (no timers: this is all in-process). */
async function waitUntil(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise<void>((resolve) => setImmediate(resolve));
  expect(check()).toBe(true);
}
