/**
 * A gap's reports as evidence for an LLM (analysis and drafts): near-duplicates
 * collapsed into one representative (same grouping fingerprint, or the same
 * normalised need text on the same tool), most representative first. Pure:
 * the store hands in the rows, the caller fits the result into its budget.
 *
 * Representativeness is the engine's own notion: the medoid (the report
 * closest to the sum of the gap's term vectors) leads, the rest follow by
 * their dot product with that sum, so a phrasing many reports share ranks
 * above a one-off. Duplicates count toward the sum, so a repeated report
 * weighs as often as it was filed.
 */
import type { EvidenceRow, Report } from "../store/index.js";
import type { TermVector } from "./grouping-contract.js";
import { medoid } from "./index.js";

export interface EvidenceItem {
  report: Report;
  /** The other reports this one stands for (near-duplicates), newest first. */
  duplicate_ids: number[];
}

export interface GapEvidence {
  items: EvidenceItem[];
  /** Reports read (the newest `limit` of the gap). */
  sampled: number;
}

/** How many of a gap's newest reports evidence is chosen from. */
export const EVIDENCE_SAMPLE = 1000;

function normalisedNeed(r: Report): string {
  return [
    r.tool_name ?? "",
    r.gap_type,
    r.what_i_needed
      .toLowerCase()
      .replace(/[^\p{L}\p{N}]+/gu, " ")
      .trim(),
  ].join("\u0000");
}

function dot(a: TermVector, b: Map<string, number>): number {
  let s = 0;
  for (const [t, w] of a) s += w * (b.get(t) ?? 0);
  return s;
}

/** Collapse and rank. `rows` come newest first (the store's order). */
export function collapseEvidence(rows: EvidenceRow[]): GapEvidence {
  const groups = new Map<string, EvidenceRow[]>();
  for (const row of rows) {
    const key = row.fingerprint ? `f:${row.fingerprint}` : `t:${normalisedNeed(row.report)}`;
    const g = groups.get(key);
    if (g) g.push(row);
    else groups.set(key, [row]);
  }
  const sum = new Map<string, number>();
  for (const row of rows) for (const [t, w] of row.terms) sum.set(t, (sum.get(t) ?? 0) + w);
  const reps = [...groups.values()].map((members) => {
    // The newest member with a suggestion speaks for the group (else the newest).
    const rep = members.find((m) => m.report.suggestion) ?? members[0]!;
    return {
      rep,
      duplicate_ids: members.filter((m) => m !== rep).map((m) => m.report.id),
      centrality: dot(rep.terms, sum),
    };
  });
  const first = medoid(reps.map((r) => ({ id: r.rep.report.id, terms: r.rep.terms })));
  reps.sort(
    (a, b) =>
      Number(b.rep.report.id === first) - Number(a.rep.report.id === first) ||
      b.centrality - a.centrality ||
      b.duplicate_ids.length - a.duplicate_ids.length ||
      b.rep.report.id - a.rep.report.id,
  );
  return {
    items: reps.map((r) => ({ report: r.rep.report, duplicate_ids: r.duplicate_ids })),
    sampled: rows.length,
  };
}
