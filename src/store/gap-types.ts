/** Types of what the gap store hands out. */
import type { GapStatus } from "./gap-filters.js";
import type { GapIssue } from "./tracker-store.js";
import type { GapSuggestion } from "./autonomy-store.js";
import type { Draft, Note, Page, Report } from "./types.js";

export type TitleSource = "medoid" | "human" | "llm";

export interface Gap {
  id: number;
  server_name: string;
  title: string;
  title_source: TitleSource;
  status: GapStatus;
  fixed_in: string | null;
  regressed: boolean;
  needs_review: boolean;
  agent_note: string | null;
  duplicate_of: number | null;
  /** The most common tool among its reports (null: reports named none). */
  tool_name: string | null;
  gap_type: string | null;
  reports: number;
  sessions: number;
  clients: number;
  models: number;
  blocked: number;
  partial: number;
  worked_around: number;
  blocked_share: number;
  first_seen: string;
  last_seen: string;
  created_at: string;
  updated_at: string;
  score: number;
  score_explain: string;
  /** The cached LLM analysis (null: never analysed, or analysis is off). */
  analysis: GapAnalysis | null;
  /** The GitHub issue made from the gap (null: none). */
  issue: GapIssue | null;
}

/** What the analysis proposes to build. */
export interface ProposedChange {
  kind: "new_tool" | "new_parameter" | "change_behavior" | "other";
  /** A tool signature or a parameter, e.g. `get_costs(date_range: {from: string, to: string})`. */
  signature: string;
  /** Why, and what it changes, in a few sentences. */
  detail: string;
}

/** A gap's analysis as every surface shows it. Model text: render it inert. */
export interface GapAnalysis {
  title: string;
  summary: string;
  proposed_change: ProposedChange;
  provider: string;
  model: string;
  generated_at: string;
  /** The gap's report count when the analysis was made. */
  report_count: number;
  /** Stale once the report count has moved by this many since. */
  refresh_after: number;
  stale: boolean;
}

export type NewGapAnalysis = Omit<GapAnalysis, "generated_at" | "stale">;

export interface GapHistoryEntry {
  id: number;
  gap_id: number;
  at: string;
  actor: string;
  action: string;
  details: Record<string, unknown>;
}

export interface GapDetail extends Gap {
  reports_page: Page<Report>;
  /** Reports per UTC day over the last 30 days, oldest first, zero-filled. */
  timeline: { day: string; count: number }[];
  history: GapHistoryEntry[];
  top_suggestions: { text: string; count: number }[];
  tools: { tool_name: string | null; count: number }[];
  clients_seen: { client_type: string; count: number }[];
  models_seen: { agent_model: string; count: number }[];
  resolution_mix: { blocked: number; partial: number; worked_around: number; unspecified: number };
  notes: Note[];
  drafts: Draft[];
  /** Changes the autonomy guardrails kept local (newest first): model and command text, render inert. */
  suggestions: GapSuggestion[];
  /** The gap's draft PR that is still open (not rolled back), if any. */
  open_draft_id: number | null;
}

/** What POST /api/feedback echoes when a report joins a gap a developer has acted on. Admin text only. */
export interface GapEcho {
  id: number;
  status: GapStatus;
  reports: number;
  agent_note: string | null;
}

export interface InsertResult {
  id: number;
  created: boolean;
  gap_id: number | null;
  /** Set when the report's gap is planned, fixed, wontfix or has an agent note. */
  gap?: GapEcho;
}

export interface GroupingProgress {
  mode: "idle" | "backfill" | "regroup";
  done: number;
  total: number;
  /** Reports the backfill has not reached yet (0 outside a backfill). */
  unassigned: number;
  /**
   * Live assignment (deferred grouping in `serve`): every report with an id at or below
   * `assigned_upto` has its gap; `pending` = `latest_id` − `assigned_upto`, the reports the
   * grouping worker has still to pass (0 when every writer groups inline).
   */
  pending: number;
  assigned_upto: number;
  /** The newest report id stored. */
  latest_id: number;
  started_at: string | null;
  updated_at: string | null;
}

export interface GapChange {
  status?: "open" | "planned" | "fixed" | "wontfix" | undefined;
  fixed_in?: string | null | undefined;
  title?: string | undefined;
  agent_note?: string | null | undefined;
}
