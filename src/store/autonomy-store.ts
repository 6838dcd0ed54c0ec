/**
 * The autonomy ladder's tables (SQLite migration 10, PostgreSQL 4): each server's level and
 * guardrails (a JSON document validated by src/settings/autonomy.ts, not here), the suggestions
 * the guardrails kept on a gap, the last automatic attempt per gap, the draft PRs the worker
 * opened, and draft closures (rollbacks). Every automatic action also goes into gap history
 * (actor "autonomy"), which the alerts engine watches.
 */
import type { Draft } from "./types.js";
import type { FeedbackStore } from "./store.js";
import { StoreError } from "./store.js";

/** Advisory lock class of the autonomy worker's tick (several sidecars on one PostgreSQL: one tick at a time). */
const AUTONOMY_LOCK_CLASS = 0x70776d34; // "pwm4"

export const AUTONOMY_ACTOR = "autonomy";

/** The history actions of automatic steps (the alerts engine turns each into an alert). */
export const AUTONOMY_ACTIONS = {
  opened: "auto_draft_opened",
  suggested: "auto_draft_suggested",
  verificationFailed: "auto_draft_verification_failed",
  rolledBack: "auto_draft_rolled_back",
} as const;

export interface AutonomyServerRow {
  server_name: string;
  level: string;
  config: unknown;
  updated_at: string;
}

export type SuggestionReason = "low_confidence" | "over_scope" | "verification_failed" | "verification_unavailable";

export interface GapSuggestion {
  id: number;
  gap_id: number;
  created_at: string;
  reason: SuggestionReason;
  /** Confidence, rationale, title, files, diff, problems, verification output: model and command text, render inert. */
  details: Record<string, unknown>;
}

export interface AutoDraftRow {
  draft_id: number;
  gap_id: number;
  server_name: string;
  opened_at: string;
  ci_state: "pending" | "success" | "failure" | "unknown";
}

/** Live gaps of one server that meet the count thresholds, highest score first (min_score is checked by the caller). */
export interface CandidateGap {
  id: number;
  reports: number;
  sessions: number;
  blocked: number;
}

interface DraftRow extends Omit<Draft, "files"> {
  files: string;
}

const toDraft = (r: DraftRow): Draft => ({ ...r, files: JSON.parse(r.files) as string[] });

export class AutonomyStore {
  constructor(private readonly store: FeedbackStore) {}

  private get db() {
    return this.store.db;
  }

  // ---- per-server settings -------------------------------------------------

  server(name: string): AutonomyServerRow | undefined {
    const row = this.db
      .prepare("SELECT server_name, level, config, updated_at FROM autonomy_servers WHERE server_name = ?")
      .get(name) as (Omit<AutonomyServerRow, "config"> & { config: string }) | undefined;
    return row ? { ...row, config: safeJson(row.config) } : undefined;
  }

  servers(): AutonomyServerRow[] {
    const rows = this.db
      .prepare("SELECT server_name, level, config, updated_at FROM autonomy_servers ORDER BY server_name")
      .all() as (Omit<AutonomyServerRow, "config"> & { config: string })[];
    return rows.map((r) => ({ ...r, config: safeJson(r.config) }));
  }

  /** Servers at one level (the worker asks for auto_draft). */
  serversAt(level: string): string[] {
    return (
      this.db.prepare("SELECT server_name FROM autonomy_servers WHERE level = ? ORDER BY server_name").all(level) as {
        server_name: string;
      }[]
    ).map((r) => r.server_name);
  }

  putServer(name: string, level: string, config: Record<string, unknown>): void {
    this.db
      .prepare(
        `INSERT INTO autonomy_servers (server_name, level, config, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (server_name) DO UPDATE SET level = excluded.level, config = excluded.config,
           updated_at = excluded.updated_at`,
      )
      .run(name, level, JSON.stringify(config), new Date().toISOString());
  }

  // ---- candidates and attempts ----------------------------------------------

  /**
   * Live, undecided gaps (open or planned, not merged, not fixed or declined) of a server, highest
   * score first (rank_key orders as the current score does), with
   * at least `minSessions` sessions and at least `minBlockedShare` of their reports blocked,
   * that have no open draft and were not tried at their current report count.
   */
  candidates(server: string, minSessions: number, minBlockedShare: number, limit: number): CandidateGap[] {
    return this.db
      .prepare(
        `SELECT g.id, g.reports, g.sessions, g.blocked FROM gaps g
         LEFT JOIN autonomy_attempts a ON a.gap_id = g.id
         WHERE g.server_name = ? AND g.reports > 0 AND g.status IN ('open', 'planned')
           AND g.sessions >= ? AND g.blocked >= CAST(? AS REAL) * g.reports
           AND (a.gap_id IS NULL OR a.reports <> g.reports)
           AND NOT EXISTS (${OPEN_DRAFT_OF_GAP})
         ORDER BY g.rank_key DESC, g.id ASC LIMIT ?`,
      )
      .all(server, minSessions, minBlockedShare, limit) as CandidateGap[];
  }

  /** Remember an automatic attempt at this report count (not tried again until it changes). */
  attempted(gapId: number, reports: number, outcome: string): void {
    this.db
      .prepare(
        `INSERT INTO autonomy_attempts (gap_id, reports, at, outcome) VALUES (?, ?, ?, ?)
         ON CONFLICT (gap_id) DO UPDATE SET reports = excluded.reports, at = excluded.at, outcome = excluded.outcome`,
      )
      .run(gapId, reports, new Date().toISOString(), outcome);
  }

  lastAttempt(gapId: number): { reports: number; at: string; outcome: string } | undefined {
    return this.db.prepare("SELECT reports, at, outcome FROM autonomy_attempts WHERE gap_id = ?").get(gapId) as
      | { reports: number; at: string; outcome: string }
      | undefined;
  }

  /**
   * Take the autonomy lock: on PostgreSQL a session advisory lock, so two sidecars on one
   * database never draft at once (which could draft one gap twice or pass the daily cap).
   * Null when another sidecar holds it. On SQLite one process owns the file, and the worker's
   * one-tick-at-a-time rule is the lock.
   */
  claim(): (() => void) | null {
    if (this.db.dialect !== "postgres") return () => undefined;
    const got = this.db.prepare(`SELECT pg_try_advisory_lock(${AUTONOMY_LOCK_CLASS}, 0) AS ok`).get() as {
      ok: boolean;
    };
    if (!got.ok) return null;
    return () => {
      if (this.db.open) this.db.prepare(`SELECT pg_advisory_unlock(${AUTONOMY_LOCK_CLASS}, 0) AS ok`).get();
    };
  }

  // ---- suggestions -----------------------------------------------------------

  addSuggestion(gapId: number, reason: SuggestionReason, details: Record<string, unknown>): GapSuggestion {
    const at = new Date().toISOString();
    const info = this.db
      .prepare("INSERT INTO gap_suggestions (gap_id, created_at, reason, details) VALUES (?, ?, ?, ?) RETURNING id")
      .get(gapId, at, reason, JSON.stringify(details)) as { id: number };
    return { id: Number(info.id), gap_id: gapId, created_at: at, reason, details };
  }

  suggestionsOf(gapId: number, limit = 20): GapSuggestion[] {
    try {
      const rows = this.db
        .prepare(
          "SELECT id, gap_id, created_at, reason, details FROM gap_suggestions WHERE gap_id = ? ORDER BY id DESC LIMIT ?",
        )
        .all(gapId, limit) as (Omit<GapSuggestion, "details"> & { details: string })[];
      return rows.map((r) => ({ ...r, details: safeJson(r.details) as Record<string, unknown> }));
    } catch (err) {
      // A read-only handle on a database older than migration 10 has no suggestions yet.
      if (isMissingTable(err)) return [];
      throw err;
    }
  }

  // ---- drafts the worker opened, and rollbacks ---------------------------------

  recordAutoDraft(draftId: number, gapId: number, server: string): void {
    this.db
      .prepare("INSERT INTO autonomy_drafts (draft_id, gap_id, server_name, opened_at) VALUES (?, ?, ?, ?)")
      .run(draftId, gapId, server, new Date().toISOString());
  }

  /** Automatic drafts a server opened since `sinceIso` (the daily cap; rolled-back ones count too). */
  autoDraftsSince(server: string, sinceIso: string): number {
    return (
      this.db
        .prepare("SELECT count(*) AS n FROM autonomy_drafts WHERE server_name = ? AND opened_at >= ?")
        .get(server, sinceIso) as { n: number }
    ).n;
  }

  /** Automatic drafts still open whose CI has not been seen to finish. */
  pendingCi(limit = 20): (AutoDraftRow & { draft: Draft })[] {
    const rows = this.db
      .prepare(
        `SELECT a.draft_id, a.gap_id, a.server_name, a.opened_at, a.ci_state, d.* FROM autonomy_drafts a
         JOIN drafts d ON d.id = a.draft_id
         WHERE a.ci_state = 'pending' AND NOT EXISTS (SELECT 1 FROM draft_closures c WHERE c.draft_id = a.draft_id)
         ORDER BY a.draft_id LIMIT ?`,
      )
      .all(limit) as (AutoDraftRow & DraftRow)[];
    return rows.map((r) => ({
      draft_id: r.draft_id,
      gap_id: r.gap_id,
      server_name: r.server_name,
      opened_at: r.opened_at,
      ci_state: r.ci_state,
      draft: toDraft({ ...r, id: r.draft_id, gap_id: r.gap_id }),
    }));
  }

  setCiState(draftId: number, state: AutoDraftRow["ci_state"]): void {
    this.db.prepare("UPDATE autonomy_drafts SET ci_state = ? WHERE draft_id = ?").run(state, draftId);
  }

  isAutoDraft(draftId: number): boolean {
    return this.db.prepare("SELECT 1 AS yes FROM autonomy_drafts WHERE draft_id = ?").get(draftId) !== undefined;
  }

  /** The gap's newest draft PR that has not been closed by a rollback. */
  openDraftOf(gapId: number): Draft | undefined {
    let row: DraftRow | undefined;
    try {
      row = this.db
        .prepare(
          `SELECT d.* FROM drafts d WHERE d.gap_id = ? AND d.kind = 'pull_request'
             AND NOT EXISTS (SELECT 1 FROM draft_closures c WHERE c.draft_id = d.id)
           ORDER BY d.id DESC LIMIT 1`,
        )
        .get(gapId) as DraftRow | undefined;
    } catch (err) {
      if (isMissingTable(err)) return undefined;
      throw err;
    }
    return row ? toDraft(row) : undefined;
  }

  /** Mark a draft closed (its PR closed and branch deleted). False when it already was. */
  closeDraft(draftId: number, actor: string, reason: string): boolean {
    const info = this.db
      .prepare(
        `INSERT INTO draft_closures (draft_id, closed_at, actor, reason) VALUES (?, ?, ?, ?)
         ON CONFLICT (draft_id) DO NOTHING`,
      )
      .run(draftId, new Date().toISOString(), actor, reason);
    return info.changes > 0;
  }

  closureOf(draftId: number): { closed_at: string; actor: string; reason: string } | undefined {
    return this.db.prepare("SELECT closed_at, actor, reason FROM draft_closures WHERE draft_id = ?").get(draftId) as
      | { closed_at: string; actor: string; reason: string }
      | undefined;
  }

  /** The gap exists (or a StoreError). */
  requireGap(gapId: number): void {
    if (!this.store.gaps.getGap(gapId)) throw new StoreError("gap_not_found", `There is no gap ${gapId}.`);
  }
}

const OPEN_DRAFT_OF_GAP = `SELECT 1 FROM drafts d WHERE d.gap_id = g.id AND d.kind = 'pull_request'
  AND NOT EXISTS (SELECT 1 FROM draft_closures c WHERE c.draft_id = d.id)`;

/** A read-only handle on a database older than migration 10 (SQLite) has none of these tables. */
const isMissingTable = (err: unknown) => /no such table/i.test(String(err));

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}

const instances = new WeakMap<FeedbackStore, AutonomyStore>();

/** The autonomy tables of a store (one instance per store). */
export function autonomyOf(store: FeedbackStore): AutonomyStore {
  let a = instances.get(store);
  if (!a) {
    a = new AutonomyStore(store);
    instances.set(store, a);
  }
  return a;
}
