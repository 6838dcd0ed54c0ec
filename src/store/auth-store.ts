/**
 * What authentication needs from the database: whether keys exist, and the
 * recorded auth mode (a JSON document in the settings table, key "auth",
 * owned by src/auth/mode.ts). Read on every request, so one cached statement.
 */
import { prepared } from "./sql/db.js";
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

/**
 * The mode is read inside the database, per dialect: the auth document carries a history of up
 * to 100 changes, and parsing it on every request would cost more than the query.
 */
const MODE_OF = {
  sqlite: "json_extract(value, '$.mode')",
  postgres: "value::json ->> 'mode'",
} as const;

const presenceSql = (dialect: keyof typeof MODE_OF) => `SELECT
    (SELECT ${MODE_OF[dialect]} FROM settings WHERE key = '${AUTH_SETTING_KEY}') AS recorded_mode,
    CASE WHEN EXISTS (SELECT 1 FROM api_keys) THEN 1 ELSE 0 END AS had_keys,
    CASE WHEN EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL) THEN 1 ELSE 0 END AS has_active_keys`;

/**
 * The answer is kept this long, on both backends (a PostgreSQL round trip per request was a tenth
 * of ingestion's cost, the SQLite query 7% of it): this process's own key and auth-mode changes
 * clear it at once, another process's (a sidecar, `patchworkmcp keys`) are seen within this time.
 */
export const KEY_PRESENCE_TTL_MS = 1000;
const cached = new WeakMap<object, { at: number; presence: KeyPresence }>();

/** Forget the cached presence (after creating or revoking a key, or recording the auth mode). */
export function forgetKeyPresence(store: FeedbackStore): void {
  cached.delete(store.db);
}

export function keyPresence(store: FeedbackStore): KeyPresence {
  const hit = cached.get(store.db);
  if (hit && Date.now() - hit.at < KEY_PRESENCE_TTL_MS) return hit.presence;
  const row = prepared(store.db, presenceSql(store.db.dialect)).get() as {
    recorded_mode: unknown;
    had_keys: number;
    has_active_keys: number;
  };
  const presence = {
    recordedMode: typeof row.recorded_mode === "string" ? row.recorded_mode : null,
    hadKeys: row.had_keys === 1,
    hasActiveKeys: row.has_active_keys === 1,
  };
  cached.set(store.db, { at: Date.now(), presence });
  return presence;
}
