/** Public surface of ingestion: the group-commit queue and `ingestReport`, usable by every front end. */
export { type Ingested, IngestError, type IngestErrorCode, ingestReport } from "./ingest.js";
export { type DeferredAssignment, IngestQueue } from "./queue.js";
export { insertScrubbed, PrivacyPolicy, type ScrubbedInsert } from "./privacy.js";
export { type BatchWriter, type CallsWriter, ThreadWriter } from "./writer-thread.js";
