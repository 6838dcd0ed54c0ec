/**
 * The seam between the grouping engine (pure, in this folder) and the store
 * that persists its state (src/store). The engine never touches SQL; the store
 * never computes similarity. Everything here is deterministic and local.
 *
 * Flow for one new report:
 *   1. `signatureOf(input)`             -> fingerprint, LSH band keys, term vector
 *   2. store looks up gaps on the same server that share the fingerprint or any
 *      band key (an indexed lookup, bounded by MAX_CANDIDATES: never a scan)
 *   3. `chooseGap(input, signature, candidates)` -> join one, or open a new gap
 *   4. store writes the assignment and `addToProfile(...)`'s updated profile,
 *      plus the report's band keys (so later reports can find this gap)
 */
import type { GapType } from "../feedback/index.js";

/** The fields of a report that grouping reads. */
export interface GroupingInput {
  server_name: string;
  tool_name: string | null;
  gap_type: GapType;
  what_i_needed: string;
  what_i_tried: string;
  suggestion: string | null;
  user_goal: string | null;
}

/** A sparse weighted term vector: [term, weight] pairs sorted by term, L2-normalised. */
export type TermVector = readonly (readonly [string, number])[];

/** What grouping derives from one report. Serialisable as JSON; the same input always gives the same signature. */
export interface ReportSignature {
  /** Exact / near-exact duplicate key (normalised need text + tool + type). Same fingerprint, same gap. */
  fingerprint: string;
  /** LSH band keys (at most MAX_BANDS). A gap is a candidate when it shares one of them with the report. */
  bands: string[];
  /** The report's weighted terms (at most MAX_TERMS). */
  terms: TermVector;
}

/** A gap as grouping sees it: small, updatable in O(terms) per report, stored as JSON by the store. */
export interface GapProfile {
  id: number;
  server_name: string;
  /** How many reports the profile summarises. */
  size: number;
  /** Sum of member term vectors, pruned to the heaviest MAX_PROFILE_TERMS (not normalised). */
  centroid: TermVector;
  /** Report counts by tool_name ("" for none) and by gap_type. */
  tools: Readonly<Record<string, number>>;
  gap_types: Readonly<Record<string, number>>;
  /** Fingerprints seen, capped (for exact-duplicate joins without a second lookup). */
  fingerprints: readonly string[];
  /**
   * Up to MAX_EXEMPLARS member term vectors, each a wording unlike the others kept (added by the
   * engine; a profile stored without it reads as []). They let a report match one phrasing of a
   * gap that the centroid averages away.
   */
  exemplars?: readonly TermVector[];
}

/**
 * Per-server document frequencies, for query-side IDF in chooseGap (optional: without them every
 * term counts fully). Bounded cost: the store keeps one row per (server, term) and, per report,
 * increments the df of the report's own terms (at most MAX_TERMS upserts) and reads them back
 * (one indexed IN lookup). Centroids are never re-weighted, so nothing stored goes stale.
 */
export interface ServerTermStats {
  /** Reports counted on this server so far. */
  reports: number;
  /** df of (at least) the report's terms: how many of those reports contain the term. Absent = 0. */
  df: ReadonlyMap<string, number>;
}

export type GapChoice =
  | { kind: "join"; gapId: number; similarity: number }
  | { kind: "new"; bestSimilarity: number | null };

export const MAX_BANDS = 32;
export const MAX_TERMS = 64;
export const MAX_PROFILE_TERMS = 128;
/** The store hands chooseGap at most this many candidate gaps (most shared band keys first). */
export const MAX_CANDIDATES = 50;
/** Distinct member wordings a profile keeps (see GapProfile.exemplars). */
export const MAX_EXEMPLARS = 6;
