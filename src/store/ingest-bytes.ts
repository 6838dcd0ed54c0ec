/**
 * What a report costs the database, for the daily byte cap on ingestion: the
 * UTF-8 size of the payload columns an insert fills (tools_available as the
 * JSON text it is stored as). The same column list gives the JS count for a
 * report on its way in and the SQL sum over what is already stored, so a
 * restarted server picks up the day where it left off.
 */
import type { FeedbackPayload } from "../feedback/index.js";
import type { FeedbackStore } from "./store.js";

const COUNTED_COLUMNS = [
  "server_name",
  "server_version",
  "tool_name",
  "what_i_needed",
  "what_i_tried",
  "gap_type",
  "suggestion",
  "user_goal",
  "resolution",
  "tools_available",
  "agent_model",
  "session_id",
  "client_type",
] as const satisfies readonly (keyof FeedbackPayload)[];

/** The bytes `payload` adds to the reports table (as `storedBytesSince` counts them). */
export function reportBytes(payload: FeedbackPayload): number {
  let total = 0;
  for (const column of COUNTED_COLUMNS) {
    const value = payload[column];
    if (value === undefined) continue;
    total += Buffer.byteLength(typeof value === "string" ? value : JSON.stringify(value), "utf8");
  }
  return total;
}

// octet_length reads a value's size from the record header without loading the text.
const SUM_SQL = `SELECT server_name, sum(${COUNTED_COLUMNS.map((c) => `coalesce(octet_length(${c}), 0)`).join(" + ")}) AS bytes
  FROM reports WHERE created_at >= ? GROUP BY server_name`;

/** Bytes stored per server_name in reports created at or after `sinceIso` (an ISO-8601 UTC time). */
export function storedBytesSince(store: FeedbackStore, sinceIso: string): Map<string, number> {
  const rows = store.db.prepare(SUM_SQL).all(sinceIso) as { server_name: string; bytes: number }[];
  return new Map(rows.map((r) => [r.server_name, r.bytes]));
}
