/**
 * THE table of a report's stored fields: one row per field of the feedback
 * payload, saying how it is stored and where it shows up. The store's columns,
 * INSERT, JSON projection and full-text list, the filters, the CSV export, the
 * report Markdown the MCP tools answer with, the spec vectors and the
 * dashboard's filter keys all derive from it, so adding a
 * field is one row here (plus its zod schema, which the `satisfies` below
 * demands) and a migration that adds the column.
 *
 * Pure data with type-only imports: the dashboard bundle imports it as is.
 * Order is the order the REST API returns a report's fields in.
 */
import type { FeedbackToolInput } from "./schema.js";

/** text: a TEXT column; enum: a TEXT column holding one of the zod enum's values; json_list: a JSON array in TEXT. */
export type FieldStorage = "text" | "enum" | "json_list";

/**
 * Where a report's Markdown (src/mcp/markdown.ts) shows the field. line: a
 * `**label:**` fact in the list at the top, left out when empty; section: a
 * `## label` heading of its own, for long text (a fenced block, left out when
 * empty) and lists (code spans, "(not reported)" when empty).
 */
export type FieldDisplay = "line" | "section";

export interface FieldSpec {
  readonly storage: FieldStorage;
  /** Part of the full-text index (reports_fts). Changing this needs a migration that rebuilds the index. */
  readonly searchable: boolean;
  /** An equality filter on list, export, stats and the MCP tools; the text is the filter's description. */
  readonly filter?: string;
  /** A column of the CSV export (JSON exports always carry every field). */
  readonly exported: boolean;
  /** What people read the field as (report Markdown); trusted text, never agent-written. */
  readonly label: string;
  readonly display: FieldDisplay;
  /** Free text an agent writes: privacy (src/privacy) scrubs it before it is stored. */
  readonly scrub?: true;
}

export const REPORT_FIELDS = {
  server_name: {
    storage: "text",
    searchable: true,
    filter: "Only reports about this MCP server.",
    exported: true,
    label: "Server",
    display: "line",
  },
  server_version: { storage: "text", searchable: false, exported: true, label: "Server version", display: "line" },
  tool_name: {
    storage: "text",
    searchable: true,
    filter: "Only reports about this tool.",
    exported: true,
    label: "Tool",
    display: "line",
  },
  what_i_needed: {
    storage: "text",
    searchable: true,
    exported: true,
    label: "What the agent needed",
    display: "section",
    scrub: true,
  },
  what_i_tried: {
    storage: "text",
    searchable: true,
    exported: true,
    label: "What the agent tried",
    display: "section",
    scrub: true,
  },
  gap_type: {
    storage: "enum",
    searchable: false,
    filter: "Only this kind of gap.",
    exported: true,
    label: "Gap type",
    display: "line",
  },
  suggestion: {
    storage: "text",
    searchable: true,
    exported: true,
    label: "Suggested fix",
    display: "section",
    scrub: true,
  },
  user_goal: {
    storage: "text",
    searchable: true,
    exported: true,
    label: "User's goal",
    display: "section",
    scrub: true,
  },
  resolution: {
    storage: "enum",
    searchable: false,
    filter: "blocked, worked_around or partial.",
    exported: true,
    label: "Resolution",
    display: "line",
  },
  tools_available: {
    storage: "json_list",
    searchable: false,
    exported: true,
    label: "Tools the agent saw",
    display: "section",
  },
  agent_model: {
    storage: "text",
    searchable: false,
    filter: "Only reports from this model.",
    exported: true,
    label: "Agent model",
    display: "line",
  },
  session_id: {
    storage: "text",
    searchable: false,
    filter: "Only reports from this agent session.",
    exported: true,
    label: "Session",
    display: "line",
  },
  client_type: {
    storage: "text",
    searchable: false,
    filter: "Only reports from this client, e.g. cursor.",
    exported: true,
    label: "Client",
    display: "line",
  },
} as const satisfies { readonly [K in keyof FeedbackToolInput]-?: FieldSpec };

export type ReportFieldName = keyof typeof REPORT_FIELDS;

type Spec<K extends ReportFieldName> = (typeof REPORT_FIELDS)[K];

/** Fields that are equality filters. */
export type FilterableField = {
  [K in ReportFieldName]: Spec<K> extends { filter: string } ? K : never;
}[ReportFieldName];

const entries = Object.entries(REPORT_FIELDS) as [ReportFieldName, FieldSpec][];

/** Every stored payload field, in table order. */
export const REPORT_FIELD_NAMES: readonly ReportFieldName[] = entries.map(([name]) => name);

/** The fields in the full-text index. */
export const SEARCHABLE_FIELDS: readonly ReportFieldName[] = entries.filter(([, s]) => s.searchable).map(([n]) => n);

/** The fields with an equality filter. */
export const FILTERABLE_FIELDS = entries.filter(([, s]) => s.filter !== undefined).map(([n]) => n) as FilterableField[];

/** The fields in the CSV export. */
export const EXPORTED_FIELDS: readonly ReportFieldName[] = entries.filter(([, s]) => s.exported).map(([n]) => n);

/** The fields privacy scrubs before storage. */
export const SCRUBBED_FIELDS: readonly ReportFieldName[] = entries.filter(([, s]) => s.scrub === true).map(([n]) => n);

/** One rule that fired on one field of a report, and how many matches it replaced (stored with the report). */
export interface Redaction {
  field: string;
  rule: string;
  count: number;
}

/** "email ×2 in what_i_tried; github ×1 in suggestion": redactions as one line of text (cards, Markdown). */
export function describeRedactions(redactions: readonly Redaction[]): string {
  return redactions.map((r) => `${r.rule} ×${r.count} in ${r.field}`).join("; ");
}
