import { setMaxListeners } from 'node:events';

/**
 * Every timer the simulator starts goes through here, so close() can stop them all at once.
 */
export class Timers {
  private readonly handles = new Set<NodeJS.Timeout>();
  private readonly controller = new AbortController();

  constructor() {
    // Every waiting script listens for close: hundreds of calls are normal, not a leak.
    setMaxListeners(0, this.controller.signal);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  /** Runs fn after ms (unless closed first); returns a cancel function. */
  after(ms: number, fn: () => void): () => void {
    if (this.closed) return () => undefined;
    const handle = setTimeout(
      () => {
        this.handles.delete(handle);
        fn();
      },
      Math.max(0, ms),
    );
    this.handles.add(handle);
    return () => {
      clearTimeout(handle);
      this.handles.delete(handle);
    };
  }

  /** Resolves after ms; rejects with an AbortError when the timers are closed first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        reject(abortError());
        return;
      }
      const onAbort = () => {
        cancel();
        reject(abortError());
      };
      const cancel = this.after(ms, () => {
        this.signal.removeEventListener('abort', onAbort);
        resolve();
      });
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  close(): void {
    for (const handle of this.handles) clearTimeout(handle);
    this.handles.clear();
    this.controller.abort();
  }
}

export function abortError(): Error {
  const err = new Error('simulator closed');
  err.name = 'AbortError';
  return err;
}
