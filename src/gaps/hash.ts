/** Small deterministic 32-bit hashes (no crypto needed: keys only have to be stable and well spread). */

/** FNV-1a over the UTF-16 code units of a string, with a seed folded in. */
export function fnv1a(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

/** MurmurHash3's finaliser: spreads the bits of a 32-bit value. */
export function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** 8 lower-case hex digits (a table lookup per byte: toString(16) + padStart was most of a signature's hashing cost). */
export function hex8(n: number): string {
  const x = n >>> 0;
  return HEX2[x >>> 24]! + HEX2[(x >>> 16) & 255]! + HEX2[(x >>> 8) & 255]! + HEX2[x & 255]!;
}

/** A 64-bit key as 16 hex digits, from two independent 32-bit hashes. */
export function hash64(text: string): string {
  return hex8(fnv1a(text, 0x9e3779b9)) + hex8(fnv1a(text, 0x7f4a7c15));
}
