/** Small measuring helpers shared by the bench and its child processes. */
import { performance } from 'node:perf_hooks';

export const now = (): number => performance.now();

/** Median of the samples (mean of the two middle ones for an even count); null when there are none. */
export function median(samples: readonly number[]): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Rounds for the report: 3 significant decimals under 1, else 2 decimals (ms figures span 1e-3..1e5). */
export function round(value: number | null | undefined): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  return Math.abs(value) < 1 ? Number(value.toPrecision(3)) : Math.round(value * 100) / 100;
}

/** a / b, or null when either is missing (a failed side must not turn into a fake ratio). */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a == null || b == null || b === 0 ? null : round(a / b);
}

/** Current resident set size in MiB. */
export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 2 ** 20);
}

/** Peak resident set size of this process so far in MiB (getrusage's ru_maxrss, which Node reports in KiB). */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/**
 * Calls `fn` repeatedly and returns one duration per call: at least `minReps` calls, then more until
 * `budgetMs` of measuring time is spent or `maxReps` is reached, so fast code gets many samples and slow
 * code does not blow the time budget.
 */
export async function sample(fn: () => unknown, opts: { minReps: number; maxReps: number; budgetMs: number }): Promise<number[]> {
  const times: number[] = [];
  const start = now();
  while (times.length < opts.maxReps && (times.length < opts.minReps || now() - start < opts.budgetMs)) {
    const t0 = now();
    const result = fn();
    // Only await real promises: an extra microtask would add noise to microsecond-scale sync calls.
    if (result instanceof Promise) await result;
    times.push(now() - t0);
  }
  return times;
}

/** Progress lines go to stderr so `--json` keeps stdout to exactly one JSON object. */
export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
