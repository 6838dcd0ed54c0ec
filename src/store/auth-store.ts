/**
 * What authentication needs from the database: whether keys exist, and the
 * recorded auth mode (a JSON document in the settings table, key "auth",
 * owned by src/auth/mode.ts). Read on every request, so one cached statement.
 */
import type Database from "better-sqlite3";
import type { FeedbackStore } from "./store.js";

export const AUTH_SETTING_KEY = "auth";

export interface KeyPresence {
  /** The mode last recorded (`on`/`off`), or null when none was ever recorded. */
  recordedMode: string | null;
  /** Any key, active or revoked, was ever created in this database. */
  hadKeys: boolean;
  /** At least one key is active (not revoked). */
  hasActiveKeys: boolean;
}

const PRESENCE_SQL = `SELECT
    (SELECT json_extract(value, '$.mode') FROM settings WHERE key = '${AUTH_SETTING_KEY}') AS recorded_mode,
    EXISTS (SELECT 1 FROM api_keys) AS had_keys,
    EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL) AS has_active_keys`;

const statements = new WeakMap<Database.Database, Database.Statement>();

export function keyPresence(store: FeedbackStore): KeyPresence {
  let stmt = statements.get(store.db);
  if (!stmt) {
    stmt = store.db.prepare(PRESENCE_SQL);
    statements.set(store.db, stmt);
  }
  const row = stmt.get() as { recorded_mode: unknown; had_keys: number; has_active_keys: number };
  return {
    recordedMode: typeof row.recorded_mode === "string" ? row.recorded_mode : null,
    hadKeys: row.had_keys === 1,
    hasActiveKeys: row.has_active_keys === 1,
  };
}
