/**
 * The gap list filter shared by GET /api/gaps, the MCP list_gaps tool and the
 * CLI. Query strings arrive as strings, MCP arguments as JSON values.
 */
import { z } from "zod";
import { GAP_TYPES } from "../feedback/index.js";
import { reportFilterShape } from "./filters.js";

export const GAP_STATUSES = ["open", "planned", "fixed", "wontfix", "duplicate"] as const;
export type GapStatus = (typeof GAP_STATUSES)[number];
/** Statuses an admin may set directly (`duplicate` comes from a merge). */
export const SETTABLE_GAP_STATUSES = ["open", "planned", "fixed", "wontfix"] as const;
/** A gap in one of these statuses (or with an agent note) is echoed back to the agents that report it. */
export const ECHOED_GAP_STATUSES: readonly GapStatus[] = ["planned", "fixed", "wontfix"];

export const GAP_SORTS = ["score", "reports", "last_seen"] as const;
export type GapSort = (typeof GAP_SORTS)[number];

export const GAP_DEFAULT_LIMIT = 50;
export const GAP_MAX_LIMIT = 200;
export const AGENT_NOTE_MAX = 500;
export const GAP_TITLE_MAX = 200;
/** At most this many report ids in one split. */
export const SPLIT_MAX = 1000;

export const gapFilterShape = {
  server_name: reportFilterShape.server_name.describe("Only gaps on this MCP server."),
  status: z
    .enum(GAP_STATUSES, { error: `must be one of: ${GAP_STATUSES.join(", ")}` })
    .optional()
    .describe("open, planned, fixed, wontfix or duplicate (merged away)."),
  gap_type: z
    .enum(GAP_TYPES, { error: `must be one of: ${GAP_TYPES.join(", ")}` })
    .optional()
    .describe("Only gaps with a report of this kind."),
  tool_name: reportFilterShape.tool_name.describe("Only gaps with a report about this tool."),
  since: reportFilterShape.since.describe("Only gaps seen at or after this ISO 8601 date/time."),
  until: reportFilterShape.until.describe("Only gaps first seen before this ISO 8601 date/time."),
  q: z
    .string()
    .trim()
    .min(1, { error: "must not be empty" })
    .max(200, { error: "must be at most 200 characters" })
    .optional()
    .describe("Words that must all appear in the gap's title."),
};

export const gapPageShape = {
  sort: z
    .enum(GAP_SORTS, { error: `must be one of: ${GAP_SORTS.join(", ")}` })
    .optional()
    .describe("score (default), reports or last_seen; always highest first."),
  limit: z.coerce
    .number({ error: "must be a number" })
    .int({ error: "must be a whole number" })
    .min(1, { error: "must be at least 1" })
    .max(GAP_MAX_LIMIT, { error: `must be at most ${GAP_MAX_LIMIT}` })
    .optional()
    .describe(`How many gaps to return (default ${GAP_DEFAULT_LIMIT}, at most ${GAP_MAX_LIMIT}).`),
  cursor: z.string().trim().min(1).max(200).optional().describe("The nextCursor of the previous page."),
};

export const gapFilterSchema = z.object(gapFilterShape);
export type GapFilter = z.infer<typeof gapFilterSchema>;
export const gapListQuerySchema = z.object({ ...gapFilterShape, ...gapPageShape });
export type GapListQuery = z.infer<typeof gapListQuerySchema>;
export interface GapPage {
  sort?: GapSort | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}
