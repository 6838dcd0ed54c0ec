/**
 * The report filter shared by the REST list/export/stats endpoints, the MCP
 * `list_reports` tool and the dashboard. Query strings arrive as strings, MCP
 * arguments as JSON values; the schema accepts both.
 */
import { z } from "zod";
import {
  FILTERABLE_FIELDS,
  REPORT_FIELDS,
  feedbackToolInputSchema,
  type FeedbackPayload,
  type FilterableField,
} from "../feedback/index.js";

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

const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;
const TIMESTAMP_HINT = "an ISO 8601 date or date-time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z";
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/** Days in a month (1-12) of the proleptic Gregorian calendar, for any year 0-9999. */
function daysIn(year: number, month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0);
  return d.getUTCDate();
}

/**
 * THE date parser of every date filter (REST list, export and stats, the MCP
 * tools): an ISO 8601 date or date-time, checked field by field, so an
 * impossible date such as 2026-02-30 is refused instead of rolling over into
 * March as Date.parse does. A bare date is midnight UTC, a date-time without
 * an offset is UTC too (never the server's local zone). Returns the instant as
 * an ISO string, or a sentence saying what is wrong.
 */
export function parseTimestamp(input: string): { ok: true; iso: string } | { ok: false; message: string } {
  const m = ISO_TIMESTAMP.exec(input.trim());
  if (!m) return { ok: false, message: `must be ${TIMESTAMP_HINT}` };
  const [year, month, day, hour = 0, minute = 0, second = 0] = m
    .slice(1, 7)
    .map((v) => (v === undefined ? undefined : Number(v))) as number[];
  const bad = (what: string) => ({
    ok: false as const,
    message: `${m[0]} is not a real ${m[4] === undefined ? "date" : "date-time"}: ${what}`,
  });
  if (month! < 1 || month! > 12) return bad(`there is no month ${month}`);
  if (day! < 1 || day! > daysIn(year!, month!))
    return bad(`${MONTHS[month! - 1]} ${year} has ${daysIn(year!, month!)} days`);
  if (hour > 23) return bad(`hour ${hour} is past 23`);
  if (minute > 59) return bad(`minute ${minute} is past 59`);
  if (second > 59) return bad(`second ${second} is past 59`);
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2));
    if (oh > 23 || om > 59) return bad(`${zone} is not a UTC offset`);
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const ms = Number((m[7] ?? "0").padEnd(3, "0").slice(0, 3));
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year!, month! - 1, day!);
  date.setUTCHours(hour, minute, second, ms);
  date.setTime(date.getTime() - offsetMinutes * 60_000);
  if (Number.isNaN(date.getTime())) return bad("it is outside the range of dates this server handles");
  return { ok: true, iso: date.toISOString() };
}

const timestamp = z.string({ error: `must be ${TIMESTAMP_HINT}` }).transform((s, ctx) => {
  const parsed = parseTimestamp(s);
  if (parsed.ok) return parsed.iso;
  ctx.addIssue({ code: "custom", message: parsed.message, input: s });
  return z.NEVER;
});

/** A date filter argument (checked by parseTimestamp), as an ISO instant: the tool-call filters take it too. */
export const timestampArg = timestamp;

const shortText = z
  .string()
  .trim()
  .min(1, { error: "must not be empty" })
  .max(200, { error: "must be at most 200 characters" });

/** The values of a field the table stores as an enum, read from its zod schema. */
function enumValues(name: FilterableField): [string, ...string[]] {
  let schema: z.ZodType = feedbackToolInputSchema.shape[name];
  if (schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
  if (!(schema instanceof z.ZodEnum)) throw new Error(`${name} is stored as an enum but its schema is not a z.enum`);
  return schema.options as [string, ...string[]];
}

type FieldFilterShape = {
  [K in FilterableField]: z.ZodOptional<z.ZodType<Exclude<FeedbackPayload[K], undefined>>>;
};

/** One equality filter per filterable field of the table: enums take their values, text a short string. */
const fieldFilterShape = Object.fromEntries(
  FILTERABLE_FIELDS.map((name) => {
    const spec = REPORT_FIELDS[name];
    const values = spec.storage === "enum" ? enumValues(name) : undefined;
    const schema = values === undefined ? shortText : z.enum(values, { error: `must be one of: ${values.join(", ")}` });
    return [name, schema.optional().describe(spec.filter)];
  }),
) as unknown as FieldFilterShape;

export const reportFilterShape = {
  ...fieldFilterShape,
  status: z.enum(REPORT_STATUSES).optional().describe("open, reviewed, resolved or dismissed."),
  reviewed: booleanLike.optional().describe("true: anything but open; false: open only."),
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
/**
 * The same search for PostgreSQL's to_tsquery('simple', …): every word (its parts around
 * underscores adjacent, as FTS5 reads "get_costs"), lower-cased, the last one as a prefix.
 */
export function toTsQuery(q: string): string | undefined {
  const words = q.match(/[\p{L}\p{N}_]+/gu);
  if (!words || words.length === 0) return undefined;
  const terms = words
    .map((w) =>
      w
        .toLowerCase()
        .split("_")
        .filter((p) => p !== ""),
    )
    .filter((parts) => parts.length > 0);
  if (terms.length === 0) return undefined;
  return terms
    .map((parts, i) => {
      const last = i === terms.length - 1;
      return parts.map((p, j) => (last && j === parts.length - 1 ? `${p}:*` : p)).join(" <-> ");
    })
    .join(" & ");
}

export function toFtsQuery(q: string): string | undefined {
  const words = q.match(/[\p{L}\p{N}_]+/gu);
  if (!words || words.length === 0) return undefined;
  return words.map((w, i) => (i === words.length - 1 ? `"${w}"*` : `"${w}"`)).join(" ");
}
