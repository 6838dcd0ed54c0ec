/** Public surface of the store. */
export { FeedbackStore, StoreError, STATS_DAYS_DEFAULT } from "./store.js";
export type { OpenOptions } from "./store.js";
export * from "./filters.js";
export type * from "./types.js";
export { GapStore } from "./gaps.js";
export * from "./gap-filters.js";
export type * from "./gap-types.js";
export type { EvidenceRow } from "./gap-analyses.js";
