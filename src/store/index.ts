/** Public surface of the store. */
export { FeedbackStore, StoreError, STATS_DAYS_DEFAULT } from "./store.js";
export type { OpenOptions } from "./store.js";
export * from "./filters.js";
export type * from "./types.js";
export { AUTH_SETTING_KEY, keyPresence, type KeyPresence } from "./auth-store.js";
export { readSetting, writeSetting } from "./settings-store.js";
export { NOTE_AUTHOR_MAX, NOTE_MAX, noteInputShape } from "./note-input.js";
export { STATS_DAYS_MAX, statsDaysArg } from "./stats-input.js";
export { reportBytes, storedBytesSince } from "./ingest-bytes.js";
export { GapStore } from "./gaps.js";
export { displayLocation, isPostgresUrl } from "./sql/db.js";
export { PgError } from "./sql/pg-sync.js";
export * from "./gap-filters.js";
export type * from "./gap-types.js";
export type { EvidenceRow } from "./gap-analyses.js";
export { TrackerStore, type GapIssue, type IssueClaim, type IssueSnapshot, type LinkedIssue } from "./tracker-store.js";
export * from "./alerts-store.js";
export * from "./autonomy-store.js";
