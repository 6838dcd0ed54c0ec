/** Types of what the store hands out. Absent optional fields are `null`, so every report has the same keys. */
import type { FeedbackPayload, Redaction } from "../feedback/index.js";
import type { ReportStatus } from "./filters.js";

/** The payload's fields as stored: every key present, an absent optional one as null. */
export type StoredFields = {
  [K in keyof FeedbackPayload]-?: undefined extends FeedbackPayload[K]
    ? Exclude<FeedbackPayload[K], undefined> | null
    : FeedbackPayload[K];
};

/** The columns only the store writes (see STORE_COLUMNS in store.ts). */
export interface StoreColumns {
  id: number;
  created_at: string;
  updated_at: string | null;
  status: ReportStatus;
  /** The gap this report belongs to (null only while a backfill has not reached it yet). */
  gap_id: number | null;
  /** What privacy replaced before the report was stored (src/privacy): one entry per field and rule. */
  redactions: Redaction[];
}

/** A report to store: the (already scrubbed) payload, its idempotency key and the redactions scrubbing made. */
export interface NewReport {
  payload: FeedbackPayload;
  idempotencyKey?: string | undefined;
  redactions?: readonly Redaction[] | undefined;
}

export type Report = StoreColumns &
  StoredFields & {
    /** Derived from status: anything but `open` counts as reviewed. */
    reviewed: boolean;
  };

export interface Note {
  id: number;
  report_id: number;
  body: string;
  author: string | null;
  created_at: string;
}

export type DraftKind = "pull_request" | "local_commit";

export interface Draft {
  id: number;
  report_id: number;
  created_at: string;
  kind: DraftKind;
  url: string | null;
  number: number | null;
  repo: string | null;
  branch: string;
  base_branch: string | null;
  commit_sha: string | null;
  provider: string;
  model: string;
  files: string[];
  title: string | null;
  /** The gap the draft was made from (null: drafted from this one report). */
  gap_id: number | null;
}

export type NewDraft = Omit<Draft, "id" | "report_id" | "created_at" | "gap_id">;

/** A draft made from a gap: the gap, and every report it used as evidence (each report's page lists it). */
export interface DraftGapLink {
  gapId: number;
  reportIds: number[];
}

export interface ReportDetail extends Report {
  notes: Note[];
  drafts: Draft[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface CountRow {
  key: string | null;
  count: number;
}

export interface Stats {
  total: number;
  unreviewed: number;
  blocked: number;
  servers: number;
  by_server: CountRow[];
  by_gap_type: CountRow[];
  by_resolution: CountRow[];
  by_status: CountRow[];
  by_client: CountRow[];
  by_tool: CountRow[];
  /** One row per UTC day in the window, oldest first, zero-filled. */
  per_day: { day: string; count: number }[];
}

export type KeyScope = "ingest" | "read" | "admin";

export interface ApiKeyInfo {
  id: string;
  name: string | null;
  scope: KeyScope;
  created_at: string;
  revoked_at: string | null;
}
