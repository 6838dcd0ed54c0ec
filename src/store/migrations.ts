/**
 * Versioned schema migrations. Each entry runs once, in order, inside a
 * transaction; `PRAGMA user_version` records how far a database has got.
 * Append new migrations; never edit one that has shipped.
 */
import type Database from "better-sqlite3";
import { toolCallsDdl } from "./calls-columns.js";

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
  {
    version: 4,
    description: "gaps: every report belongs to one gap; history, human decisions and a resumable grouping pass",
    sql: `
      CREATE TABLE gaps (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        server_name   TEXT    NOT NULL,
        title         TEXT    NOT NULL,
        title_source  TEXT    NOT NULL DEFAULT 'medoid' CHECK (title_source IN ('medoid', 'human', 'llm')),
        status        TEXT    NOT NULL DEFAULT 'open'
                      CHECK (status IN ('open', 'planned', 'fixed', 'wontfix', 'duplicate')),
        fixed_in      TEXT,
        regressed     INTEGER NOT NULL DEFAULT 0,
        needs_review  INTEGER NOT NULL DEFAULT 0,
        agent_note    TEXT,
        duplicate_of  INTEGER REFERENCES gaps (id),
        -- A human decided something about this gap (status, note, title, merge, split, move):
        -- the automatic regroup leaves its reports where they are.
        human         INTEGER NOT NULL DEFAULT 0,
        -- Cached counts for listing and scoring, kept current by every write.
        reports       INTEGER NOT NULL DEFAULT 0,
        sessions      INTEGER NOT NULL DEFAULT 0,
        clients       INTEGER NOT NULL DEFAULT 0,
        models        INTEGER NOT NULL DEFAULT 0,
        blocked       INTEGER NOT NULL DEFAULT 0,
        partial       INTEGER NOT NULL DEFAULT 0,
        worked_around INTEGER NOT NULL DEFAULT 0,
        top_tool      TEXT,
        top_gap_type  TEXT,
        -- log2(score) + last_seen/half-life: orders gaps exactly as their current score does (src/gaps/score.ts).
        rank_key      REAL,
        first_seen    TEXT    NOT NULL,
        last_seen     TEXT    NOT NULL,
        created_at    TEXT    NOT NULL,
        updated_at    TEXT    NOT NULL,
        title_report_id INTEGER,
        profile_version INTEGER NOT NULL DEFAULT 0,
        -- The grouping engine's GapProfile as JSON; last, so list queries never read its overflow pages.
        profile       TEXT
      );
      CREATE INDEX gaps_rank        ON gaps (rank_key DESC, id DESC) WHERE reports > 0;
      CREATE INDEX gaps_server_rank ON gaps (server_name, rank_key DESC, id DESC) WHERE reports > 0;
      CREATE INDEX gaps_status_rank ON gaps (status, rank_key DESC, id DESC);
      CREATE INDEX gaps_reports     ON gaps (reports DESC, id DESC) WHERE reports > 0;
      CREATE INDEX gaps_last_seen   ON gaps (last_seen DESC, id DESC) WHERE reports > 0;

      -- LSH band key -> gaps holding a report with that key (the candidate lookup).
      CREATE TABLE gap_bands (
        band   TEXT    NOT NULL,
        gap_id INTEGER NOT NULL,
        PRIMARY KEY (band, gap_id)
      ) WITHOUT ROWID;
      CREATE INDEX gap_bands_gap ON gap_bands (gap_id);
      -- Exact-duplicate key -> the gap it joins.
      CREATE TABLE gap_fingerprints (
        server_name TEXT    NOT NULL,
        fingerprint TEXT    NOT NULL,
        gap_id      INTEGER NOT NULL,
        PRIMARY KEY (server_name, fingerprint)
      ) WITHOUT ROWID;
      CREATE INDEX gap_fingerprints_gap ON gap_fingerprints (gap_id);
      -- Distinct values per gap (s session, c client, m model, t tool, y gap type) with report counts.
      CREATE TABLE gap_facets (
        gap_id INTEGER NOT NULL,
        kind   TEXT    NOT NULL,
        value  TEXT    NOT NULL,
        n      INTEGER NOT NULL,
        PRIMARY KEY (gap_id, kind, value)
      ) WITHOUT ROWID;

      ALTER TABLE reports ADD COLUMN gap_id INTEGER REFERENCES gaps (id);
      -- 1: a human put this report in its gap (move or split); the automatic pass never moves it.
      ALTER TABLE reports ADD COLUMN gap_pinned INTEGER NOT NULL DEFAULT 0;
      CREATE INDEX reports_gap_id ON reports (gap_id, id);
      -- The engine's ReportSignature as JSON, so regroup, split and move rebuild profiles without recomputing.
      CREATE TABLE report_signatures (
        report_id INTEGER PRIMARY KEY REFERENCES reports (id) ON DELETE CASCADE,
        signature TEXT NOT NULL
      );

      -- Gap history is append-only, enforced by the database like notes.
      CREATE TABLE gap_history (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        gap_id  INTEGER NOT NULL REFERENCES gaps (id),
        at      TEXT    NOT NULL,
        actor   TEXT    NOT NULL,
        action  TEXT    NOT NULL,
        details TEXT    NOT NULL DEFAULT '{}'
      );
      CREATE INDEX gap_history_gap ON gap_history (gap_id, id);
      CREATE TRIGGER gap_history_no_update BEFORE UPDATE ON gap_history BEGIN
        SELECT RAISE (ABORT, 'gap history is append-only: UPDATE is not allowed');
      END;
      CREATE TRIGGER gap_history_no_delete BEFORE DELETE ON gap_history BEGIN
        SELECT RAISE (ABORT, 'gap history is append-only: DELETE is not allowed');
      END;

      -- Pairs a human split apart (low id first).
      CREATE TABLE gap_never_merge (
        gap_a      INTEGER NOT NULL REFERENCES gaps (id),
        gap_b      INTEGER NOT NULL REFERENCES gaps (id),
        created_at TEXT    NOT NULL,
        PRIMARY KEY (gap_a, gap_b),
        CHECK (gap_a < gap_b)
      ) WITHOUT ROWID;

      -- The grouping pass (backfill of existing reports, or a full regroup): reports with
      -- id <= watermark are done; it runs up to upto. mode 'idle' when nothing is pending.
      CREATE TABLE grouping_state (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        mode       TEXT    NOT NULL CHECK (mode IN ('idle', 'backfill', 'regroup')),
        watermark  INTEGER NOT NULL,
        upto       INTEGER NOT NULL,
        done       INTEGER NOT NULL DEFAULT 0,
        total      INTEGER NOT NULL DEFAULT 0,
        started_at TEXT,
        updated_at TEXT
      );
      INSERT INTO grouping_state (id, mode, watermark, upto, total, started_at)
      SELECT 1, CASE WHEN count(*) > 0 THEN 'backfill' ELSE 'idle' END, 0, coalesce(max(id), 0), count(*),
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
      FROM reports;
    `,
  },
  {
    version: 5,
    description:
      "gap analysis (the LLM's title, summary and proposed change, cached per gap) and drafts made from a gap",
    sql: `
      -- One cached analysis per gap, replaced when re-run. Only zod-validated model output is written here.
      CREATE TABLE gap_analyses (
        gap_id          INTEGER PRIMARY KEY REFERENCES gaps (id),
        title           TEXT    NOT NULL,
        summary         TEXT    NOT NULL,
        proposed_change TEXT    NOT NULL,
        provider        TEXT    NOT NULL,
        model           TEXT    NOT NULL,
        -- The gap's report count the analysis was made from, and how many reports more (or fewer) make it stale.
        report_count    INTEGER NOT NULL,
        refresh_after   INTEGER NOT NULL,
        generated_at    TEXT    NOT NULL
      );
      -- A draft made from a gap: report_id is its most representative report, gap_id the gap, and
      -- draft_reports every report it used as evidence (so each report's page lists the draft).
      ALTER TABLE drafts ADD COLUMN gap_id INTEGER REFERENCES gaps (id);
      CREATE INDEX drafts_gap_id ON drafts (gap_id, id) WHERE gap_id IS NOT NULL;
      CREATE TABLE draft_reports (
        report_id INTEGER NOT NULL REFERENCES reports (id),
        draft_id  INTEGER NOT NULL REFERENCES drafts (id),
        PRIMARY KEY (report_id, draft_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    description:
      "deferred grouping (the live assignment watermark), per-server term document frequencies, acted-on gap lookup",
    sql: `
      -- Reports with id <= assigned_upto have their gap (or are the backfill's, below its upto). 'serve'
      -- stores reports without a gap and a worker assigns them in id order behind this watermark.
      ALTER TABLE grouping_state ADD COLUMN assigned_upto INTEGER NOT NULL DEFAULT 0;
      UPDATE grouping_state SET assigned_upto = coalesce((SELECT max(id) FROM reports), 0);

      -- How many of a server's grouped reports contain each term (query-side IDF in chooseGap).
      -- The empty term holds the server's count of reports. The signatures already stored are
      -- counted in the background (migration 7), not here: on a big database that took minutes.
      CREATE TABLE gap_term_df (
        server_name TEXT    NOT NULL,
        term        TEXT    NOT NULL,
        df          INTEGER NOT NULL,
        PRIMARY KEY (server_name, term)
      ) WITHOUT ROWID;

      -- Whether a server has a gap worth echoing to an agent (planned, fixed, wontfix, or an agent note).
      CREATE INDEX gaps_echoed ON gaps (server_name)
        WHERE status IN ('planned', 'fixed', 'wontfix') OR agent_note IS NOT NULL;
    `,
  },
  {
    version: 7,
    description: "count the signatures stored before gap_term_df existed in resumable background batches",
    sql: `
      -- Signatures with report_id in (watermark, upto] are still to be counted into gap_term_df
      -- (GapStore.fillTermCounts, driven by serve's grouping); the row goes when they are. Only for a
      -- database migration 6 left uncounted (an older migration 6 counted at start-up). A regroup
      -- counts the reports it has not reached yet itself, so then only those it passed are filled.
      CREATE TABLE gap_term_df_fill (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        watermark INTEGER NOT NULL,
        upto      INTEGER NOT NULL
      );
      INSERT INTO gap_term_df_fill (id, watermark, upto)
      SELECT 1, 0, CASE WHEN g.mode = 'regroup' THEN min(g.watermark, s.upto) ELSE s.upto END
      FROM (SELECT coalesce(max(report_id), 0) AS upto FROM report_signatures) s, grouping_state g
      WHERE NOT EXISTS (SELECT 1 FROM gap_term_df)
        AND CASE WHEN g.mode = 'regroup' THEN min(g.watermark, s.upto) ELSE s.upto END > 0;
    `,
  },
  {
    version: 8,
    description:
      "alerts: destinations, rules, a durable delivery queue, per-rule-and-gap cooldowns, the engine's watermarks",
    sql: `
      -- Where alerts go. Secrets (the URL, a signing secret, an SMTP password) live in .env; target is
      -- what may be shown (a masked URL or the recipients), config the non-secret settings as JSON.
      CREATE TABLE alert_destinations (
        id                   INTEGER PRIMARY KEY AUTOINCREMENT,
        kind                 TEXT    NOT NULL CHECK (kind IN ('webhook', 'slack', 'email')),
        name                 TEXT,
        target               TEXT    NOT NULL,
        config               TEXT    NOT NULL DEFAULT '{}',
        -- After a secret rotation, the previous secret also signs until then.
        previous_secret_until TEXT,
        created_at           TEXT    NOT NULL
      );
      CREATE TABLE alert_rules (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        kind           TEXT    NOT NULL CHECK (kind IN ('new_gap', 'sessions', 'regression', 'blocked_share', 'digest')),
        destination_id INTEGER NOT NULL REFERENCES alert_destinations (id),
        server_name    TEXT,
        threshold      REAL,
        window_s       INTEGER,
        min_reports    INTEGER,
        cooldown_s     INTEGER NOT NULL,
        -- digest: when the next one is due.
        next_run_at    TEXT,
        created_at     TEXT    NOT NULL
      );
      CREATE INDEX alert_rules_destination ON alert_rules (destination_id);
      -- The queue: one row per alert and destination. event_id is the stable webhook-id (unique per
      -- destination, so an event enqueued twice is one delivery). A claim sets lease_until/lease_token.
      CREATE TABLE alert_deliveries (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id        TEXT    NOT NULL,
        destination_id  INTEGER NOT NULL,
        rule_id         INTEGER,
        kind            TEXT    NOT NULL,
        gap_id          INTEGER,
        payload         TEXT    NOT NULL,
        state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT    NOT NULL,
        lease_until     TEXT,
        lease_token     TEXT,
        last_error      TEXT,
        created_at      TEXT    NOT NULL,
        delivered_at    TEXT,
        UNIQUE (destination_id, event_id)
      );
      CREATE INDEX alert_deliveries_due ON alert_deliveries (next_attempt_at) WHERE state = 'pending';
      CREATE INDEX alert_deliveries_state ON alert_deliveries (state, id);
      CREATE TABLE alert_cooldowns (
        rule_id INTEGER NOT NULL,
        gap_id  INTEGER NOT NULL,
        until   TEXT    NOT NULL,
        PRIMARY KEY (rule_id, gap_id)
      ) WITHOUT ROWID;
      -- The engine has evaluated reports up to reports_upto and gap history up to history_upto; it
      -- starts at the present, so turning alerts on never alerts about the past.
      CREATE TABLE alert_state (
        id           INTEGER PRIMARY KEY CHECK (id = 1),
        reports_upto INTEGER NOT NULL,
        history_upto INTEGER NOT NULL,
        updated_at   TEXT
      );
      INSERT INTO alert_state (id, reports_upto, history_upto)
      VALUES (1, coalesce((SELECT max(id) FROM reports), 0), coalesce((SELECT max(id) FROM gap_history), 0));
    `,
  },
  {
    version: 9,
    description: "issue-tracker links: the GitHub issue made from a gap, and the claim that keeps it to one",
    sql: `
      -- One row per gap that has (or is getting) a GitHub issue. A row with number NULL is a claim:
      -- whoever holds claim_token (until claimed_at + the lease) is creating the issue; a claim left
      -- by a process that died is taken over, and the issues GitHub holds since first_claimed_at are
      -- searched for the gap's marker before another is created (src/draft/issues.ts).
      -- IF NOT EXISTS: tests that wind user_version back to replay older migrations re-run this one.
      CREATE TABLE IF NOT EXISTS gap_issues (
        gap_id           INTEGER PRIMARY KEY REFERENCES gaps (id),
        repo             TEXT    NOT NULL,
        number           INTEGER,
        url              TEXT,
        state            TEXT,
        state_reason     TEXT,
        issue_changed_at TEXT,
        claim_token      TEXT,
        claimed_at       TEXT,
        first_claimed_at TEXT    NOT NULL,
        linked_at        TEXT,
        synced_at        TEXT
      );
    `,
  },
  {
    version: 10,
    description: "the autonomy ladder: per-server level and guardrails, suggestions kept on gaps, automatic drafts",
    sql: `
      -- One row per server that left the default level (suggest). config: the guardrails as JSON,
      -- validated by src/settings/autonomy.ts on every read.
      CREATE TABLE autonomy_servers (
        server_name TEXT PRIMARY KEY,
        level       TEXT NOT NULL CHECK (level IN ('suggest', 'draft', 'auto_draft')),
        config      TEXT NOT NULL DEFAULT '{}',
        updated_at  TEXT NOT NULL
      );
      -- A change the guardrails kept local (low confidence, over the scope limits, failed verification).
      CREATE TABLE gap_suggestions (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        gap_id     INTEGER NOT NULL REFERENCES gaps (id),
        created_at TEXT    NOT NULL,
        reason     TEXT    NOT NULL,
        details    TEXT    NOT NULL DEFAULT '{}'
      );
      CREATE INDEX gap_suggestions_gap ON gap_suggestions (gap_id, id);
      -- The report count at the last automatic attempt on a gap: it is not tried again until it moves.
      CREATE TABLE autonomy_attempts (
        gap_id  INTEGER PRIMARY KEY REFERENCES gaps (id),
        reports INTEGER NOT NULL,
        at      TEXT    NOT NULL,
        outcome TEXT    NOT NULL
      );
      -- Draft PRs the autonomy worker opened (the daily cap counts them; their CI is polled).
      CREATE TABLE autonomy_drafts (
        draft_id    INTEGER PRIMARY KEY REFERENCES drafts (id),
        gap_id      INTEGER NOT NULL REFERENCES gaps (id),
        server_name TEXT    NOT NULL,
        opened_at   TEXT    NOT NULL,
        ci_state    TEXT    NOT NULL DEFAULT 'pending' CHECK (ci_state IN ('pending', 'success', 'failure', 'unknown'))
      );
      CREATE INDEX autonomy_drafts_server ON autonomy_drafts (server_name, opened_at);
      -- A draft PR closed and its branch deleted (rollback): it no longer counts as the gap's open draft.
      CREATE TABLE draft_closures (
        draft_id  INTEGER PRIMARY KEY REFERENCES drafts (id),
        closed_at TEXT    NOT NULL,
        actor     TEXT    NOT NULL,
        reason    TEXT    NOT NULL
      );
    `,
  },
  {
    version: 11,
    description: "tool-call analytics: raw call events and hourly rollups with a latency histogram",
    // Derived from the call-event contract and the histogram's buckets (src/store/calls-columns.ts).
    sql: toolCallsDdl("sqlite"),
  },
  {
    version: 12,
    description: "privacy before storage: the redactions scrubbing made, kept with each report",
    sql: `
      -- A JSON array of {field, rule, count} (src/privacy): what was replaced before the report was
      -- stored. '[]' for reports stored before this migration (and for mode off).
      ALTER TABLE reports ADD COLUMN redactions TEXT NOT NULL DEFAULT '[]';
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
