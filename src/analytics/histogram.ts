/**
 * The latency histogram of tool-call rollups: fixed bucket bounds, so rollups from any proxy
 * and any hour add up bucket by bucket, and percentiles read off the sum. Pure functions; the
 * store, the proxy's spill, the REST answers and the dashboard share them.
 */

/** Upper bounds (inclusive) of each bucket, in ms; one more bucket holds everything slower. */
export const HISTOGRAM_BOUNDS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000, 60_000, 120_000,
] as const;

export type Histogram = number[];

export function emptyHistogram(): Histogram {
  return new Array<number>(HISTOGRAM_BOUNDS_MS.length + 1).fill(0);
}

/** The bucket a duration falls in. */
export function bucketOf(durationMs: number): number {
  for (let i = 0; i < HISTOGRAM_BOUNDS_MS.length; i++) if (durationMs <= HISTOGRAM_BOUNDS_MS[i]!) return i;
  return HISTOGRAM_BOUNDS_MS.length;
}

export function addToHistogram(h: Histogram, durationMs: number): void {
  h[bucketOf(durationMs)]! += 1;
}

export function mergeHistograms(into: Histogram, from: readonly number[]): void {
  for (let i = 0; i < into.length; i++) into[i]! += from[i] ?? 0;
}

/**
 * The q-quantile (0 < q ≤ 1) in ms, interpolated linearly inside its bucket; the open last
 * bucket answers its lower bound. Null for an empty histogram.
 */
export function quantileMs(h: readonly number[], q: number): number | null {
  const total = h.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    const n = h[i]!;
    if (n === 0) continue;
    if (seen + n >= rank) {
      const lower = i === 0 ? 0 : HISTOGRAM_BOUNDS_MS[i - 1]!;
      if (i === HISTOGRAM_BOUNDS_MS.length) return lower;
      const upper = HISTOGRAM_BOUNDS_MS[i]!;
      return lower + ((upper - lower) * (rank - seen)) / n;
    }
    seen += n;
  }
  return HISTOGRAM_BOUNDS_MS[HISTOGRAM_BOUNDS_MS.length - 1]!;
}
