/**
 * Key/value settings (migration 2). Values are JSON documents validated by
 * their owner (src/settings/); secrets never come here, they live in .env.
 */
import { AUTH_SETTING_KEY, forgetKeyPresence } from "./auth-store.js";
import { prepared } from "./sql/db.js";
import type { FeedbackStore } from "./store.js";

export function readSetting(store: FeedbackStore, key: string): unknown {
  try {
    // Read once per ingest batch (the privacy modes): prepared once per connection.
    const row = prepared(store.db, "SELECT value FROM settings WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row ? (JSON.parse(row.value) as unknown) : undefined;
  } catch {
    // A read-only handle on a database older than migration 2 has no settings table: nothing saved yet.
    return undefined;
  }
}

export function writeSetting(store: FeedbackStore, key: string, value: unknown): void {
  store.db
    .prepare(
      `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    )
    .run(key, JSON.stringify(value), new Date().toISOString());
  if (key === AUTH_SETTING_KEY) forgetKeyPresence(store);
}
