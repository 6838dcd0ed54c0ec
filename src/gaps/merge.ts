/**
 * The gap-gap merge pass: incremental grouping joins a report to one existing gap or opens a new
 * one, so two gaps opened early for one need (before either had the wording that links them)
 * never meet again. This pass compares gaps with each other and proposes merges; the store's
 * regroup/backfill applies them (mergeProfiles + moving the reports + a history entry), and never
 * merges what a human split: the caller's `mayMerge` says which pairs are allowed.
 *
 * Similarity of two gaps A and B on one server:
 *   text  = (1 - w) cos(centroid A, centroid B) + w max cos(exemplar of A, exemplar of B)
 *   total = text + toolBonus overlap(tools) - toolPenalty disagreement(tools)   (sibling tools count siblingPenalty)
 *                - typePenalty (1 - overlap(gap_types)) - slotPenalty (1 - overlap(slots))
 * and two groups of gaps join when the size-weighted AVERAGE of their cross pairs (average
 * linkage, not the best pair: no chaining) clears mergeThreshold, stricter than the join bar.
 * Candidate pairs share one of each gap's heaviest centroid terms (a term heavy in too many gaps
 * seeds no pairs), so the pass is never quadratic in a server's gaps.
 */
import type { GapProfile, TermVector } from "./grouping-contract.js";
import { SLOT_PREFIX, toolResource } from "./signature.js";
import { DEFAULT_PARAMS, type GroupingParams } from "./similarity.js";
import { dot, norm } from "./vector.js";

export interface MergeOptions {
  params?: Readonly<GroupingParams>;
  /** False for pairs a human kept apart (split, moved a report out, or unmerged). Default: all pairs may merge. */
  mayMerge?: (a: number, b: number) => boolean;
}

/** [keepId, absorbId, similarity]: merge gap absorbId into keepId (keepId is the lowest id of the group). */
export type MergeProposal = [keepId: number, absorbId: number, similarity: number];

/** Heaviest centroid terms per gap that seed candidate pairs, and the most gaps one seed term may pair. */
const SEED_TERMS = 8;
const MAX_SEED_POSTING = 200;

function shares(counts: Readonly<Record<string, number>>, size: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of Object.entries(counts)) m.set(k, v / size);
  return m;
}

function overlap(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>, skip?: string): number {
  let s = 0;
  for (const [k, v] of a) if (k !== skip) s += Math.min(v, b.get(k) ?? 0);
  return s;
}

function slotShares(v: TermVector): Map<string, number> | null {
  const m = new Map<string, number>();
  let mass = 0;
  for (const [t, w] of v) {
    if (t.charCodeAt(0) !== SLOT_PREFIX.charCodeAt(0)) continue;
    m.set(t, w);
    mass += w;
  }
  if (mass <= 0) return null;
  for (const [t, w] of m) m.set(t, w / mass);
  return m;
}

function resourceShares(counts: Readonly<Record<string, number>>, size: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, v] of Object.entries(counts)) {
    if (k === "") continue;
    const r = toolResource(k);
    m.set(r, (m.get(r) ?? 0) + v / size);
  }
  return m;
}

interface Prepared {
  p: GapProfile;
  norm: number;
  tools: Map<string, number>;
  /** Tool shares by resource (sibling tools pooled), "" excluded. */
  resources: Map<string, number>;
  types: Map<string, number>;
  slots: Map<string, number> | null;
  slotMass: number;
}

function prepare(p: GapProfile): Prepared {
  let slotMass = 0;
  for (const [t, w] of p.centroid) if (t.charCodeAt(0) === SLOT_PREFIX.charCodeAt(0)) slotMass += w;
  return {
    p,
    norm: norm(p.centroid),
    tools: shares(p.tools, p.size),
    resources: resourceShares(p.tools, p.size),
    types: shares(p.gap_types, p.size),
    slots: slotShares(p.centroid),
    slotMass,
  };
}

/** Slot weight per member above which a gap counts as keyed on its slots (as in chooseGap). */
const MIN_SLOT_MASS_PER_MEMBER = 0.05;

/** Similarity of two gaps on one server (the formula in the module comment). */
export function gapSimilarity(a: GapProfile, b: GapProfile, params: Readonly<GroupingParams> = DEFAULT_PARAMS): number {
  return pairSimilarity(prepare(a), prepare(b), params);
}

function pairSimilarity(a: Prepared, b: Prepared, params: Readonly<GroupingParams>): number {
  if (a.p.server_name !== b.p.server_name || a.norm === 0 || b.norm === 0) return -1;
  const centroid = dot(a.p.centroid, b.p.centroid) / (a.norm * b.norm);
  let exemplar = centroid;
  for (const ea of a.p.exemplars ?? [])
    for (const eb of b.p.exemplars ?? []) exemplar = Math.max(exemplar, dot(ea, eb));
  const text = (1 - params.exemplarWeight) * centroid + params.exemplarWeight * exemplar;
  const named = overlap(a.tools, b.tools, "");
  const namedBoth = Math.min(1 - (a.tools.get("") ?? 0), 1 - (b.tools.get("") ?? 0));
  // Members on sibling tools (same resource, another verb) disagree less than unrelated tools.
  const siblings = Math.max(named, overlap(a.resources, b.resources));
  const disagreement = Math.max(0, namedBoth - siblings) + params.siblingPenalty * (siblings - named);
  const tool = params.toolBonus * named - params.toolPenalty * disagreement;
  const type = -params.typePenalty * (1 - overlap(a.types, b.types));
  let slot = 0;
  const keyed = (x: Prepared) => x.slots !== null && x.slotMass >= MIN_SLOT_MASS_PER_MEMBER * x.p.size;
  if (keyed(a) && keyed(b)) slot = -params.slotPenalty * (1 - overlap(a.slots!, b.slots!));
  return text + tool + type + slot;
}

/**
 * Merges the grouping proposes among `profiles` (any servers; pairs never cross one). Pure and
 * deterministic: the same profiles give the same proposals, in the order to apply them. Each
 * absorbed gap appears once, always with the final surviving id.
 */
export function mergeCandidates(profiles: readonly GapProfile[], options: MergeOptions = {}): MergeProposal[] {
  const params = options.params ?? DEFAULT_PARAMS;
  const mayMerge = options.mayMerge ?? (() => true);
  const sorted = [...profiles].filter((p) => p.size > 0).sort((x, y) => x.id - y.id);
  const prepared = new Map<number, Prepared>(sorted.map((p) => [p.id, prepare(p)]));

  // Candidate pairs: gaps on one server sharing one of their heaviest centroid terms.
  const postings = new Map<string, number[]>();
  for (const p of sorted) {
    const top = [...p.centroid].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, SEED_TERMS);
    for (const [t] of top) {
      const key = `${p.server_name}\u0000${t}`;
      let list = postings.get(key);
      if (list === undefined) postings.set(key, (list = []));
      list.push(p.id);
    }
  }
  const cache = new Map<string, number>();
  const simOf = (x: number, y: number): number => {
    const key = x < y ? `${x},${y}` : `${y},${x}`;
    let s = cache.get(key);
    if (s === undefined) cache.set(key, (s = pairSimilarity(prepared.get(x)!, prepared.get(y)!, params)));
    return s;
  };
  const edges: [number, number, number][] = [];
  const seen = new Set<string>();
  for (const list of postings.values()) {
    if (list.length < 2 || list.length > MAX_SEED_POSTING) continue;
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length; j++) {
        const key = `${list[i]},${list[j]}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const s = simOf(list[i]!, list[j]!);
        if (s >= params.mergeThreshold) edges.push([list[i]!, list[j]!, s]);
      }
    }
  }
  edges.sort((x, y) => y[2] - x[2] || x[0] - y[0] || x[1] - y[1]);

  // Average-linkage agglomeration over those edges, strongest first.
  const members = new Map<number, number[]>(sorted.map((p) => [p.id, [p.id]]));
  const root = new Map<number, number>(sorted.map((p) => [p.id, p.id]));
  const find = (id: number): number => {
    let r = id;
    while (root.get(r)! !== r) r = root.get(r)!;
    return r;
  };
  const proposals: MergeProposal[] = [];
  for (const [x, y] of edges) {
    const rx = find(x);
    const ry = find(y);
    if (rx === ry) continue;
    const mx = members.get(rx)!;
    const my = members.get(ry)!;
    let weighted = 0;
    let weight = 0;
    let allowed = true;
    for (const a of mx) {
      for (const b of my) {
        if (!mayMerge(Math.min(a, b), Math.max(a, b))) allowed = false;
        const w = prepared.get(a)!.p.size * prepared.get(b)!.p.size;
        weighted += w * simOf(a, b);
        weight += w;
      }
    }
    const linkage = weighted / weight;
    if (!allowed || linkage < params.mergeThreshold) continue;
    const keep = Math.min(rx, ry);
    const absorb = Math.max(rx, ry);
    root.set(absorb, keep);
    members.set(keep, [...members.get(keep)!, ...members.get(absorb)!]);
    members.delete(absorb);
    proposals.push([keep, absorb, Math.round(linkage * 1e6) / 1e6]);
  }
  // Report every absorbed gap against its final survivor (a keep may itself have been absorbed later).
  return proposals.map(([, absorb, s]) => [find(absorb), absorb, s]);
}
