/**
 * The report filter shared by the REST list/export/stats endpoints, the MCP
 * `list_reports` tool and the dashboard. Query strings arrive as strings, MCP
 * arguments as JSON values; the schema accepts both.
 */
import { z } from "zod";
import { GAP_TYPES, RESOLUTIONS } from "../feedback/index.js";

export const REPORT_STATUSES = ["open", "reviewed", "resolved", "dismissed"] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

const booleanLike = z.preprocess(
  (v) => {
    if (typeof v !== "string") return v;
    const s = v.trim().toLowerCase();
    if (["true", "1", "yes"].includes(s)) return true;
    if (["false", "0", "no"].includes(s)) return false;
    return v;
  },
  z.boolean({ error: "must be true or false" }),
);

/** An ISO 8601 date or date-time; a bare date means midnight UTC. */
const timestamp = z
  .string()
  .trim()
  .refine((s) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)), {
    error: "must be an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z",
  })
  .transform((s) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s).toISOString());

const shortText = z
  .string()
  .trim()
  .min(1, { error: "must not be empty" })
  .max(200, { error: "must be at most 200 characters" });

export const reportFilterShape = {
  server_name: shortText.optional().describe("Only reports about this MCP server."),
  gap_type: z.enum(GAP_TYPES).optional().describe("Only this kind of gap."),
  resolution: z.enum(RESOLUTIONS).optional().describe("blocked, worked_around or partial."),
  status: z.enum(REPORT_STATUSES).optional().describe("open, reviewed, resolved or dismissed."),
  reviewed: booleanLike.optional().describe("true: anything but open; false: open only."),
  session_id: shortText.optional().describe("Only reports from this agent session."),
  client_type: shortText.optional().describe("Only reports from this client, e.g. cursor."),
  agent_model: shortText.optional().describe("Only reports from this model."),
  tool_name: shortText.optional().describe("Only reports about this tool."),
  gap_id: z.coerce
    .number({ error: "must be a gap id (a positive whole number)" })
    .int({ error: "must be a gap id (a positive whole number)" })
    .positive({ error: "must be a gap id (a positive whole number)" })
    .max(Number.MAX_SAFE_INTEGER, { error: "must be a gap id (a positive whole number)" })
    .optional()
    .describe("Only reports in this gap."),
  since: timestamp.optional().describe("Created at or after this ISO 8601 date/time."),
  until: timestamp.optional().describe("Created before this ISO 8601 date/time."),
  q: z
    .string()
    .trim()
    .max(500, { error: "must be at most 500 characters" })
    .optional()
    .describe("Full-text search over the report text."),
};

export const reportFilterSchema = z.object(reportFilterShape);
export type ReportFilter = z.infer<typeof reportFilterSchema>;

export const pageShape = {
  limit: z.coerce
    .number({ error: "must be a number" })
    .int({ error: "must be a whole number" })
    .min(1, { error: "must be at least 1" })
    .max(MAX_LIMIT, { error: `must be at most ${MAX_LIMIT}` })
    .optional()
    .describe(`How many reports to return (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT}).`),
  cursor: z.string().trim().min(1).max(100).optional().describe("The nextCursor of the previous page."),
};

export const listQuerySchema = z.object({ ...reportFilterShape, ...pageShape });
export type ListQuery = z.infer<typeof listQuerySchema>;

/** Cursors are opaque to clients: base64url of the last id seen. */
export function encodeCursor(lastId: number): string {
  return Buffer.from(`r:${lastId}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): number | undefined {
  const decoded = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^r:(\d{1,15})$/.exec(decoded);
  return match ? Number(match[1]) : undefined;
}

/**
 * Turn free text into an FTS5 query that cannot be a syntax error: every word
 * becomes a quoted phrase (all must match), the last one also matches as a prefix.
 */
export function toFtsQuery(q: string): string | undefined {
  const words = q.match(/[\p{L}\p{N}_]+/gu);
  if (!words || words.length === 0) return undefined;
  return words.map((w, i) => (i === words.length - 1 ? `"${w}"*` : `"${w}"`)).join(" ");
}
