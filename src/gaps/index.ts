/**
 * Gap grouping: which reports describe the same missing capability on the same server.
 * Pure and deterministic (no SQL, no I/O, no model): the store persists what it returns.
 *
 * Method (docs/gaps.md, "How grouping works", has the figures):
 *  - Normalise: ids, UUIDs, dates, hex/run ids, URLs, emails, paths and numbers become
 *    placeholders; identifiers split into words; a small map of general API vocabulary
 *    (fetch/get/list, restrict/filter, "time window"/"between two dates"/since -> daterange ...);
 *    a small suffix stemmer; stopwords, including the words every report uses ("need", "tool").
 *  - Signature: a fingerprint (server, tool, gap_type, normalised need) for exact duplicates,
 *    which always join; a term vector of unigrams and order-free bigrams weighted by field
 *    (need 1, suggestion 0.8, tried 0.3, goal 0.12) with a fixed prior damping generic API words,
 *    plus weak letter-set features that survive typos; 32 MinHash bands of one row over the
 *    need+suggestion words, namespaced by server.
 *  - Candidates: gaps sharing a band key with the report (most shared first, at most
 *    MAX_CANDIDATES) or its fingerprint; an indexed lookup, never a scan, never across servers.
 *  - Choice: text score = mean of cosine to the centroid and best cosine to a few kept
 *    exemplar wordings, with the report's terms re-weighted by per-server document frequency
 *    (query-side IDF: words every report on that server uses say little); plus a bonus for the
 *    same tool_name, a strong penalty for another tool_name, a small one for another gap_type.
 *    Join the best candidate at or above JOIN_THRESHOLD, else open a new gap.
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
