/**
 * Versioned schema migrations. Each entry runs once, in order, inside a
 * transaction; `PRAGMA user_version` records how far a database has got.
 * Append new migrations; never edit one that has shipped.
 */
import type Database from "better-sqlite3";

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "reports, full-text index, append-only notes, draft history, API keys",
    sql: `
      CREATE TABLE reports (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at      TEXT    NOT NULL,
        updated_at      TEXT,
        server_name     TEXT    NOT NULL,
        server_version  TEXT,
        tool_name       TEXT,
        what_i_needed   TEXT    NOT NULL,
        what_i_tried    TEXT    NOT NULL,
        gap_type        TEXT    NOT NULL,
        suggestion      TEXT,
        user_goal       TEXT,
        resolution      TEXT,
        tools_available TEXT    NOT NULL DEFAULT '[]',
        agent_model     TEXT,
        session_id      TEXT,
        client_type     TEXT,
        status          TEXT    NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'reviewed', 'resolved', 'dismissed')),
        idempotency_key TEXT    UNIQUE
      );
      -- One index per filter, each ending in id so keyset pagination (id DESC) stays an index walk.
      CREATE INDEX reports_server_name ON reports (server_name, id);
      CREATE INDEX reports_gap_type    ON reports (gap_type, id);
      CREATE INDEX reports_resolution  ON reports (resolution, id);
      CREATE INDEX reports_status      ON reports (status, id);
      CREATE INDEX reports_session_id  ON reports (session_id, id);
      CREATE INDEX reports_client_type ON reports (client_type, id);
      CREATE INDEX reports_agent_model ON reports (agent_model, id);
      CREATE INDEX reports_tool_name   ON reports (tool_name, id);
      CREATE INDEX reports_created_at  ON reports (created_at);

      CREATE VIRTUAL TABLE reports_fts USING fts5 (
        what_i_needed, what_i_tried, suggestion, user_goal, tool_name, server_name,
        content = 'reports', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2'
      );
      CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports BEGIN
        INSERT INTO reports_fts (rowid, what_i_needed, what_i_tried, suggestion, user_goal, tool_name, server_name)
        VALUES (new.id, new.what_i_needed, new.what_i_tried, new.suggestion, new.user_goal, new.tool_name, new.server_name);
      END;
      CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports BEGIN
        INSERT INTO reports_fts (reports_fts, rowid, what_i_needed, what_i_tried, suggestion, user_goal, tool_name, server_name)
        VALUES ('delete', old.id, old.what_i_needed, old.what_i_tried, old.suggestion, old.user_goal, old.tool_name, old.server_name);
      END;
      -- Only the indexed text columns can change the index; status changes skip this trigger.
      CREATE TRIGGER reports_fts_update
      AFTER UPDATE OF what_i_needed, what_i_tried, suggestion, user_goal, tool_name, server_name ON reports BEGIN
        INSERT INTO reports_fts (reports_fts, rowid, what_i_needed, what_i_tried, suggestion, user_goal, tool_name, server_name)
        VALUES ('delete', old.id, old.what_i_needed, old.what_i_tried, old.suggestion, old.user_goal, old.tool_name, old.server_name);
        INSERT INTO reports_fts (rowid, what_i_needed, what_i_tried, suggestion, user_goal, tool_name, server_name)
        VALUES (new.id, new.what_i_needed, new.what_i_tried, new.suggestion, new.user_goal, new.tool_name, new.server_name);
      END;

      -- Notes are append-only, enforced by the database itself so no code path can lose one.
      CREATE TABLE notes (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        report_id  INTEGER NOT NULL REFERENCES reports (id) ON DELETE RESTRICT,
        body       TEXT    NOT NULL,
        author     TEXT,
        created_at TEXT    NOT NULL
      );
      CREATE INDEX notes_report_id ON notes (report_id, id);
      CREATE TRIGGER notes_no_update BEFORE UPDATE ON notes BEGIN
        SELECT RAISE (ABORT, 'notes are append-only: UPDATE is not allowed');
      END;
      CREATE TRIGGER notes_no_delete BEFORE DELETE ON notes BEGIN
        SELECT RAISE (ABORT, 'notes are append-only: DELETE is not allowed');
      END;

      -- Every draft PR ever made for a report (re-drafting adds a row, never replaces one).
      CREATE TABLE drafts (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        report_id   INTEGER NOT NULL REFERENCES reports (id) ON DELETE RESTRICT,
        created_at  TEXT    NOT NULL,
        kind        TEXT    NOT NULL CHECK (kind IN ('pull_request', 'local_commit')),
        url         TEXT,
        number      INTEGER,
        repo        TEXT,
        branch      TEXT    NOT NULL,
        base_branch TEXT,
        commit_sha  TEXT,
        provider    TEXT    NOT NULL,
        model       TEXT    NOT NULL,
        files       TEXT    NOT NULL DEFAULT '[]',
        title       TEXT
      );
      CREATE INDEX drafts_report_id ON drafts (report_id, id);

      CREATE TABLE api_keys (
        id           TEXT PRIMARY KEY,
        name         TEXT,
        scope        TEXT NOT NULL CHECK (scope IN ('ingest', 'read', 'admin')),
        secret_hash  TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        revoked_at   TEXT
      );
    `,
  },
  {
    version: 2,
    description: "settings (non-secret configuration such as draft-PR repos and LLM choice; secrets live in .env)",
    sql: `
      CREATE TABLE settings (
        key        TEXT PRIMARY KEY,
        value      TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    description: "full-text indexing leaves the ingest path: rows are indexed in batches behind a watermark",
    sql: `
      -- Indexing one report at a time cost more than everything else an insert does (FTS5 writes a
      -- segment per transaction). Reports are now indexed in batches by FeedbackStore.indexPending(),
      -- which every search runs first, so searches still see every report already stored.
      DROP TRIGGER reports_fts_insert;
      CREATE TABLE fts_state (
        id           INTEGER PRIMARY KEY CHECK (id = 1),
        indexed_upto INTEGER NOT NULL
      );
      INSERT INTO fts_state (id, indexed_upto) VALUES (1, coalesce((SELECT max(id) FROM reports), 0));
      -- Rows above the watermark are not in the index yet: only indexed rows may be removed from it.
      DROP TRIGGER reports_fts_delete;
      CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports
      WHEN old.id <= (SELECT indexed_upto FROM fts_state) BEGIN
        INSERT INTO reports_fts (reports_fts, rowid, what_i_needed, what_i_tried, suggestion, user_goal, tool_name, server_name)
        VALUES ('delete', old.id, old.what_i_needed, old.what_i_tried, old.suggestion, old.user_goal, old.tool_name, old.server_name);
      END;
      DROP TRIGGER reports_fts_update;
      CREATE TRIGGER reports_fts_update
      AFTER UPDATE OF what_i_needed, what_i_tried, suggestion, user_goal, tool_name, server_name ON reports
      WHEN old.id <= (SELECT indexed_upto FROM fts_state) BEGIN
        INSERT INTO reports_fts (reports_fts, rowid, what_i_needed, what_i_tried, suggestion, user_goal, tool_name, server_name)
        VALUES ('delete', old.id, old.what_i_needed, old.what_i_tried, old.suggestion, old.user_goal, old.tool_name, old.server_name);
        INSERT INTO reports_fts (rowid, what_i_needed, what_i_tried, suggestion, user_goal, tool_name, server_name)
        VALUES (new.id, new.what_i_needed, new.what_i_tried, new.suggestion, new.user_goal, new.tool_name, new.server_name);
      END;
    `,
  },
];

/** Bring a database up to the newest migration. Safe to call on every open. */
export function migrate(db: Database.Database): number {
  const current = db.pragma("user_version", { simple: true }) as number;
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
  return db.pragma("user_version", { simple: true }) as number;
}
