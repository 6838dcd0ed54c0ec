/** The wire shapes the dashboard reads, shared with the server's store types. */
// fields.ts is pure data (no runtime imports), so the bundle may take it whole.
import { FILTERABLE_FIELDS } from "../../feedback/fields.js";

export { describeRedactions } from "../../feedback/fields.js";
export type { Redaction } from "../../feedback/fields.js";

export type { Report, ReportDetail, Note, Draft, Stats, CountRow } from "../../store/types.js";
export type { Gap, GapDetail, GapHistoryEntry, GroupingProgress } from "../../store/gap-types.js";
export type { Sparklines, Trend, TrendRow } from "../../gaps/trend.js";

/** The LLM analysis a gap may carry (built elsewhere; shown only when present). */
export interface GapAnalysis {
  title: string;
  summary: string;
  proposed_change: string;
  model: string;
  generated_at: string;
  report_count: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * The filters the list, stats and export endpoints share (all query-string values):
 * every filterable field of the contract's field table plus the store's own.
 */
export const FILTER_KEYS = ["q", ...FILTERABLE_FIELDS, "status", "since", "until"] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type Filters = Partial<Record<FilterKey, string>>;

/** The filters and sort of the gaps list (GET /api/gaps query values). */
export const GAP_FILTER_KEYS = [
  "q",
  "server_name",
  "status",
  "gap_type",
  "tool_name",
  "since",
  "until",
  "sort",
] as const;
export type GapFilterKey = (typeof GAP_FILTER_KEYS)[number];
export type GapFilters = Partial<Record<GapFilterKey, string>>;

// Mirrors of the server's enums (a unit test keeps them equal to src/feedback and src/store).
export const GAP_TYPES = ["missing_tool", "incomplete_results", "missing_parameter", "wrong_format", "other"] as const;
export const RESOLUTIONS = ["blocked", "worked_around", "partial"] as const;
export const REPORT_STATUSES = ["open", "reviewed", "resolved", "dismissed"] as const;
export const GAP_STATUSES = ["open", "planned", "fixed", "wontfix", "duplicate"] as const;
export const SETTABLE_GAP_STATUSES = ["open", "planned", "fixed", "wontfix"] as const;
export const GAP_SORTS = ["score", "reports", "last_seen"] as const;
export const AGENT_NOTE_MAX = 500;

export const LABELS: Record<string, string> = {
  missing_tool: "Missing tool",
  incomplete_results: "Incomplete results",
  missing_parameter: "Missing parameter",
  wrong_format: "Wrong format",
  other: "Other",
  blocked: "Blocked",
  worked_around: "Worked around",
  partial: "Partial",
  open: "Open",
  reviewed: "Reviewed",
  resolved: "Resolved",
  dismissed: "Dismissed",
  planned: "Planned",
  fixed: "Fixed",
  wontfix: "Won't fix",
  duplicate: "Duplicate",
  score: "Score",
  reports: "Reports",
  last_seen: "Last seen",
};

export function label(value: string | null | undefined): string {
  if (value === null || value === undefined) return "—";
  // Own keys only: an agent's server named "constructor" is a name, not Object's constructor.
  return Object.hasOwn(LABELS, value) ? LABELS[value]! : value;
}

/**
 * The Tools view's filters (GET /api/tools query values; `days` becomes `since`). The tool
 * view's server and tool are part of its route, not of these.
 */
export const TOOL_FILTER_KEYS = ["server_name", "client", "days"] as const;
export type ToolFilterKey = (typeof TOOL_FILTER_KEYS)[number];
export type ToolFilters = Partial<Record<ToolFilterKey, string>>;
/** The ranges the Tools view offers, in days; the API's default is 7. */
export const TOOL_RANGES_DAYS = [1, 7, 30] as const;

/** GET /api/tools and /api/tools/detail answer the calls store's shapes as they are. */
export type {
  Coverage as FeedbackCoverage,
  ToolDetail,
  ToolStats as ToolsAnswer,
  ToolStatsItem as ToolRow,
} from "../../store/calls-store.js";
