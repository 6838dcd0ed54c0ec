/**
 * PROVISIONAL: replaced by the real engine at merge.
 *
 * A deliberately simple grouping engine with the exact public surface the real
 * one exports, so the store, API and tools can be built and tested against it.
 * Fingerprint = normalised what_i_needed + tool + type; band keys = MinHash
 * minima of word 2-shingles, namespaced by server; a report joins a candidate
 * gap when the fingerprint matches or the word Jaccard with the gap's terms is
 * at least 0.6 on the same tool. Nothing outside tests should rely on these
 * thresholds.
 */
import { createHash } from "node:crypto";
import {
  type GapChoice,
  type GapProfile,
  type GroupingInput,
  MAX_BANDS,
  MAX_CANDIDATES,
  MAX_PROFILE_TERMS,
  MAX_TERMS,
  type ReportSignature,
  type TermVector,
} from "./grouping-contract.js";

const STOP = new Set(
  "a an the to of for in on by with and or is it i my me we be was were that this from at as not no any all can could would need needed want wanted".split(
    " ",
  ),
);

function normalise(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, " uuid ")
    .replace(/\d{4}-\d{2}-\d{2}(t[\d:.]+z?)?/g, " date ")
    .replace(/\b[a-z]*\d[\w-]*\b/g, " num ")
    .split(/[^\p{L}\p{N}_]+/u)
    .filter((w) => w.length > 1 && !STOP.has(w));
}

const hash32 = (s: string, seed: number): number => {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
};

function weigh(into: Map<string, number>, words: string[], weight: number): void {
  for (const w of words) into.set(w, (into.get(w) ?? 0) + weight);
}

function sortedVector(weights: Map<string, number>, limit: number, normalise: boolean): TermVector {
  const top = [...weights].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
  const norm = normalise ? Math.sqrt(top.reduce((s, [, w]) => s + w * w, 0)) || 1 : 1;
  return top.map(([t, w]) => [t, w / norm] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const BAND_COUNT = Math.min(8, MAX_BANDS);

export function signatureOf(input: GroupingInput): ReportSignature {
  const need = normalise(input.what_i_needed);
  const fingerprint = createHash("sha1")
    .update([input.server_name, input.tool_name ?? "", input.gap_type, need.join(" ")].join("\u0000"))
    .digest("hex")
    .slice(0, 24);
  const weights = new Map<string, number>();
  weigh(weights, need, 2);
  weigh(weights, normalise(input.suggestion ?? ""), 2);
  weigh(weights, normalise(input.what_i_tried), 1);
  const shingles = need.length < 2 ? need : need.slice(1).map((w, i) => `${need[i]} ${w}`);
  const bands: string[] = [];
  if (shingles.length > 0) {
    for (let k = 0; k < BAND_COUNT; k++) {
      let min = Number.MAX_SAFE_INTEGER;
      for (const s of shingles) min = Math.min(min, hash32(s, k));
      bands.push(`${input.server_name}|${k}|${min.toString(36)}`);
    }
  }
  return { fingerprint, bands: [...new Set(bands)], terms: sortedVector(weights, MAX_TERMS, true) };
}

function dominant(counts: Readonly<Record<string, number>>): string | undefined {
  let best: string | undefined;
  for (const [k, n] of Object.entries(counts)) if (best === undefined || n > counts[best]!) best = k;
  return best;
}

function jaccard(a: TermVector, b: TermVector): number {
  const sa = new Set(a.map(([t]) => t));
  let inter = 0;
  for (const [t] of b) if (sa.has(t)) inter++;
  const union = sa.size + b.length - inter;
  return union === 0 ? 0 : inter / union;
}

export function chooseGap(input: GroupingInput, signature: ReportSignature, candidates: GapProfile[]): GapChoice {
  let best: { gapId: number; similarity: number } | undefined;
  for (const c of candidates) {
    if (c.server_name !== input.server_name) continue;
    if (c.fingerprints.includes(signature.fingerprint)) return { kind: "join", gapId: c.id, similarity: 1 };
    if ((dominant(c.tools) ?? "") !== (input.tool_name ?? "")) continue;
    const similarity = jaccard(signature.terms, c.centroid);
    if (similarity >= 0.6 && (!best || similarity > best.similarity)) best = { gapId: c.id, similarity };
  }
  if (best) return { kind: "join", ...best };
  return { kind: "new", bestSimilarity: null };
}

function addCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [k, n] of Object.entries(b)) out[k] = (out[k] ?? 0) + n;
  return out;
}

function addVectors(a: TermVector, b: TermVector): TermVector {
  const m = new Map<string, number>(a.map(([t, w]) => [t, w]));
  for (const [t, w] of b) m.set(t, (m.get(t) ?? 0) + w);
  return sortedVector(m, MAX_PROFILE_TERMS, false);
}

const MAX_FINGERPRINTS = 32;

export function addToProfile(
  profile: GapProfile | null,
  gapId: number,
  input: GroupingInput,
  signature: ReportSignature,
): GapProfile {
  const base: GapProfile = profile ?? {
    id: gapId,
    server_name: input.server_name,
    size: 0,
    centroid: [],
    tools: {},
    gap_types: {},
    fingerprints: [],
  };
  return {
    id: gapId,
    server_name: base.server_name,
    size: base.size + 1,
    centroid: addVectors(base.centroid, signature.terms),
    tools: addCounts(base.tools, { [input.tool_name ?? ""]: 1 }),
    gap_types: addCounts(base.gap_types, { [input.gap_type]: 1 }),
    fingerprints: base.fingerprints.includes(signature.fingerprint)
      ? base.fingerprints
      : [...base.fingerprints, signature.fingerprint].slice(-MAX_FINGERPRINTS),
  };
}

export function mergeProfiles(a: GapProfile, b: GapProfile): GapProfile {
  return {
    id: a.id,
    server_name: a.server_name,
    size: a.size + b.size,
    centroid: addVectors(a.centroid, b.centroid),
    tools: addCounts(a.tools, b.tools),
    gap_types: addCounts(a.gap_types, b.gap_types),
    fingerprints: [...new Set([...a.fingerprints, ...b.fingerprints])].slice(-MAX_FINGERPRINTS),
  };
}

function dot(a: TermVector, b: TermVector): number {
  const m = new Map<string, number>(b.map(([t, w]) => [t, w]));
  let s = 0;
  for (const [t, w] of a) s += w * (m.get(t) ?? 0);
  return s;
}

/** The member closest to the group's centroid (ties: the lowest id). */
export function medoid(members: Array<{ id: number; terms: TermVector }>): number | undefined {
  if (members.length === 0) return undefined;
  const sum = members.reduce<TermVector>((acc, m) => addVectors(acc, m.terms), []);
  let best: { id: number; s: number } | undefined;
  for (const m of members) {
    const s = dot(m.terms, sum);
    if (!best || s > best.s + 1e-12 || (Math.abs(s - best.s) <= 1e-12 && m.id < best.id)) best = { id: m.id, s };
  }
  return best?.id;
}

export function topSuggestions(suggestions: string[], limit: number): Array<{ text: string; count: number }> {
  const groups = new Map<string, { text: string; count: number }>();
  for (const s of suggestions) {
    const key = normalise(s).join(" ");
    if (key === "") continue;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { text: s.trim(), count: 1 });
  }
  return [...groups.values()]
    .sort((a, b) => b.count - a.count || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0))
    .slice(0, limit);
}

/** Band key -> gap ids, in memory; `candidates` returns at most MAX_CANDIDATES, most shared bands first. */
export class CandidateIndex {
  private readonly byBand = new Map<string, Set<number>>();

  add(bands: readonly string[], gapId: number): void {
    for (const b of bands) {
      let s = this.byBand.get(b);
      if (!s) this.byBand.set(b, (s = new Set()));
      s.add(gapId);
    }
  }

  candidates(bands: readonly string[]): number[] {
    const shared = new Map<number, number>();
    for (const b of new Set(bands))
      for (const id of this.byBand.get(b) ?? []) shared.set(id, (shared.get(id) ?? 0) + 1);
    return [...shared]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, MAX_CANDIDATES)
      .map(([id]) => id);
  }
}
