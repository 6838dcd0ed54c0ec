/**
 * Gap grouping: which reports describe the same missing capability on the same server.
 * (placeholder: see the full explanation written below)
 */
export * from "./grouping-contract.js";
export { signatureOf, normaliseToolName } from "./signature.js";
export { chooseGap, scoreAgainst, DEFAULT_PARAMS, JOIN_THRESHOLD, type GroupingParams, type ScoreParts } from "./similarity.js";
export { addToProfile, mergeProfiles, MAX_PROFILE_FINGERPRINTS } from "./profile.js";
export { CandidateIndex, TermStats, groupAll, groupOne, newGroupingState, type BatchReport, type GroupingState } from "./batch.js";
export { medoid, topSuggestions, type SuggestionGroup } from "./representative.js";
export { normaliseText } from "./normalise.js";
