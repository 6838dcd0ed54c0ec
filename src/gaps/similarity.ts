/**
 * chooseGap: compare a report with candidate gap profiles and join the best one that is
 * similar enough, or open a new gap.
 *
 * score = cos(report, centroid)                              (text)
 *       + toolBonus   * share of members with the same tool  (same tool_name on both sides)
 *       - toolPenalty * share of members with another tool   (both sides name a tool, and they differ)
 *       - typePenalty * share of members with another gap_type
 * A report without tool_name is neither helped nor hurt by the tool term.
 */
import type {
  GapChoice,
  GapProfile,
  GroupingInput,
  ReportSignature,
  ServerTermStats,
  TermVector,
} from "./grouping-contract.js";
import { areSiblingTools, normaliseToolName } from "./signature.js";
import { norm, normalised } from "./vector.js";

export interface GroupingParams {
  /** With per-server df stats (query-side IDF on). */
  joinThreshold: number;
  /** Without stats every term counts fully and scores run higher, so the bar is higher too. */
  joinThresholdWithoutStats: number;
  toolBonus: number;
  toolPenalty: number;
  typePenalty: number;
  /** Text score = (1 - w) * cos(centroid) + w * max cos(exemplar). */
  exemplarWeight: number;
  /** Query-side IDF strength: a term in share p of the server's reports is scaled by 1 / (1 + idfStrength * p). */
  idfStrength: number;
  /**
   * Argument slots: when the report is keyed on slots ("by stage") and the gap's members on others
   * ("by owner"), the score drops by slotPenalty times the share of the gap's slot mass the report
   * does not share.
   */
  slotPenalty: number;
  /** Gap-gap merge pass (mergeCandidates): the bar two gaps' similarity must clear. */
  mergeThreshold: number;
  /** Share of toolPenalty for a sibling tool (same resource, another verb: list_builds / get_build). */
  siblingPenalty: number;
}

export const DEFAULT_PARAMS: Readonly<GroupingParams> = {
  // Chosen by the mean of main and held-out F1 (after the merge pass) with precision >= 0.90 on both
  // (bench/gaps/sweep.ts); the third corpus (unseen.jsonl) was written after these froze.
  joinThreshold: 0.24,
  // Chosen on the main corpus with IDF off (0.36-0.40 kept precision >= 0.92 there).
  joinThresholdWithoutStats: 0.38,
  // 0.04 and 0.08 both lost F1 on both corpora: sharing a tool says little once text and slots are counted.
  toolBonus: 0,
  // Strong: a report naming another tool needs a text score ~0.7 to join (0.45 + threshold).
  toolPenalty: 0.45,
  typePenalty: 0.04,
  exemplarWeight: 0.5,
  idfStrength: 4,
  slotPenalty: 0.1,
  mergeThreshold: 0.45,
  siblingPenalty: 0.3,
};

/** Pseudo-reports added to the server count so that a young server's df says little. */
export const DF_PRIOR_REPORTS = 20;

/** The report's terms re-weighted by how common they are on its server (words every report there uses count less). */
export function idfWeighted(
  terms: TermVector,
  stats: ServerTermStats | undefined,
  params: Readonly<GroupingParams> = DEFAULT_PARAMS,
): TermVector {
  if (stats === undefined || stats.reports <= 0 || params.idfStrength === 0) return terms;
  const n = stats.reports + DF_PRIOR_REPORTS;
  return normalised(terms.map(([t, w]) => [t, w / (1 + params.idfStrength * ((stats.df.get(t) ?? 0) / n))] as const));
}
export const JOIN_THRESHOLD = DEFAULT_PARAMS.joinThreshold;

export interface ScoreParts {
  text: number;
  tool: number;
  type: number;
  slot: number;
  total: number;
}

/** The "@slot" terms of a vector (they sort first: "@" is below every letter and digit). */
function slotsOf(v: TermVector): {
  terms: string[];
  weights: number[];
  mass: number;
} {
  const terms: string[] = [];
  const weights: number[] = [];
  let mass = 0;
  for (let i = 0; i < v.length; i++) {
    const e = v[i]!;
    const t = e[0];
    if (t.charCodeAt(0) !== 64) {
      if (t.charCodeAt(0) > 64) break;
      continue;
    }
    terms.push(t);
    weights.push(e[1]);
    mass += e[1];
  }
  return { terms, weights, mass };
}

/** A gap counts as keyed on slots when its members carry, on average, at least this much slot weight. */
const MIN_SLOT_MASS_PER_MEMBER = 0.05;

/** Penalty share in [0, 1]: how much of the gap's slot mass the report's slots miss (0 when either side has none). */
export function slotConflict(report: TermVector, gapCentroid: TermVector, gapSize: number): number {
  return slotConflictOf(slotsOf(report).terms, gapCentroid, gapSize);
}

function slotConflictOf(reportSlots: readonly string[], gapCentroid: TermVector, gapSize: number): number {
  const r = { terms: reportSlots };
  if (r.terms.length === 0) return 0;
  const g = slotsOf(gapCentroid);
  if (g.mass <= 0 || g.mass < MIN_SLOT_MASS_PER_MEMBER * gapSize) return 0;
  let shared = 0;
  for (let i = 0; i < g.terms.length; i++) if (r.terms.includes(g.terms[i]!)) shared += g.weights[i]!;
  return 1 - shared / g.mass;
}

/** How well a report fits a gap; `null` when the gap is on another server (never comparable). */
/**
 * A profile's vectors compiled for scoring: the union of centroid and exemplar terms, sorted, each
 * with its centroid weight and its exemplar weights, so one merge-join with the report's terms
 * scores the centroid and every exemplar at once (instead of one pass per vector). Cached per
 * profile object (profiles are immutable: addToProfile returns a new one), so a store that keeps
 * parsed profiles in memory compiles each gap once per change.
 */
interface Compiled {
  terms: string[];
  centroidWeights: Float64Array;
  /** exemplar entries of term i: exIndex/exWeight[exStart[i] .. exStart[i + 1]) */
  exStart: Uint32Array;
  exIndex: Uint8Array;
  exWeight: Float64Array;
  exemplars: number;
  centroidNorm: number;
}
const COMPILED = new WeakMap<GapProfile, Compiled>();

function compile(gap: GapProfile): Compiled {
  const hit = COMPILED.get(gap);
  if (hit !== undefined) return hit;
  const vectors: TermVector[] = [gap.centroid, ...(gap.exemplars ?? [])];
  const pos = new Array<number>(vectors.length).fill(0);
  const terms: string[] = [];
  const cw: number[] = [];
  const exStart: number[] = [];
  const exIndex: number[] = [];
  const exWeight: number[] = [];
  // k-way merge of sorted vectors
  for (;;) {
    let next: string | null = null;
    for (let v = 0; v < vectors.length; v++) {
      const e = vectors[v]![pos[v]!];
      if (e !== undefined && (next === null || e[0] < next)) next = e[0];
    }
    if (next === null) break;
    terms.push(next);
    exStart.push(exIndex.length);
    let c = 0;
    for (let v = 0; v < vectors.length; v++) {
      const e = vectors[v]![pos[v]!];
      if (e === undefined || e[0] !== next) continue;
      pos[v]!++;
      if (v === 0) c = e[1];
      else {
        exIndex.push(v - 1);
        exWeight.push(e[1]);
      }
    }
    cw.push(c);
  }
  exStart.push(exIndex.length);
  const compiled: Compiled = {
    terms,
    centroidWeights: Float64Array.from(cw),
    exStart: Uint32Array.from(exStart),
    exIndex: Uint8Array.from(exIndex),
    exWeight: Float64Array.from(exWeight),
    exemplars: vectors.length - 1,
    centroidNorm: norm(gap.centroid),
  };
  COMPILED.set(gap, compiled);
  return compiled;
}

const exemplarDots = new Float64Array(64);

/** cos(query, centroid) and max over exemplars of dot(query, exemplar), in one merge-join. */
function textScores(query: TermVector, gap: GapProfile): { centroid: number; exemplar: number } {
  const c = compile(gap);
  const ex = c.exemplars <= exemplarDots.length ? exemplarDots : new Float64Array(c.exemplars);
  ex.fill(0, 0, c.exemplars);
  let centroidDot = 0;
  let i = 0;
  let j = 0;
  const terms = c.terms;
  while (i < query.length && j < terms.length) {
    const q = query[i]!;
    const tq = q[0];
    const tg = terms[j]!;
    if (tq === tg) {
      const w = q[1];
      centroidDot += w * c.centroidWeights[j]!;
      for (let k = c.exStart[j]!; k < c.exStart[j + 1]!; k++) ex[c.exIndex[k]!]! += w * c.exWeight[k]!;
      i++;
      j++;
    } else if (tq < tg) i++;
    else j++;
  }
  const centroid = c.centroidNorm === 0 ? 0 : centroidDot / c.centroidNorm;
  let exemplar = centroid;
  for (let k = 0; k < c.exemplars; k++) if (ex[k]! > exemplar) exemplar = ex[k]!;
  return { centroid, exemplar };
}

export function scoreAgainst(
  input: GroupingInput,
  signature: ReportSignature,
  gap: GapProfile,
  params: Readonly<GroupingParams> = DEFAULT_PARAMS,
  query: TermVector = signature.terms,
): ScoreParts | null {
  if (gap.server_name !== input.server_name || gap.size <= 0) return null;
  return scoreParts(
    normaliseToolName(input.tool_name),
    input.gap_type,
    slotsOf(signature.terms).terms,
    gap,
    params,
    query,
  );
}

function scoreParts(
  reportTool: string,
  gapType: string,
  reportSlots: readonly string[],
  gap: GapProfile,
  params: Readonly<GroupingParams>,
  query: TermVector,
): ScoreParts {
  const { centroid, exemplar } = textScores(query, gap);
  const text = (1 - params.exemplarWeight) * centroid + params.exemplarWeight * exemplar;
  let tool = 0;
  if (reportTool !== "") {
    const same = (gap.tools[reportTool] ?? 0) / gap.size;
    let other = 0;
    for (const [t, n] of Object.entries(gap.tools)) {
      if (t === "" || t === reportTool) continue;
      other += (areSiblingTools(t, reportTool) ? params.siblingPenalty : 1) * n;
    }
    tool = params.toolBonus * same - (params.toolPenalty * other) / gap.size;
  }
  const type = -params.typePenalty * (1 - (gap.gap_types[gapType] ?? 0) / gap.size);
  const slot = params.slotPenalty === 0 ? 0 : -params.slotPenalty * slotConflictOf(reportSlots, gap.centroid, gap.size);
  return { text, tool, type, slot, total: text + tool + type + slot };
}

export function chooseGap(
  input: GroupingInput,
  signature: ReportSignature,
  candidates: readonly GapProfile[],
  options: { params?: Readonly<GroupingParams>; stats?: ServerTermStats } = {},
): GapChoice {
  const params = options.params ?? DEFAULT_PARAMS;
  const query = idfWeighted(signature.terms, options.stats, params);
  // Exact duplicates join whatever their score; the oldest such gap wins, deterministically.
  let dup: GapProfile | null = null;
  for (const g of candidates) {
    if (g.server_name !== input.server_name || g.size <= 0) continue;
    if ((dup === null || g.id < dup.id) && g.fingerprints.includes(signature.fingerprint)) dup = g;
  }
  if (dup !== null) return { kind: "join", gapId: dup.id, similarity: 1 };
  const tool = normaliseToolName(input.tool_name);
  const slots = slotsOf(signature.terms).terms;
  let best: { id: number; score: number } | null = null;
  for (const g of candidates) {
    if (g.server_name !== input.server_name || g.size <= 0) continue;
    const s = scoreParts(tool, input.gap_type, slots, g, params, query).total;
    if (best === null || s > best.score || (s === best.score && g.id < best.id)) best = { id: g.id, score: s };
  }
  const useIdf = options.stats !== undefined && options.stats.reports > 0 && params.idfStrength > 0;
  const threshold = useIdf ? params.joinThreshold : params.joinThresholdWithoutStats;
  if (best !== null && best.score >= threshold) return { kind: "join", gapId: best.id, similarity: best.score };
  return { kind: "new", bestSimilarity: best === null ? null : best.score };
}
