import type { Schedule } from '../../src/ingress/refused-events';

/** A `Schedule` whose timers run only when the test fires them: no test sleeps through a retry delay. */
export class ManualSchedule {
  /** Timers set and neither fired nor cancelled, oldest first. */
  readonly pending: { run: () => void; delayMs: number }[] = [];

  readonly schedule: Schedule = (run, delayMs) => {
    const timer = { run, delayMs };
    this.pending.push(timer);
    return () => this.remove(timer);
  };

  /** Fires the oldest timer; fails when none is set. */
  fire(): void {
    const timer = this.pending[0];
    if (!timer) throw new Error('no timer is set');
    this.remove(timer);
    timer.run();
  }

  private remove(timer: { run: () => void; delayMs: number }): void {
    const at = this.pending.indexOf(timer);
    if (at !== -1) this.pending.splice(at, 1);
  }
}
