/**
 * MinHash over a report's set of topic tokens, cut into LSH bands.
 *
 * With BANDS bands of ROWS rows, two reports whose token sets have Jaccard similarity J share
 * at least one band key with probability 1 - (1 - J^ROWS)^BANDS (see docs/gaps.md for the figures).
 * Keys are namespaced by server ("<server>|<band>|<hash>"), so an indexed lookup on them can
 * never return a gap of another server; the suffix has a fixed shape, so no server name can
 * forge another's prefix.
 */
import { fmix32, fnv1a, hex8 } from "./hash.js";

/** 24 bands of 2 rows: a pair at J = 0.25 collides with p = 0.79, at J = 0.4 with p = 0.98, at J = 0.1 with p = 0.21. */
export const LSH_BANDS = 32;
export const LSH_ROWS = 1;

// One seed per hash function, fixed forever: changing them changes every stored band key.
const SEEDS: readonly number[] = Array.from({ length: LSH_BANDS * LSH_ROWS }, (_, i) =>
  fmix32(0x5bd1e995 + i * 0x9e3779b9),
);

/** The minimum of each seeded hash over the set (the MinHash sketch). Empty set -> empty sketch. */
export function minhash(set: readonly string[]): number[] {
  if (set.length === 0) return [];
  const base = new Uint32Array(set.length);
  for (let i = 0; i < set.length; i++) base[i] = fnv1a(set[i]!);
  const out = new Array<number>(SEEDS.length);
  for (let s = 0; s < SEEDS.length; s++) {
    const seed = SEEDS[s]!;
    let min = 0xffffffff;
    for (let i = 0; i < base.length; i++) {
      const v = fmix32(base[i]! ^ seed);
      if (v < min) min = v;
    }
    out[s] = min;
  }
  return out;
}

/** Band keys of a token set on one server. */
export function bandKeys(server: string, set: readonly string[]): string[] {
  const sketch = minhash(set);
  if (sketch.length === 0) return [];
  const keys: string[] = [];
  const prefix = `${server}|`;
  for (let b = 0; b < LSH_BANDS; b++) {
    let h = 0x2545f491 ^ b;
    for (let r = 0; r < LSH_ROWS; r++) h = fmix32(h ^ sketch[b * LSH_ROWS + r]!) + r;
    keys.push(`${prefix}${b}|${hex8(h)}`);
  }
  return keys;
}
