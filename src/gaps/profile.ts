/** Gap profiles: the bounded summary of a gap's members that chooseGap compares against. */
import type { GapProfile, GroupingInput, ReportSignature, TermVector } from "./grouping-contract.js";
import { MAX_EXEMPLARS, MAX_PROFILE_TERMS } from "./grouping-contract.js";
import { normaliseToolName } from "./signature.js";
import { addInto, cosine, prune, round } from "./vector.js";

/** Distinct fingerprints a profile remembers (the first ones seen; later duplicates are still found through the store's fingerprint lookup). */
export const MAX_PROFILE_FINGERPRINTS = 64;

function bump(counts: Readonly<Record<string, number>>, key: string, by = 1): Record<string, number> {
  return { ...counts, [key]: (counts[key] ?? 0) + by };
}

function sortedRecord(r: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sumCentroids(a: TermVector, b: TermVector): [string, number][] {
  const acc = new Map<string, number>();
  addInto(acc, a);
  addInto(acc, b);
  return prune(acc, MAX_PROFILE_TERMS).map(([t, w]) => [t, round(w)]);
}

function unionFingerprints(a: readonly string[], b: readonly string[]): string[] {
  const out = [...a];
  const seen = new Set(a);
  for (const f of b) {
    if (out.length >= MAX_PROFILE_FINGERPRINTS) break;
    if (!seen.has(f)) {
      seen.add(f);
      out.push(f);
    }
  }
  return out;
}

/** A new wording becomes an exemplar when no kept exemplar is this close to it. */
export const EXEMPLAR_NOVELTY = 0.8;

function withExemplars(kept: readonly TermVector[], more: readonly TermVector[]): TermVector[] {
  const out = [...kept];
  for (const v of more) {
    if (out.length >= MAX_EXEMPLARS) break;
    if (v.length > 0 && out.every((e) => cosine(e, v) < EXEMPLAR_NOVELTY)) out.push(v);
  }
  return out;
}

/**
 * Add one report to a gap's profile (`null`: the report opens a new gap with id `gapId`).
 * Pure: returns a new profile. Cost is O(MAX_PROFILE_TERMS + MAX_TERMS).
 */
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
  if (base.server_name !== input.server_name) {
    throw new Error(`addToProfile: report of server "${input.server_name}" cannot join a gap of "${base.server_name}"`);
  }
  return {
    id: base.id,
    server_name: base.server_name,
    size: base.size + 1,
    centroid: sumCentroids(base.centroid, signature.terms),
    tools: sortedRecord(bump(base.tools, normaliseToolName(input.tool_name))),
    gap_types: sortedRecord(bump(base.gap_types, input.gap_type)),
    fingerprints: unionFingerprints(base.fingerprints, [signature.fingerprint]),
    exemplars: withExemplars(base.exemplars ?? [], [signature.terms]),
  };
}

/** A human merged gap `b` into gap `a`: the result keeps a's id and stays within the same bounds. */
export function mergeProfiles(a: GapProfile, b: GapProfile): GapProfile {
  if (a.server_name !== b.server_name) {
    throw new Error(`mergeProfiles: gaps of "${a.server_name}" and "${b.server_name}" are on different servers`);
  }
  let tools: Record<string, number> = { ...a.tools };
  for (const [k, v] of Object.entries(b.tools)) tools = bump(tools, k, v);
  let types: Record<string, number> = { ...a.gap_types };
  for (const [k, v] of Object.entries(b.gap_types)) types = bump(types, k, v);
  return {
    id: a.id,
    server_name: a.server_name,
    size: a.size + b.size,
    centroid: sumCentroids(a.centroid, b.centroid),
    tools: sortedRecord(tools),
    gap_types: sortedRecord(types),
    fingerprints: unionFingerprints(a.fingerprints, b.fingerprints),
    exemplars: withExemplars(a.exemplars ?? [], b.exemplars ?? []),
  };
}
