/** Sparse term vectors: [term, weight] pairs sorted by term. */
import type { TermVector } from "./grouping-contract.js";

export function dot(a: TermVector, b: TermVector): number {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.length && j < b.length) {
    const ta = a[i]![0];
    const tb = b[j]![0];
    if (ta === tb) s += a[i++]![1] * b[j++]![1];
    else if (ta < tb) i++;
    else j++;
  }
  return s;
}

export function norm(a: TermVector): number {
  let s = 0;
  for (const [, w] of a) s += w * w;
  return Math.sqrt(s);
}

export function cosine(a: TermVector, b: TermVector): number {
  const n = norm(a) * norm(b);
  return n === 0 ? 0 : dot(a, b) / n;
}

/** Heaviest `max` terms (ties by term, so the result is deterministic), sorted by term. */
export function prune(weights: ReadonlyMap<string, number>, max: number): [string, number][] {
  const entries = [...weights].filter(([, w]) => w > 0);
  if (entries.length > max) {
    entries.sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
    entries.length = max;
  }
  return entries.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}

export function normalised(v: readonly (readonly [string, number])[]): [string, number][] {
  const n = norm(v);
  return v.map(([t, w]) => [t, n === 0 ? 0 : round(w / n)]);
}

/** Sum of vectors (as a map). */
export function addInto(acc: Map<string, number>, v: TermVector, scale = 1): void {
  for (const [t, w] of v) acc.set(t, (acc.get(t) ?? 0) + w * scale);
}

/** Fixed precision keeps JSON small and sums reproducible across engines. */
export function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
