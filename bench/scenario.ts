import { cpus, loadavg, platform, release, totalmem } from 'node:os';

/** One figure a scenario measured, printed as `label  value unit`. */
export interface Figure {
  label: string;
  value: number | string;
  unit?: string;
}

/**
 * A benchmark: `npm run bench -- <name>` runs it alone. A scenario is one file in bench/scenarios/,
 * registered in the list in bench/scenarios/index.ts. It checks that what it timed went right and
 * throws if not: figures of a broken run are worth nothing.
 */
export interface Scenario {
  /** What `npm run bench -- <name>` takes: kebab-case. */
  name: string;
  /** One line: what is measured. */
  title: string;
  run(): Promise<Figure[]>;
}

/**
 * A scenario that compares systems failed its check on some of them: the figures of the others
 * (each checked on its own) are still printed, then the scenario fails with what went wrong.
 */
export class SomeSystemsFailed extends Error {
  override name = 'SomeSystemsFailed';
  constructor(
    readonly figures: Figure[],
    readonly failures: { system: string; error: unknown }[],
  ) {
    super(
      failures
        .map((f) => `${f.system}: ${f.error instanceof Error ? f.error.message : String(f.error)}`)
        .join('\n'),
    );
  }
}

/** The machine the figures come from, as printed above them. */
export function machine(): string {
  const cores = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return [
    `${cores.length} cores (${cores[0]?.model.trim() ?? 'unknown model'})`,
    `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `${platform()} ${release()}`,
    `Node ${process.version}`,
    `load average ${load}`,
  ].join(', ');
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function max(values: readonly number[]): number {
  return Math.max(...values);
}

export function min(values: readonly number[]): number {
  return Math.min(...values);
}

/** Milliseconds, rounded for printing. */
export function ms(value: number): number {
  return Math.round(value * 10) / 10;
}
