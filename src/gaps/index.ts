/**
 * Gap grouping: which reports describe the same missing capability on the same server.
 * Pure and deterministic (no SQL, no I/O, no model): the store persists what it returns.
 *
 * Method (docs/gaps.md, "How grouping works", has the figures):
 *  - Normalise in one pass: ids, UUIDs, dates, hex/run ids, URLs, emails, paths and numbers become
 *    placeholders; identifiers split into words; a phrase table and a word map fold general API
 *    vocabulary ("time window"/"between two dates"/since -> daterange, fetch/list -> get, number of ->
 *    count ...); a small suffix stemmer (memoised, bounded); stopwords. Argument slots are noted:
 *    what a need is keyed on ("by stage", "per project", "owner filter").
 *  - Signature: a fingerprint (server, tool, gap_type, normalised need) for exact duplicates,
 *    which always join; a term vector of unigrams, order-free bigrams and "@slot" terms weighted by
 *    field (need 1, suggestion 0.8, tried 0.3, goal 0.12) with a fixed prior damping generic API
 *    words, plus weak consonant-skeleton typo keys; 32 MinHash bands of one row, namespaced by server.
 *  - Candidates: gaps sharing a band key with the report (most shared first, at most
 *    MAX_CANDIDATES) or its fingerprint; an indexed lookup, never a scan, never across servers.
 *  - Choice: text score = mean of cosine to the centroid and best cosine to a few kept exemplar
 *    wordings (one merge-join per compiled, cached profile), with the report's terms re-weighted by
 *    per-server document frequency; a strong penalty for another tool_name, small ones for another
 *    gap_type and for different argument slots. Join the best at or above joinThreshold, else new.
 *  - Merge pass (mergeCandidates): gaps on one server whose average linkage clears a stricter bar
 *    are proposed for merging, never where the caller's mayMerge (human splits) forbids; regroup
 *    and backfill apply it, which undoes the order dependence of the incremental pass.
 *  - Precision over recall: a reviewer merges two gaps in one click, but has to read every
 *    report to undo a wrong merge; so when in doubt, a new gap.
 */

export {
  applyMerges,
  type BatchReport,
  CandidateIndex,
  type GroupAllOptions,
  type GroupingState,
  groupAll,
  groupOne,
  newGroupingState,
  TermStats,
} from "./batch.js";
export * from "./grouping-contract.js";
export {
  gapSimilarity,
  type MergeOptions,
  type MergeProposal,
  mergeCandidates,
} from "./merge.js";
export { analyse, normaliseText, type TextAnalysis } from "./normalise.js";
export {
  addToProfile,
  MAX_PROFILE_FINGERPRINTS,
  mergeProfiles,
} from "./profile.js";
export {
  medoid,
  type SuggestionGroup,
  topSuggestions,
} from "./representative.js";
export { normaliseToolName, signatureOf } from "./signature.js";
export {
  chooseGap,
  DEFAULT_PARAMS,
  type GroupingParams,
  idfWeighted,
  JOIN_THRESHOLD,
  type ScoreParts,
  scoreAgainst,
  slotConflict,
} from "./similarity.js";
