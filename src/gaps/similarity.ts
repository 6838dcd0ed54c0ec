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
import type { GapChoice, GapProfile, GroupingInput, ReportSignature, ServerTermStats, TermVector } from "./grouping-contract.js";
import { normaliseToolName } from "./signature.js";
import { dot, norm, normalised } from "./vector.js";

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
}

export const DEFAULT_PARAMS: Readonly<GroupingParams> = {
  // Chosen on the main corpus with query-side IDF on (the held-out corpus was written after this froze).
  joinThreshold: 0.26,
  // Chosen on the main corpus with IDF off (0.36-0.40 kept precision >= 0.92 there).
  joinThresholdWithoutStats: 0.38,
  toolBonus: 0.08,
  // Strong: a report naming another tool needs a text score ~0.7 to join (0.45 + threshold).
  toolPenalty: 0.45,
  typePenalty: 0.04,
  exemplarWeight: 0.5,
  idfStrength: 4,
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
  total: number;
}

/** How well a report fits a gap; `null` when the gap is on another server (never comparable). */
export function scoreAgainst(
  input: GroupingInput,
  signature: ReportSignature,
  gap: GapProfile,
  params: Readonly<GroupingParams> = DEFAULT_PARAMS,
  query: TermVector = signature.terms,
): ScoreParts | null {
  if (gap.server_name !== input.server_name || gap.size <= 0) return null;
  const n = norm(gap.centroid);
  const centroid = n === 0 ? 0 : dot(query, gap.centroid) / n;
  let exemplar = centroid;
  for (const e of gap.exemplars ?? []) exemplar = Math.max(exemplar, dot(query, e));
  const text = (1 - params.exemplarWeight) * centroid + params.exemplarWeight * exemplar;
  const rt = normaliseToolName(input.tool_name);
  let tool = 0;
  if (rt !== "") {
    const same = (gap.tools[rt] ?? 0) / gap.size;
    const other = (gap.size - (gap.tools[rt] ?? 0) - (gap.tools[""] ?? 0)) / gap.size;
    tool = params.toolBonus * same - params.toolPenalty * other;
  }
  const type = -params.typePenalty * (1 - (gap.gap_types[input.gap_type] ?? 0) / gap.size);
  return { text, tool, type, total: text + tool + type };
}

export function chooseGap(
  input: GroupingInput,
  signature: ReportSignature,
  candidates: readonly GapProfile[],
  options: { params?: Readonly<GroupingParams>; stats?: ServerTermStats } = {},
): GapChoice {
  const params = options.params ?? DEFAULT_PARAMS;
  const query = idfWeighted(signature.terms, options.stats, params);
  const same = candidates.filter((g) => g.server_name === input.server_name && g.size > 0);
  // Exact duplicates join whatever their score; the oldest such gap wins, deterministically.
  const dup = same.filter((g) => g.fingerprints.includes(signature.fingerprint)).sort((a, b) => a.id - b.id)[0];
  if (dup !== undefined) return { kind: "join", gapId: dup.id, similarity: 1 };
  let best: { id: number; score: number } | null = null;
  for (const g of same) {
    const s = scoreAgainst(input, signature, g, params, query);
    if (s === null) continue;
    if (best === null || s.total > best.score || (s.total === best.score && g.id < best.id)) best = { id: g.id, score: s.total };
  }
  const useIdf = options.stats !== undefined && options.stats.reports > 0 && params.idfStrength > 0;
  const threshold = useIdf ? params.joinThreshold : params.joinThresholdWithoutStats;
  if (best !== null && best.score >= threshold) return { kind: "join", gapId: best.id, similarity: best.score };
  return { kind: "new", bestSimilarity: best === null ? null : best.score };
}
