// Small helpers for the benchmarks: percentiles, rates and plain-text tables. Figures only, no asserts.

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile of already sorted values (NaN when empty). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** Events per second inside [from, to) (ms timestamps). */
export function ratePerSecond(times: readonly number[], from: number, to: number): number {
  const seconds = (to - from) / 1000;
  if (seconds <= 0) return Number.NaN;
  return times.filter((at) => at >= from && at < to).length / seconds;
}

/** The busiest whole second: most events in any 1 s window starting at an event. */
export function peakPerSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= 1000) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}

export function fixed(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "n/a";
}

export type Verdict = "PASS" | "MISS" | "";

/** PASS when `value` is at or under `target` (all our targets are ceilings). */
export function atMost(value: number, target: number): Verdict {
  if (!Number.isFinite(value)) return "MISS";
  return value <= target ? "PASS" : "MISS";
}
