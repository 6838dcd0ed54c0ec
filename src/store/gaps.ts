/**
 * Gaps in SQLite: assignment inside the ingest transaction, the resumable
 * grouping pass (backfill and regroup), human decisions (edit, merge, split,
 * move) and the append-only history. The grouping engine (src/gaps) decides
 * which gap a report joins; this module only stores what it decides. The
 * engine, the score and the version order are pure functions, imported here
 * because the store runs them inside its transactions.
 */
import type Database from "better-sqlite3";
import { type SqlDb, type Statement, valuesList } from "./sql/db.js";
import { INGEST_LOCK_KEY } from "./sql/pg-db.js";
import type { FeedbackPayload } from "../feedback/index.js";
import type { GapProfile, GroupingInput, ReportSignature, ServerTermStats } from "../gaps/grouping-contract.js";
import { MAX_CANDIDATES } from "../gaps/grouping-contract.js";
import {
  addToProfile,
  chooseGap,
  medoid,
  mergeCandidates,
  mergeProfiles,
  signatureOf,
  topSuggestions,
} from "../gaps/index.js";
import { rankKey, scoreOf } from "../gaps/score.js";
import { isAtOrAbove, parseVersion } from "../gaps/version-order.js";
import {
  AGENT_NOTE_MAX,
  ECHOED_GAP_STATUSES,
  GAP_DEFAULT_LIMIT,
  GAP_MAX_LIMIT,
  GAP_TITLE_MAX,
  SPLIT_MAX,
  type GapFilter,
  type GapPage,
} from "./gap-filters.js";
import type { Gap, GapChange, GapEcho, GapHistoryEntry, GroupingProgress, InsertResult } from "./gap-types.js";
import { GapAnalysisStore } from "./gap-analyses.js";
import { TrackerStore } from "./tracker-store.js";
import { StoreError } from "./store.js";
import type { Draft, Note } from "./types.js";

type Stmt = (sql: string) => Statement;

/** A gaps row: the gap's stored fields (flags as 0/1), without what is derived on the way out. */
interface GapRow
  extends Omit<
    Gap,
    | "regressed"
    | "needs_review"
    | "tool_name"
    | "gap_type"
    | "blocked_share"
    | "score"
    | "score_explain"
    | "analysis"
    | "issue"
  > {
  regressed: number;
  needs_review: number;
  human: number;
  top_tool: string | null;
  top_gap_type: string | null;
  rank_key: number | null;
  title_report_id: number | null;
  profile_version: number;
}

const GAP_COLUMN_LIST = [
  "id",
  "server_name",
  "title",
  "title_source",
  "status",
  "fixed_in",
  "regressed",
  "needs_review",
  "agent_note",
  "duplicate_of",
  "human",
  "reports",
  "sessions",
  "clients",
  "models",
  "blocked",
  "partial",
  "worked_around",
  "top_tool",
  "top_gap_type",
  "rank_key",
  "first_seen",
  "last_seen",
  "created_at",
  "updated_at",
  "title_report_id",
  "profile_version",
] as const satisfies readonly (keyof GapRow)[];
const GAP_COLUMNS = GAP_COLUMN_LIST.join(", ");
const AT = Object.fromEntries(GAP_COLUMN_LIST.map((c, i) => [c, i])) as Record<keyof GapRow, number>;

/**
 * A gaps row from a raw (array) result of `SELECT ${GAP_COLUMNS}`. better-sqlite3
 * builds a row object through the V8 API at several times the cost of this
 * literal (it dominated GET /api/gaps), so gap rows are read raw and shaped here.
 */
function gapRowOf(t: readonly unknown[]): GapRow {
  const v = <K extends keyof GapRow>(k: K) => t[AT[k]] as GapRow[K];
  return {
    id: v("id"),
    server_name: v("server_name"),
    title: v("title"),
    title_source: v("title_source"),
    status: v("status"),
    fixed_in: v("fixed_in"),
    regressed: v("regressed"),
    needs_review: v("needs_review"),
    agent_note: v("agent_note"),
    duplicate_of: v("duplicate_of"),
    human: v("human"),
    reports: v("reports"),
    sessions: v("sessions"),
    clients: v("clients"),
    models: v("models"),
    blocked: v("blocked"),
    partial: v("partial"),
    worked_around: v("worked_around"),
    top_tool: v("top_tool"),
    top_gap_type: v("top_gap_type"),
    rank_key: v("rank_key"),
    first_seen: v("first_seen"),
    last_seen: v("last_seen"),
    created_at: v("created_at"),
    updated_at: v("updated_at"),
    title_report_id: v("title_report_id"),
    profile_version: v("profile_version"),
  };
}

/** The report fields grouping and gap counts read. */
export interface GroupedReport extends GroupingInput {
  created_at: string;
  server_version: string | null;
  resolution: string | null;
  session_id: string | null;
  client_type: string | null;
  agent_model: string | null;
}

const REPORT_FIELDS =
  "r.server_name, r.tool_name, r.gap_type, r.what_i_needed, r.what_i_tried, r.suggestion, r.user_goal, r.created_at, " +
  "r.server_version, r.resolution, r.session_id, r.client_type, r.agent_model";

export function groupedReport(p: FeedbackPayload, createdAt: string): GroupedReport {
  return {
    server_name: p.server_name,
    tool_name: p.tool_name ?? null,
    gap_type: p.gap_type,
    what_i_needed: p.what_i_needed,
    what_i_tried: p.what_i_tried,
    suggestion: p.suggestion ?? null,
    user_goal: p.user_goal ?? null,
    created_at: createdAt,
    server_version: p.server_version ?? null,
    resolution: p.resolution ?? null,
    session_id: p.session_id ?? null,
    client_type: p.client_type ?? null,
    agent_model: p.agent_model ?? null,
  };
}

const nowIso = (): string => new Date().toISOString();
const titleOf = (text: string): string => {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > GAP_TITLE_MAX ? `${flat.slice(0, GAP_TITLE_MAX - 1)}…` : flat;
};

/** Titles are refreshed (medoid of the newest members) when a gap's size reaches 2, 4, 8, 16, … */
const crossedPowerOfTwo = (before: number, after: number): boolean =>
  after >= 2 && Math.floor(Math.log2(after)) > Math.floor(Math.log2(Math.max(1, before)));
const MEDOID_SAMPLE = 200;
const SUGGESTION_SAMPLE = 500;

function dominant(counts: Readonly<Record<string, number>> | undefined): string | null {
  let best: string | undefined;
  for (const [k, n] of Object.entries(counts ?? {})) if (best === undefined || n > counts![best]!) best = k;
  return best === undefined || best === "" ? null : best;
}

function toGap(row: GapRow, now = Date.now()): Gap {
  const { score, score_explain } = scoreOf(row, now);
  return {
    id: row.id,
    server_name: row.server_name,
    title: row.title,
    title_source: row.title_source,
    status: row.status,
    fixed_in: row.fixed_in,
    regressed: row.regressed === 1,
    needs_review: row.needs_review === 1,
    agent_note: row.agent_note,
    duplicate_of: row.duplicate_of,
    tool_name: row.top_tool,
    gap_type: row.top_gap_type,
    reports: row.reports,
    sessions: row.sessions,
    clients: row.clients,
    models: row.models,
    blocked: row.blocked,
    partial: row.partial,
    worked_around: row.worked_around,
    blocked_share: row.reports > 0 ? Math.round((row.blocked / row.reports) * 1000) / 1000 : 0,
    first_seen: row.first_seen,
    last_seen: row.last_seen,
    created_at: row.created_at,
    updated_at: row.updated_at,
    score,
    score_explain,
    analysis: null,
    issue: null,
  };
}

export function echoOf(row: Pick<GapRow, "id" | "status" | "reports" | "agent_note">): GapEcho | undefined {
  if (!ECHOED_GAP_STATUSES.includes(row.status) && !row.agent_note) return undefined;
  return { id: row.id, status: row.status, reports: row.reports, agent_note: row.agent_note };
}

interface Working {
  row: GapRow;
  profile: GapProfile | null;
  sizeBefore: number;
  dirty: boolean;
}

/** Gap cursors: base64url of "g:<sort value>:<id>". */
function encodeGapCursor(value: number | string, id: number): string {
  return Buffer.from(`g:${JSON.stringify([value, id])}`, "utf8").toString("base64url");
}
function decodeGapCursor(cursor: string): [number | string, number] | undefined {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  if (!text.startsWith("g:")) return undefined;
  try {
    const v = JSON.parse(text.slice(2)) as unknown;
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      (typeof v[0] === "number" || typeof v[0] === "string") &&
      Number.isInteger(v[1])
    )
      return [v[0], v[1] as number];
  } catch {
    // not ours
  }
  return undefined;
}

/** Band keys are stored per server, so a lookup never reads another server's gaps. */
/** Rows per multi-row statement of a grouping batch (4 parameters a row at most: far below either cap). */
const ROWS_PER_STATEMENT = 200;

/**
 * A band key as stored: server, separator, band. SQLite databases have always used NUL;
 * PostgreSQL text cannot hold NUL, so it uses the unit separator (patchworkmcp migrate converts).
 */
export const BAND_SEPARATOR = { sqlite: "\u0000", postgres: "\u001f" } as const;
/**
 * Gaps read per band key, newest first. A key that many gaps share (a common
 * phrase) would otherwise make one lookup read thousands of rows; with the cap a
 * lookup reads at most MAX_BANDS × BAND_FANOUT rows, however large the store.
 */
const BAND_FANOUT = 200;

const SORT_COLUMN = { score: "rank_key", reports: "reports", last_seen: "last_seen" } as const;

/** Parsed profiles kept in memory (an LRU by gap id; each entry valid while its profile_version matches the row). */
const PROFILE_CACHE_MAX = 20_000;
/** How long "does this server have a gap worth echoing" is trusted (changes in this process clear it at once). */
const ECHOABLE_TTL_MS = 1000;
/** The term under which gap_term_df keeps a server's count of grouped reports. */
const REPORTS_TERM = "";

/** What one step of the live assignment did. */
export interface AssignStep {
  /** Reports the watermark passed (assigned, or found already assigned by another writer). */
  processed: number;
  /** Reports this step put in a gap. */
  assigned: number;
  /** The watermark after the step: every report with an id at or below it has its gap. */
  assignedUpTo: number;
  /** The newest report id stored when the step began. */
  latestId: number;
}

/** A report waiting for the assignment, read and signed ahead of its transaction. */
type PendingReport = GroupedReport & { id: number; gap_id: number | null; signature: ReportSignature | null };

export class GapStore {
  /** Parsed profiles by gap id, valid while profile_version matches the row (Map order = recency). */
  private readonly profiles = new Map<number, { version: number; profile: GapProfile | null }>();
  /** Per server: whether it has a planned, fixed or wontfix gap or one with an agent note, and when that was read. */
  private readonly echoable = new Map<string, { has: boolean; at: number }>();
  /**
   * Reports above the watermark that an assignment step read and signed but did not reach (it
   * yielded to ingestion): the next step starts from them, so a step cut short costs only the
   * reports it assigned, not another read and another maxReports signatures. In id order, a
   * prefix of what waits; at most maxReports.
   */
  private prepared: PendingReport[] = [];

  /** The cached LLM analyses (src/store/gap-analyses.ts). */
  readonly analyses: GapAnalysisStore;
  /** The GitHub issues made from gaps (src/store/tracker-store.ts). */
  readonly issues: TrackerStore;

  constructor(
    private readonly db: SqlDb,
    private readonly stmt: Stmt,
  ) {
    this.analyses = new GapAnalysisStore(db, stmt, this);
    this.issues = new TrackerStore(db, stmt, this);
  }

  // ---- assignment (ingest and the grouping pass) -------------------------

  /** A unit of assignment work inside one transaction: gap rows are loaded once and written once. */
  /** The stored key of LSH band `band` of server `server`. */
  bandKey(server: string, band: string): string {
    return `${server}${BAND_SEPARATOR[this.db.dialect]}${band}`;
  }

  batch(actor = "auto"): AssignBatch {
    return new AssignBatch(this, this.stmt, actor);
  }

  /** @internal */
  loadProfile(id: number, version: number): GapProfile | null {
    const cached = this.profiles.get(id);
    if (cached && cached.version === version) {
      this.profiles.delete(id);
      this.profiles.set(id, cached);
      return cached.profile;
    }
    const row = this.stmt("SELECT profile FROM gaps WHERE id = ?").get(id) as { profile: string | null } | undefined;
    const profile = row?.profile ? (JSON.parse(row.profile) as GapProfile) : null;
    this.rememberProfile(id, version, profile);
    return profile;
  }

  /** @internal */
  rememberProfile(id: number, version: number, profile: GapProfile | null): void {
    this.profiles.delete(id);
    if (this.profiles.size >= PROFILE_CACHE_MAX) this.profiles.delete(this.profiles.keys().next().value!);
    this.profiles.set(id, { version, profile });
  }

  /** @internal */
  gapRow(id: number): GapRow | undefined {
    const t = this.stmt(`SELECT ${GAP_COLUMNS} FROM gaps WHERE id = ?`).raw(true).get(id) as unknown[] | undefined;
    return t && gapRowOf(t);
  }

  /** The echo for a report already stored (an idempotent replay). */
  echoForReport(reportId: number): { gap_id: number | null; gap?: GapEcho } {
    const row = this.stmt(
      "SELECT g.id, g.status, g.reports, g.agent_note FROM reports r JOIN gaps g ON g.id = r.gap_id WHERE r.id = ?",
    ).get(reportId) as Pick<GapRow, "id" | "status" | "reports" | "agent_note"> | undefined;
    if (!row) return { gap_id: null };
    const gap = echoOf(row);
    return gap ? { gap_id: row.id, gap } : { gap_id: row.id };
  }

  /**
   * Whether a report on this server could get a known-gap echo: the server has a gap that is
   * planned, fixed or wontfix or has an agent note (an indexed lookup, cached briefly; human
   * decisions in this process clear the cache).
   */
  serverHasEchoableGap(serverName: string, now = Date.now()): boolean {
    const cached = this.echoable.get(serverName);
    if (cached && now - cached.at < ECHOABLE_TTL_MS) return cached.has;
    const has =
      this.stmt(
        `SELECT 1 FROM gaps WHERE server_name = ? AND (status IN (${ECHOED_GAP_STATUSES.map((st) => `'${st}'`).join(", ")}) OR agent_note IS NOT NULL) LIMIT 1`,
      ).get(serverName) !== undefined;
    if (this.echoable.size >= 10_000) this.echoable.clear();
    this.echoable.set(serverName, { has, at: now });
    return has;
  }

  /** @internal A human decision may have changed which gaps are echoed. */
  forgetEchoable(): void {
    this.echoable.clear();
  }

  /** @internal An inline writer grouped reports first..last: the watermark moves when nothing before them waits. */
  assignedThrough(first: number, last: number): void {
    this.stmt("UPDATE grouping_state SET assigned_upto = ? WHERE assigned_upto >= ? AND assigned_upto < ?").run(
      last,
      first - 1,
      last,
    );
  }

  /**
   * One step of the live assignment (deferred grouping): the reports stored after the
   * `assigned_upto` watermark, in id order, join their gaps in one short transaction (at most
   * `maxReports`, and no more reports once `maxMs` have passed inside it or `yieldTo` says another
   * writer waits), and the watermark moves in the same transaction, so a kill loses nothing.
   * Signatures are computed before the write lock is taken (reports never change and signatures
   * are pure), so the lock is held for the lookups and writes only.
   */
  assignPending(limits: { maxReports?: number; maxMs?: number; yieldTo?: () => boolean } = {}): AssignStep {
    const maxReports = limits.maxReports ?? 200;
    const maxMs = limits.maxMs ?? 25;
    const head = this.stmt(
      "SELECT assigned_upto AS upto, coalesce((SELECT max(id) FROM reports), 0) AS latest FROM grouping_state",
    );
    let before = head.get() as { upto: number; latest: number };
    if (before.latest > before.upto && this.db.dialect === "postgres") {
      // Wait out the ingestion transactions in flight (INGEST_LOCK_KEY), then read again: ids up to
      // `latest` are final. Only when there is work: an idle worker's tick costs one read.
      this.stmt(`SELECT pg_advisory_lock(${INGEST_LOCK_KEY})`).get();
      this.stmt(`SELECT pg_advisory_unlock(${INGEST_LOCK_KEY})`).get();
      before = head.get() as { upto: number; latest: number };
    }
    if (before.latest <= before.upto)
      return { processed: 0, assigned: 0, assignedUpTo: before.upto, latestId: before.latest };
    // What an earlier step prepared and the watermark has not passed, then the next reports after it.
    const rows = this.prepared.filter((r) => r.id > before.upto);
    if (rows.length < maxReports) {
      const fresh = this.stmt(
        `SELECT r.id, r.gap_id, ${REPORT_FIELDS} FROM reports r WHERE r.id > ? AND r.id <= ? ORDER BY r.id LIMIT ?`,
      ).all(rows.at(-1)?.id ?? before.upto, before.latest, maxReports - rows.length) as PendingReport[];
      for (const r of fresh) r.signature = r.gap_id === null ? signatureOf(r) : null;
      rows.push(...fresh);
    }
    this.prepared = rows;
    if (rows.length === 0) return { processed: 0, assigned: 0, assignedUpTo: before.upto, latestId: before.latest };
    const step = this.db
      .transaction((): AssignStep => {
        const now = head.get() as { upto: number; latest: number };
        // Another grouping writer moved the watermark meanwhile: nothing done, the caller reads again.
        if (now.upto !== before.upto)
          return { processed: 0, assigned: 0, assignedUpTo: now.upto, latestId: now.latest };
        const last = rows[rows.length - 1]!.id;
        const open = new Set(
          (
            this.stmt("SELECT id FROM reports WHERE gap_id IS NULL AND id > ? AND id <= ?").all(before.upto, last) as {
              id: number;
            }[]
          ).map((r) => r.id),
        );
        const batch = this.batch();
        const place = this.stmt("UPDATE reports SET gap_id = ? WHERE id = ?");
        const started = performance.now();
        let upto = before.upto;
        let processed = 0;
        let assigned = 0;
        for (let i = 0; i < rows.length; i++) {
          if (processed > 0 && (performance.now() - started > maxMs || limits.yieldTo?.())) break;
          const row = rows[i]!;
          if (open.has(row.id)) {
            const signature = row.signature ?? signatureOf(row);
            const gapId = batch.choose(row, signature, { reportId: row.id });
            place.run(gapId, row.id);
            batch.attach(row.id, gapId, row, signature);
            assigned++;
          }
          upto = row.id;
          processed++;
        }
        batch.flush();
        this.stmt("UPDATE grouping_state SET assigned_upto = ?").run(upto);
        return { processed, assigned, assignedUpTo: upto, latestId: Math.max(now.latest, upto) };
      })
      .immediate();
    this.prepared = rows.filter((r) => r.id > step.assignedUpTo);
    return step;
  }

  history(gapId: number, actor: string, action: string, details: Record<string, unknown>): void {
    this.stmt("INSERT INTO gap_history (gap_id, at, actor, action, details) VALUES (?, ?, ?, ?, ?)").run(
      gapId,
      nowIso(),
      actor,
      action,
      JSON.stringify(details),
    );
  }

  // ---- the grouping pass --------------------------------------------------

  progress(): GroupingProgress {
    const s = this.stmt(
      `SELECT mode, done, total, started_at, updated_at, assigned_upto,
         coalesce((SELECT max(id) FROM reports), 0) AS latest_id FROM grouping_state`,
    ).get() as Omit<GroupingProgress, "unassigned" | "pending">;
    // Counted from the watermarks, not by scanning for reports without a gap: this runs on every list.
    return {
      ...s,
      unassigned: s.mode === "backfill" ? Math.max(0, s.total - s.done) : 0,
      pending: Math.max(0, s.latest_id - s.assigned_upto),
    };
  }

  /**
   * Start a full regroup: gaps no human has touched are emptied and refilled
   * report by report (each keeps its id when its first report reopens it);
   * reports a human placed, and every report of a gap a human decided on, stay
   * where they are. Runs through `step`; resumable from the watermark.
   */
  startRegroup(): GroupingProgress {
    this.db
      .transaction(() => {
        const state = this.stmt("SELECT mode FROM grouping_state").get() as { mode: string };
        if (state.mode !== "idle")
          throw new StoreError("regroup_in_progress", `A ${state.mode} pass is already running; it resumes instead.`);
        const auto = "SELECT id FROM gaps WHERE human = 0";
        this.stmt(`DELETE FROM gap_bands WHERE gap_id IN (${auto})`).run();
        this.stmt(`DELETE FROM gap_fingerprints WHERE gap_id IN (${auto})`).run();
        this.stmt(`DELETE FROM gap_facets WHERE gap_id IN (${auto})`).run();
        // Every report is counted again as the pass reaches it.
        this.stmt("DELETE FROM gap_term_df").run();
        this.stmt("DELETE FROM gap_term_df_fill").run();
        this.stmt(
          `UPDATE gaps SET profile = NULL, profile_version = profile_version + 1, reports = 0, sessions = 0, clients = 0,
             models = 0, blocked = 0, partial = 0, worked_around = 0, rank_key = NULL WHERE human = 0`,
        ).run();
        this.stmt(
          `UPDATE grouping_state SET mode = 'regroup', watermark = 0, upto = coalesce((SELECT max(id) FROM reports), 0),
             done = 0, total = (SELECT count(*) FROM reports), started_at = ?, updated_at = ?`,
        ).run(nowIso(), nowIso());
      })
      .immediate();
    return this.progress();
  }

  /** One batch of the pending pass, in its own transaction. Returns the progress after it. */
  step(batchSize = 2000): GroupingProgress {
    this.db
      .transaction(() => {
        const state = this.stmt("SELECT mode, watermark, upto FROM grouping_state").get() as {
          mode: GroupingProgress["mode"];
          watermark: number;
          upto: number;
        };
        if (state.mode === "idle") return;
        const rows = this.stmt(
          `SELECT r.id, r.gap_id, r.gap_pinned, g.human AS gap_human, (g.profile IS NULL AND g.human = 0) AS gap_reset,
             ${REPORT_FIELDS}
           FROM reports r LEFT JOIN gaps g ON g.id = r.gap_id WHERE r.id > ? AND r.id <= ? ORDER BY r.id LIMIT ?`,
        ).all(state.watermark, state.upto, batchSize) as (GroupedReport & {
          id: number;
          gap_id: number | null;
          gap_pinned: number;
          gap_human: number | null;
          gap_reset: number | null;
        })[];
        const batch = this.batch();
        const place = this.stmt("UPDATE reports SET gap_id = ? WHERE id = ?");
        for (const row of rows) {
          if (state.mode === "backfill" && row.gap_id !== null) continue;
          const stays = row.gap_id !== null && (row.gap_pinned === 1 || row.gap_human === 1);
          const signature = signatureOf(row);
          if (stays && row.gap_reset !== 1) {
            batch.countTerms(row.server_name, signature); // the regroup emptied the df counts
            continue;
          }
          const gapId = stays
            ? row.gap_id!
            : batch.choose(row, signature, { reuse: row.gap_id ?? undefined, reportId: row.id });
          batch.attach(row.id, gapId, row, signature);
          if (gapId !== row.gap_id) {
            place.run(gapId, row.id);
            if (row.gap_id !== null)
              this.history(gapId, "auto", "report_moved", { report_id: row.id, from_gap: row.gap_id, by: "regroup" });
          }
        }
        batch.flush();
        const last = rows.length > 0 ? rows[rows.length - 1]!.id : state.upto;
        const finished = rows.length < batchSize || last >= state.upto;
        if (finished) this.mergePass();
        this.stmt(
          "UPDATE grouping_state SET watermark = ?, done = done + ?, mode = ?, updated_at = ? WHERE id = 1",
        ).run(last, rows.length, finished ? "idle" : state.mode, nowIso());
      })
      .immediate();
    return this.progress();
  }

  /** Whether migration 7 left term counts to fill (see fillTermCounts). */
  termCountsPending(): boolean {
    return this.stmt("SELECT 1 FROM gap_term_df_fill").get() !== undefined;
  }

  /**
   * One batch of the term counts migration 7 left to do (signatures stored before gap_term_df
   * existed), in its own transaction, resumable from its watermark. Counts exactly what the
   * old migration 6 counted in one statement: each server's reports, and each term entry of
   * their signatures. Returns whether any remain.
   */
  fillTermCounts(batchSize = 5000): boolean {
    // Nothing to count (every database once it is done, every PostgreSQL one): no write transaction.
    if (!this.termCountsPending()) return false;
    return this.db
      .transaction(() => {
        const fill = this.stmt("SELECT watermark, upto FROM gap_term_df_fill").get() as
          | { watermark: number; upto: number }
          | undefined;
        if (!fill) return false;
        const rows = this.stmt(
          `SELECT s.report_id, r.server_name, s.signature FROM report_signatures s JOIN reports r ON r.id = s.report_id
           WHERE s.report_id > ? AND s.report_id <= ? ORDER BY s.report_id LIMIT ?`,
        ).all(fill.watermark, fill.upto, batchSize) as { report_id: number; server_name: string; signature: string }[];
        const counts = new Map<string, { server: string; term: string; n: number }>();
        const count = (server: string, term: string): void => {
          const key = `${server}\u0000${term}`;
          const c = counts.get(key);
          if (c) c.n++;
          else counts.set(key, { server, term, n: 1 });
        };
        for (const r of rows) {
          count(r.server_name, REPORTS_TERM);
          const terms = (JSON.parse(r.signature) as { terms?: unknown }).terms;
          if (Array.isArray(terms))
            for (const t of terms) if (Array.isArray(t) && typeof t[0] === "string") count(r.server_name, t[0]);
        }
        const add = this.stmt(
          "INSERT INTO gap_term_df (server_name, term, df) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET df = df + excluded.df",
        );
        for (const c of counts.values()) add.run(c.server, c.term, c.n);
        const last = rows.length > 0 ? rows[rows.length - 1]!.report_id : fill.upto;
        if (rows.length < batchSize || last >= fill.upto) {
          this.stmt("DELETE FROM gap_term_df_fill").run();
          return false;
        }
        this.stmt("UPDATE gap_term_df_fill SET watermark = ?").run(last);
        return true;
      })
      .immediate();
  }

  /** Run the pending pass to the end (or until `shouldStop`), reporting progress after each batch. */
  runPending(
    options: { batchSize?: number; onProgress?: (p: GroupingProgress) => void; shouldStop?: () => boolean } = {},
  ): GroupingProgress {
    let p = this.progress();
    while (p.mode !== "idle" && !options.shouldStop?.()) {
      p = this.step(options.batchSize);
      options.onProgress?.(p);
    }
    return p;
  }

  /**
   * The gap-gap merge pass (mergeCandidates), run when a backfill or regroup finishes: gaps on
   * one server whose average linkage clears the merge bar are merged, each merge a history
   * entry. Never for a gap a human decided on, nor for a pair a human split. Returns the
   * number of merges.
   */
  mergePass(): number {
    const kept = new Set(
      (
        this.stmt(
          "SELECT id FROM gaps WHERE human = 1 UNION SELECT gap_id FROM gap_history WHERE actor <> 'auto'",
        ).all() as { id: number }[]
      ).map((r) => r.id),
    );
    const apart = new Set(
      (this.stmt("SELECT gap_a, gap_b FROM gap_never_merge").all() as { gap_a: number; gap_b: number }[]).map(
        (r) => `${r.gap_a},${r.gap_b}`,
      ),
    );
    const mayMerge = (a: number, b: number): boolean => !kept.has(a) && !kept.has(b) && !apart.has(`${a},${b}`);
    const servers = this.stmt(
      "SELECT DISTINCT server_name FROM gaps WHERE reports > 0 AND status <> 'duplicate' AND human = 0",
    ).all() as { server_name: string }[];
    let merges = 0;
    for (const { server_name } of servers) {
      const rows = this.stmt(
        "SELECT id, profile_version FROM gaps WHERE server_name = ? AND reports > 0 AND status <> 'duplicate' AND human = 0",
      ).all(server_name) as { id: number; profile_version: number }[];
      const profiles: GapProfile[] = [];
      for (const r of rows) {
        const p = this.loadProfile(r.id, r.profile_version);
        if (p) profiles.push(p);
      }
      for (const [keep, absorb, similarity] of mergeCandidates(profiles, { mayMerge })) {
        this.absorb(absorb, keep, "auto", { similarity, by: "merge_pass" });
        merges++;
      }
    }
    return merges;
  }

  /**
   * @internal Move every report, band key, fingerprint and facet of gap `sourceId` into
   * `intoId`, merge their profiles, and leave the source an empty `duplicate` of the target.
   * A human merge marks the target decided; the merge pass leaves it automatic.
   */
  private absorb(sourceId: number, intoId: number, actor: string, details: Record<string, unknown> = {}): void {
    const source = this.requireLive(sourceId);
    const into = this.requireLive(intoId, "target gap");
    const human = actor === "auto" ? 0 : 1;
    const moved = this.stmt("UPDATE reports SET gap_id = ? WHERE gap_id = ?").run(intoId, sourceId).changes;
    this.stmt("INSERT OR IGNORE INTO gap_bands (band, gap_id) SELECT band, ? FROM gap_bands WHERE gap_id = ?").run(
      intoId,
      sourceId,
    );
    this.stmt("DELETE FROM gap_bands WHERE gap_id = ?").run(sourceId);
    this.stmt("UPDATE gap_fingerprints SET gap_id = ? WHERE gap_id = ?").run(intoId, sourceId);
    this.stmt(
      `INSERT INTO gap_facets (gap_id, kind, value, n) SELECT ?, kind, value, n FROM gap_facets WHERE gap_id = ? AND true
       ON CONFLICT (gap_id, kind, value) DO UPDATE SET n = gap_facets.n + excluded.n`,
    ).run(intoId, sourceId);
    this.stmt("DELETE FROM gap_facets WHERE gap_id = ?").run(sourceId);
    const a = this.loadProfile(intoId, into.profile_version);
    const b = this.loadProfile(sourceId, source.profile_version);
    const profile = a && b ? { ...mergeProfiles(a, b), id: intoId } : (a ?? (b ? { ...b, id: intoId } : null));
    this.writeProfile(intoId, into.profile_version, profile);
    // The emptied source is marked decided either way, so a regroup never refills a duplicate.
    this.stmt(
      `UPDATE gaps SET status = 'duplicate', duplicate_of = ?, human = 1, reports = 0, sessions = 0, clients = 0,
         models = 0, blocked = 0, partial = 0, worked_around = 0, rank_key = NULL, profile = NULL,
         profile_version = profile_version + 1, updated_at = ? WHERE id = ?`,
    ).run(intoId, nowIso(), sourceId);
    this.stmt("UPDATE gaps SET duplicate_of = ? WHERE duplicate_of = ?").run(intoId, sourceId);
    if (human === 1) this.stmt("UPDATE gaps SET human = 1 WHERE id = ?").run(intoId);
    this.recount(intoId);
    if (human === 0 && into.title_source === "medoid") this.refreshTitle(intoId);
    this.history(sourceId, actor, "merged_into", { into: intoId, reports: moved, ...details });
    this.history(intoId, actor, "merged_from", { from: sourceId, reports: moved, ...details });
  }

  // ---- reading ------------------------------------------------------------

  getGap(id: number): Gap | undefined {
    const row = this.gapRow(id);
    if (!row) return undefined;
    const gap = toGap(row);
    gap.analysis = this.analyses.get(id, row.reports);
    gap.issue = this.issues.get(id);
    return gap;
  }

  listGaps(filter: GapFilter, page: GapPage = {}): { items: Gap[]; nextCursor: string | null } {
    const sort = page.sort ?? "score";
    const limit = Math.min(Math.max(page.limit ?? GAP_DEFAULT_LIMIT, 1), GAP_MAX_LIMIT);
    const column = SORT_COLUMN[sort];
    const clauses: string[] = [];
    const params: unknown[] = [];
    // Emptied gaps (merged away, or refilling during a regroup) are listed only when asked for by status.
    if (filter.status === undefined) clauses.push("reports > 0");
    else {
      clauses.push("status = ?");
      params.push(filter.status);
    }
    if (sort === "score") clauses.push("rank_key IS NOT NULL");
    if (filter.server_name !== undefined) {
      clauses.push("server_name = ?");
      params.push(filter.server_name);
    }
    if (filter.tool_name !== undefined) {
      clauses.push("EXISTS (SELECT 1 FROM gap_facets f WHERE f.gap_id = gaps.id AND f.kind = 't' AND f.value = ?)");
      params.push(filter.tool_name);
    }
    if (filter.gap_type !== undefined) {
      clauses.push("EXISTS (SELECT 1 FROM gap_facets f WHERE f.gap_id = gaps.id AND f.kind = 'y' AND f.value = ?)");
      params.push(filter.gap_type);
    }
    if (filter.since !== undefined) {
      clauses.push("last_seen >= ?");
      params.push(filter.since);
    }
    if (filter.until !== undefined) {
      clauses.push("first_seen < ?");
      params.push(filter.until);
    }
    for (const word of filter.q?.match(/[\p{L}\p{N}_]+/gu) ?? []) {
      clauses.push("title LIKE ? ESCAPE '\\'");
      params.push(`%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
    if (page.cursor !== undefined) {
      const c = decodeGapCursor(page.cursor);
      if (!c || typeof c[0] !== (sort === "last_seen" ? "string" : "number"))
        throw new StoreError("invalid_cursor", "cursor is not one this server issued for this sort");
      clauses.push(`(${column} < ? OR (${column} = ? AND id < ?))`);
      params.push(c[0], c[0], c[1]);
    }
    const rows = (
      this.stmt(
        `SELECT ${GAP_COLUMNS} FROM gaps WHERE ${clauses.join(" AND ")} ORDER BY ${column} DESC, id DESC LIMIT ?`,
      )
        .raw(true)
        .all(...params, limit + 1) as unknown[][]
    ).map(gapRowOf);
    const now = Date.now();
    const items = rows.slice(0, limit).map((r) => toGap(r, now));
    const analyses = this.analyses.forGaps(items);
    const issues = this.issues.forGaps(items.map((g) => g.id));
    for (const g of items) {
      g.analysis = analyses.get(g.id) ?? null;
      g.issue = issues.get(g.id) ?? null;
    }
    const lastRow = rows.length > limit ? rows[limit - 1]! : undefined;
    const nextCursor = lastRow
      ? encodeGapCursor((lastRow as unknown as Record<string, number | string>)[column]!, lastRow.id)
      : null;
    return { items, nextCursor };
  }

  /**
   * A stamp that moves whenever anything is committed to the database: rows this
   * connection changed (total_changes) and commits by any other connection, such
   * as the grouping worker's or another process's (data_version). Read caches key
   * on it; a change that is rolled back may move it too, which only costs a miss.
   */
  private stampStatements?: [Database.Statement, Database.Statement];

  changeStamp(): string {
    const sqlite = this.db.sqlite;
    if (!sqlite) {
      // PostgreSQL: the WAL insert position moves with every commit of every session (a commit in
      // another database of the cluster moves it too, which only costs a miss).
      return (this.stmt("SELECT pg_current_wal_lsn()::text AS lsn").get() as { lsn: string }).lsn;
    }
    this.stampStatements ??= [
      sqlite.prepare("PRAGMA data_version").pluck(true),
      sqlite.prepare("SELECT total_changes()").pluck(true),
    ];
    return `${this.stampStatements[0].get() as number}:${this.stampStatements[1].get() as number}`;
  }

  /** Gaps that hold at least one report. */
  countGaps(): number {
    return (this.stmt("SELECT count(*) AS n FROM gaps WHERE reports > 0").get() as { n: number }).n;
  }

  listHistory(gapId: number, limit = 200): GapHistoryEntry[] {
    const rows = this.stmt(
      "SELECT id, gap_id, at, actor, action, details FROM gap_history WHERE gap_id = ? ORDER BY id DESC LIMIT ?",
    ).all(gapId, limit) as (Omit<GapHistoryEntry, "details"> & { details: string })[];
    return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
  }

  /** Reports per UTC day over the last `days` days, zero-filled, oldest first. */
  timeline(gapId: number, days = 30): { day: string; count: number }[] {
    const today = new Date();
    const start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (days - 1)));
    const rows = this.stmt(
      "SELECT substr(created_at, 1, 10) AS day, count(*) AS count FROM reports WHERE gap_id = ? AND created_at >= ? GROUP BY day",
    ).all(gapId, start.toISOString()) as { day: string; count: number }[];
    const byDay = new Map(rows.map((r) => [r.day, r.count]));
    return Array.from({ length: days }, (_, i) => {
      const day = new Date(start.getTime() + i * 86_400_000).toISOString().slice(0, 10);
      return { day, count: byDay.get(day) ?? 0 };
    });
  }

  facets(gapId: number, kind: "t" | "c" | "m" | "s" | "y", limit = 50): { value: string; count: number }[] {
    return this.stmt(
      "SELECT value, n AS count FROM gap_facets WHERE gap_id = ? AND kind = ? ORDER BY n DESC, value LIMIT ?",
    ).all(gapId, kind, limit) as { value: string; count: number }[];
  }

  suggestions(gapId: number, limit = 5): { text: string; count: number }[] {
    const rows = this.stmt(
      "SELECT id, suggestion FROM reports WHERE gap_id = ? AND suggestion IS NOT NULL ORDER BY id DESC LIMIT ?",
    ).all(gapId, SUGGESTION_SAMPLE) as { id: number; suggestion: string }[];
    return topSuggestions(rows, limit).map(({ text, count }) => ({ text, count }));
  }

  /** The newest notes on the gap's reports. */
  notesOf(gapId: number, limit = 50): Note[] {
    return this.stmt(
      `SELECT n.* FROM notes n JOIN reports r ON r.id = n.report_id WHERE r.gap_id = ? ORDER BY n.id DESC LIMIT ?`,
    ).all(gapId, limit) as Note[];
  }

  /** The newest draft PRs made from the gap, or from one of its reports. */
  draftsOf(gapId: number, limit = 50): Draft[] {
    const rows = this.stmt(
      `SELECT d.* FROM drafts d WHERE d.gap_id = ? OR d.report_id IN (SELECT id FROM reports WHERE gap_id = ?)
       ORDER BY d.id DESC LIMIT ?`,
    ).all(gapId, gapId, limit) as (Omit<Draft, "files"> & { files: string })[];
    return rows.map((d) => ({ ...d, files: JSON.parse(d.files) as string[] }));
  }

  resolutionMix(gapId: number): { blocked: number; partial: number; worked_around: number; unspecified: number } {
    const g = this.gapRow(gapId);
    if (!g) return { blocked: 0, partial: 0, worked_around: 0, unspecified: 0 };
    return {
      blocked: g.blocked,
      partial: g.partial,
      worked_around: g.worked_around,
      unspecified: g.reports - g.blocked - g.partial - g.worked_around,
    };
  }

  // ---- human decisions ----------------------------------------------------

  private requireGap(id: number, what = "gap"): GapRow {
    const row = this.gapRow(id);
    if (!row) throw new StoreError("gap_not_found", `There is no ${what} ${id}.`);
    return row;
  }

  private requireLive(id: number, what = "gap"): GapRow {
    const row = this.requireGap(id, what);
    if (row.status === "duplicate")
      throw new StoreError(
        "gap_merged",
        `Gap ${id} was merged into gap ${row.duplicate_of}; act on gap ${row.duplicate_of} instead.`,
      );
    return row;
  }

  updateGap(id: number, change: GapChange, actor: string): Gap {
    this.db
      .transaction(() => {
        const before = this.requireLive(id);
        const set: Record<string, unknown> = {};
        if (change.status !== undefined && change.status !== before.status) {
          set.status = change.status;
          // A decision settles the flags the automatic pass raised.
          set.regressed = change.status === "open" ? before.regressed : 0;
          set.needs_review = 0;
        }
        if (change.fixed_in !== undefined && change.fixed_in !== before.fixed_in) {
          if (change.fixed_in !== null && !parseVersion(change.fixed_in))
            throw new StoreError(
              "invalid_version",
              `fixed_in "${change.fixed_in}" is not a version (use semver such as 1.4.0, v2.1 or 1.4.0-rc.1).`,
            );
          set.fixed_in = change.fixed_in;
        }
        if (change.title !== undefined && change.title !== before.title) {
          set.title = titleOf(change.title);
          set.title_source = "human";
        }
        if (change.agent_note !== undefined && change.agent_note !== before.agent_note) {
          if (change.agent_note !== null && change.agent_note.length > AGENT_NOTE_MAX)
            throw new StoreError("invalid_agent_note", `agent_note must be at most ${AGENT_NOTE_MAX} characters.`);
          set.agent_note = change.agent_note;
        }
        const keys = Object.keys(set);
        if (keys.length === 0) return;
        this.stmt(
          `UPDATE gaps SET ${keys.map((k) => `${k} = @${k}`).join(", ")}, human = 1, updated_at = @updated_at WHERE id = @id`,
        ).run({ ...set, updated_at: nowIso(), id });
        const from: Record<string, unknown> = {};
        for (const k of keys) from[k] = (before as unknown as Record<string, unknown>)[k];
        this.history(id, actor, "updated", { from, to: set });
      })
      .immediate();
    this.forgetEchoable();
    return this.getGap(id)!;
  }

  mergeGaps(sourceId: number, intoId: number, actor: string): Gap {
    this.db
      .transaction(() => {
        if (sourceId === intoId)
          throw new StoreError("merge_into_itself", `Gap ${sourceId} cannot be merged into itself.`);
        const source = this.requireLive(sourceId);
        const into = this.requireLive(intoId, "target gap");
        if (source.server_name !== into.server_name)
          throw new StoreError(
            "merge_across_servers",
            `Gap ${sourceId} is on server "${source.server_name}" and gap ${intoId} on "${into.server_name}": gaps on different servers cannot be merged.`,
          );
        this.absorb(sourceId, intoId, actor);
      })
      .immediate();
    this.forgetEchoable();
    return this.getGap(intoId)!;
  }

  /** Move some of a gap's reports into a new gap; the two are never merged again automatically. */
  splitGap(gapId: number, reportIds: number[], actor: string): { from: Gap; to: Gap } {
    const ids = [...new Set(reportIds)];
    if (ids.length === 0) throw new StoreError("invalid_report_ids", "report_ids must name at least one report.");
    if (ids.length > SPLIT_MAX)
      throw new StoreError("too_many_reports", `A split takes at most ${SPLIT_MAX} report ids (got ${ids.length}).`);
    let newId = 0;
    this.db
      .transaction(() => {
        const gap = this.requireLive(gapId);
        const inGap = this.stmt("SELECT gap_id FROM reports WHERE id = ?");
        const outside = ids.filter((id) => (inGap.get(id) as { gap_id: number | null } | undefined)?.gap_id !== gapId);
        if (outside.length > 0)
          throw new StoreError(
            "reports_not_in_gap",
            `Report${outside.length === 1 ? "" : "s"} ${outside.slice(0, 20).join(", ")}${outside.length > 20 ? ", …" : ""} ${outside.length === 1 ? "is" : "are"} not in gap ${gapId}.`,
          );
        if (ids.length >= gap.reports)
          throw new StoreError(
            "split_leaves_gap_empty",
            `Splitting every report out of gap ${gapId} would leave it empty; leave at least one report behind.`,
          );
        const first = this.stmt("SELECT what_i_needed, created_at FROM reports WHERE id = ?").get(Math.min(...ids)) as {
          what_i_needed: string;
          created_at: string;
        };
        newId = this.createGap(gap.server_name, first.what_i_needed, first.created_at, 1);
        const move = this.stmt("UPDATE reports SET gap_id = ?, gap_pinned = 1 WHERE id = ?");
        for (const id of ids) move.run(newId, id);
        this.stmt("UPDATE gaps SET human = 1 WHERE id = ?").run(gapId);
        this.stmt("INSERT OR IGNORE INTO gap_never_merge (gap_a, gap_b, created_at) VALUES (?, ?, ?)").run(
          Math.min(gapId, newId),
          Math.max(gapId, newId),
          nowIso(),
        );
        this.rebuild(gapId);
        this.rebuild(newId);
        this.history(gapId, actor, "split", { to: newId, report_ids: ids });
        this.history(newId, actor, "split_from", { from: gapId, report_ids: ids });
      })
      .immediate();
    this.forgetEchoable();
    return { from: this.getGap(gapId)!, to: this.getGap(newId)! };
  }

  /** Put one report in another gap (pinned: the automatic pass never moves it again). */
  moveReport(reportId: number, gapId: number, actor: string): Gap {
    this.db
      .transaction(() => {
        const report = this.stmt("SELECT id, gap_id, server_name FROM reports WHERE id = ?").get(reportId) as
          | { id: number; gap_id: number | null; server_name: string }
          | undefined;
        if (!report) throw new StoreError("report_not_found", `There is no report ${reportId}.`);
        const target = this.requireLive(gapId);
        if (target.server_name !== report.server_name)
          throw new StoreError(
            "move_across_servers",
            `Report ${reportId} is about server "${report.server_name}" and gap ${gapId} is on "${target.server_name}": a report stays on its server.`,
          );
        this.stmt("UPDATE reports SET gap_id = ?, gap_pinned = 1 WHERE id = ?").run(gapId, reportId);
        this.stmt("UPDATE gaps SET human = 1 WHERE id = ?").run(gapId);
        if (report.gap_id === gapId) return;
        if (report.gap_id !== null) {
          this.rebuild(report.gap_id);
          this.history(report.gap_id, actor, "report_moved_out", { report_id: reportId, to_gap: gapId });
        }
        this.rebuild(gapId);
        this.history(gapId, actor, "report_moved_in", { report_id: reportId, from_gap: report.gap_id });
      })
      .immediate();
    this.forgetEchoable();
    return this.getGap(gapId)!;
  }

  // ---- internals shared with AssignBatch ----------------------------------

  /** @internal Insert an empty gap row; returns its id. */
  createGap(serverName: string, need: string, createdAt: string, human: 0 | 1): number {
    const at = nowIso();
    const info = this.stmt(
      `INSERT INTO gaps (server_name, title, human, first_seen, last_seen, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(serverName, titleOf(need), human, createdAt, createdAt, at, at);
    return Number(info.lastInsertRowid);
  }

  /**
   * @internal The most common tool_name among the gap's reports, as agents wrote it (the
   * profile counts normalised names, `listinvoices` for `list_invoices`); null when most named none.
   */
  topTool(id: number): string | null {
    const row = this.stmt(
      "SELECT value FROM gap_facets WHERE gap_id = ? AND kind = 't' ORDER BY n DESC, value LIMIT 1",
    ).get(id) as { value: string } | undefined;
    return row === undefined || row.value === "" ? null : row.value;
  }

  /** @internal */
  writeProfile(id: number, version: number, profile: GapProfile | null): void {
    this.stmt("UPDATE gaps SET profile = ?, profile_version = ? WHERE id = ?").run(
      profile ? JSON.stringify(profile) : null,
      version + 1,
      id,
    );
    this.rememberProfile(id, version + 1, profile);
  }

  /** @internal Recompute cached counts, rank, top tool and type from the reports and facets. */
  recount(id: number, profile?: GapProfile | null): void {
    const c = this.stmt(
      `SELECT count(*) AS reports, count(*) FILTER (WHERE resolution = 'blocked') AS blocked,
         count(*) FILTER (WHERE resolution = 'partial') AS partial,
         count(*) FILTER (WHERE resolution = 'worked_around') AS worked_around,
         count(*) FILTER (WHERE session_id IS NULL) AS anonymous, min(created_at) AS first_seen, max(created_at) AS last_seen
       FROM reports WHERE gap_id = ?`,
    ).get(id) as {
      reports: number;
      blocked: number;
      partial: number;
      worked_around: number;
      anonymous: number;
      first_seen: string | null;
      last_seen: string | null;
    };
    const distinct = new Map(
      (
        this.stmt(
          "SELECT kind, count(*) AS n FROM gap_facets WHERE gap_id = ? AND kind IN ('s', 'c', 'm') GROUP BY kind",
        ).all(id) as { kind: string; n: number }[]
      ).map((r) => [r.kind, r.n]),
    );
    const row = this.gapRow(id)!;
    const p = profile === undefined ? this.loadProfile(id, row.profile_version) : profile;
    const counts = {
      reports: c.reports,
      sessions: (distinct.get("s") ?? 0) + c.anonymous,
      clients: distinct.get("c") ?? 0,
      models: distinct.get("m") ?? 0,
      blocked: c.blocked,
    };
    const last_seen = c.last_seen ?? row.last_seen;
    this.stmt(
      `UPDATE gaps SET reports = @reports, sessions = @sessions, clients = @clients, models = @models, blocked = @blocked,
         partial = @partial, worked_around = @worked_around, first_seen = @first_seen, last_seen = @last_seen,
         rank_key = @rank_key, top_tool = @top_tool, top_gap_type = @top_gap_type, updated_at = @updated_at WHERE id = @id`,
    ).run({
      ...counts,
      partial: c.partial,
      worked_around: c.worked_around,
      first_seen: c.first_seen ?? row.first_seen,
      last_seen,
      rank_key: rankKey(counts, last_seen),
      top_tool: this.topTool(id),
      top_gap_type: dominant(p?.gap_types),
      updated_at: nowIso(),
      id,
    });
  }

  /** @internal Rebuild a gap's profile, bands, fingerprints, facets, counts and title from its members. */
  rebuild(id: number): void {
    const row = this.gapRow(id)!;
    this.stmt("DELETE FROM gap_bands WHERE gap_id = ?").run(id);
    this.stmt("DELETE FROM gap_facets WHERE gap_id = ?").run(id);
    const addBand = this.stmt("INSERT OR IGNORE INTO gap_bands (band, gap_id) VALUES (?, ?)");
    const addFp = this.stmt(
      "INSERT INTO gap_fingerprints (server_name, fingerprint, gap_id) VALUES (?, ?, ?) ON CONFLICT (server_name, fingerprint) DO UPDATE SET gap_id = excluded.gap_id",
    );
    const members = this.stmt(
      `SELECT r.id, s.signature, ${REPORT_FIELDS} FROM reports r LEFT JOIN report_signatures s ON s.report_id = r.id
       WHERE r.gap_id = ? AND r.id > ? ORDER BY r.id LIMIT 5000`,
    );
    let profile: GapProfile | null = null;
    let after = 0;
    for (;;) {
      const rows = members.all(id, after) as (GroupedReport & { id: number; signature: string | null })[];
      for (const r of rows) {
        const signature = r.signature ? (JSON.parse(r.signature) as ReportSignature) : signatureOf(r);
        profile = addToProfile(profile, id, r, signature);
        for (const band of signature.bands) addBand.run(this.bandKey(r.server_name, band), id);
        addFp.run(r.server_name, signature.fingerprint, id);
      }
      if (rows.length < 5000) break;
      after = rows[rows.length - 1]!.id;
    }
    for (const [kind, column] of [
      ["s", "session_id"],
      ["c", "client_type"],
      ["m", "agent_model"],
      ["y", "gap_type"],
    ] as const) {
      this.stmt(
        `INSERT INTO gap_facets (gap_id, kind, value, n) SELECT ?, '${kind}', ${column}, count(*) FROM reports
         WHERE gap_id = ? AND ${column} IS NOT NULL GROUP BY ${column}`,
      ).run(id, id);
    }
    this.stmt(
      `INSERT INTO gap_facets (gap_id, kind, value, n) SELECT ?, 't', coalesce(tool_name, ''), count(*) FROM reports
       WHERE gap_id = ? GROUP BY coalesce(tool_name, '')`,
    ).run(id, id);
    this.writeProfile(id, row.profile_version, profile);
    this.recount(id, profile);
    if (row.title_source === "medoid") this.refreshTitle(id);
  }

  /** @internal The analysis title becomes the gap's title, unless a human renamed the gap. */
  retitleFromAnalysis(id: number, title: string, actor: string, model: string): void {
    const t = titleOf(title);
    const changed = this.stmt(
      "UPDATE gaps SET title = ?, title_source = 'llm', title_report_id = NULL WHERE id = ? AND title_source <> 'human' AND (title <> ? OR title_source <> 'llm')",
    ).run(t, id, t).changes;
    if (changed === 1) this.history(id, actor, "retitled", { source: "llm", model });
  }

  /** @internal The title becomes the medoid of the newest members' what_i_needed. */
  refreshTitle(id: number): void {
    const rows = this.stmt(
      `SELECT r.id, r.what_i_needed, s.signature FROM reports r JOIN report_signatures s ON s.report_id = r.id
       WHERE r.gap_id = ? ORDER BY r.id DESC LIMIT ${MEDOID_SAMPLE}`,
    ).all(id) as { id: number; what_i_needed: string; signature: string }[];
    const pick = medoid(rows.map((r) => ({ id: r.id, terms: (JSON.parse(r.signature) as ReportSignature).terms })));
    const chosen = rows.find((r) => r.id === pick);
    if (!chosen) return;
    const title = titleOf(chosen.what_i_needed);
    const changed = this.stmt(
      "UPDATE gaps SET title = ?, title_report_id = ? WHERE id = ? AND title_source = 'medoid' AND title <> ?",
    ).run(title, chosen.id, id, title).changes;
    if (changed === 1) this.history(id, "auto", "retitled", { report_id: chosen.id, members_sampled: rows.length });
  }
}

/**
 * Assignment work for one transaction. `choose` picks (or opens) the gap for a
 * report; `attach` records the report in it; `flush` writes every touched gap
 * row once, so a batch of reports joining one gap costs one gap write.
 */
export class AssignBatch {
  private readonly working = new Map<number, Working>();
  /** Facet counts to add at flush, by gap, kind and value. */
  private readonly facetDeltas = new Map<string, { gapId: number; kind: string; value: string; n: number }>();
  /** Band and fingerprint rows already written in this batch. */
  private readonly bands = new Set<string>();
  private readonly fingerprints = new Map<string, number>();
  /** Term document frequencies read in this batch (server \0 term -> df, this batch's counts included). */
  private readonly df = new Map<string, number>();
  /** df increments to write at flush. */
  private readonly dfDelta = new Map<string, { server: string; term: string; n: number }>();

  constructor(
    private readonly gaps: GapStore,
    private readonly stmt: Stmt,
    private readonly actor: string,
  ) {}

  private work(id: number): Working {
    let w = this.working.get(id);
    if (!w) {
      const row = this.gaps.gapRow(id);
      if (!row) throw new StoreError("gap_not_found", `There is no gap ${id}.`);
      w = { row, profile: this.gaps.loadProfile(id, row.profile_version), sizeBefore: row.reports, dirty: false };
      this.working.set(id, w);
    }
    return w;
  }

  /**
   * `head VALUES (…), (…) tail` for `rows`, in chunks of at most ROWS_PER_STATEMENT (both
   * databases cap a statement's parameters); the rows any RETURNING gave back, in no set order.
   */
  private rows(head: string, rows: unknown[][], tail: string): unknown[] {
    const out: unknown[] = [];
    for (let from = 0; from < rows.length; from += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(from, from + ROWS_PER_STATEMENT);
      const sql = `${head} ${valuesList(chunk[0]!.length, chunk.length)} ${tail}`;
      const stmt = this.stmt(sql);
      const params = chunk.flat();
      if (/\bRETURNING\b/.test(tail)) out.push(...stmt.all(...params));
      else stmt.run(...params);
    }
    return out;
  }

  /** The gap a report joins: same fingerprint joins outright, otherwise the engine chooses among band candidates. */
  choose(
    report: GroupedReport,
    signature: ReportSignature,
    options: { reuse?: number; reportId?: number } = {},
  ): number {
    const fpKey = `${report.server_name}\u0000${signature.fingerprint}`;
    const known =
      this.fingerprints.get(fpKey) ??
      (
        this.stmt("SELECT gap_id FROM gap_fingerprints WHERE server_name = ? AND fingerprint = ?").get(
          report.server_name,
          signature.fingerprint,
        ) as { gap_id: number } | undefined
      )?.gap_id;
    if (known !== undefined && this.isOpenTo(known, report.server_name)) {
      this.fingerprints.set(fpKey, known);
      return known;
    }
    const candidates: GapProfile[] = [];
    if (signature.bands.length > 0) {
      const perBand = `SELECT gap_id FROM (SELECT gap_id FROM gap_bands WHERE band = ? ORDER BY gap_id DESC LIMIT ${BAND_FANOUT}) AS per_band`;
      const ids = this.stmt(
        `SELECT gap_id FROM (${signature.bands.map(() => perBand).join(" UNION ALL ")}) AS bands
         GROUP BY gap_id ORDER BY count(*) DESC, gap_id LIMIT ${MAX_CANDIDATES}`,
      ).all(...signature.bands.map((b) => this.gaps.bandKey(report.server_name, b))) as { gap_id: number }[];
      for (const { gap_id } of ids) {
        const w = this.work(gap_id);
        if (w.profile && w.row.status !== "duplicate" && w.row.server_name === report.server_name)
          candidates.push(w.profile);
      }
    }
    const choice = chooseGap(report, signature, candidates, { stats: this.termStats(report.server_name, signature) });
    if (choice.kind === "join" && candidates.some((c) => c.id === choice.gapId)) return choice.gapId;
    // A regroup reopens the report's previous gap when nothing took it yet, so gap ids survive a regroup.
    if (options.reuse !== undefined) {
      const w = this.work(options.reuse);
      if (w.row.human === 0 && w.profile === null && w.row.server_name === report.server_name) return options.reuse;
    }
    const id = this.gaps.createGap(report.server_name, report.what_i_needed, report.created_at, 0);
    this.gaps.history(id, this.actor, "created", {
      ...(options.reportId !== undefined ? { report_id: options.reportId } : {}),
    });
    return id;
  }

  /**
   * The server's df of the report's terms (query-side IDF): one indexed IN read of the terms
   * this batch has not read yet (at most MAX_TERMS + 1 keys), counts made in this batch included.
   */
  private termStats(server: string, signature: ReportSignature): ServerTermStats {
    const keyOf = (term: string) => `${server}\u0000${term}`;
    const missing = [REPORTS_TERM, ...signature.terms.map(([t]) => t)].filter((t) => !this.df.has(keyOf(t)));
    if (missing.length > 0) {
      const rows = this.stmt(
        `SELECT term, df FROM gap_term_df WHERE server_name = ? AND term IN (${missing.map(() => "?").join(", ")})`,
      ).all(server, ...missing) as { term: string; df: number }[];
      for (const t of missing) this.df.set(keyOf(t), 0);
      for (const r of rows) this.df.set(keyOf(r.term), r.df);
    }
    const df = new Map<string, number>();
    for (const [t] of signature.terms) {
      const n = this.df.get(keyOf(t))!;
      if (n > 0) df.set(t, n);
    }
    return { reports: this.df.get(keyOf(REPORTS_TERM))!, df };
  }

  /** Count a grouped report in its server's df (after choosing, so a report never counts towards its own IDF). */
  countTerms(server: string, signature: ReportSignature): void {
    for (const term of [REPORTS_TERM, ...signature.terms.map(([t]) => t)]) {
      const key = `${server}\u0000${term}`;
      const known = this.df.get(key);
      if (known !== undefined) this.df.set(key, known + 1);
      const d = this.dfDelta.get(key);
      if (d) d.n++;
      else this.dfDelta.set(key, { server, term, n: 1 });
    }
  }

  private isOpenTo(gapId: number, serverName: string): boolean {
    const w = this.work(gapId);
    return w.row.server_name === serverName && w.row.status !== "duplicate";
  }

  private facet(gapId: number, kind: "s" | "c" | "m" | "t" | "y", value: string | null): void {
    if (value === null) return;
    const key = `${gapId}\u0000${kind}\u0000${value}`;
    const f = this.facetDeltas.get(key);
    if (f) f.n++;
    else this.facetDeltas.set(key, { gapId, kind, value, n: 1 });
  }

  /** Record report `reportId` (already stored with this gap_id) in the gap: profile, bands, facets, counts, regression. */
  attach(reportId: number, gapId: number, report: GroupedReport, signature: ReportSignature): void {
    const w = this.work(gapId);
    const row = w.row;
    this.stmt(
      "INSERT INTO report_signatures (report_id, signature) VALUES (?, ?) ON CONFLICT (report_id) DO UPDATE SET signature = excluded.signature",
    ).run(reportId, JSON.stringify(signature));
    w.profile = addToProfile(w.profile, gapId, report, signature);
    w.dirty = true;
    this.countTerms(report.server_name, signature);
    // Bands are written at once (a later report in this batch must find this gap), each pair once
    // per batch, in one statement (a round trip per band is most of the cost on PostgreSQL).
    const newBands: unknown[][] = [];
    for (const band of signature.bands) {
      const key = `${gapId}\u0000${band}`;
      if (this.bands.has(key)) continue;
      this.bands.add(key);
      newBands.push([this.gaps.bandKey(report.server_name, band), gapId]);
    }
    this.rows("INSERT OR IGNORE INTO gap_bands (band, gap_id) VALUES", newBands, "");
    const fpKey = `${report.server_name}\u0000${signature.fingerprint}`;
    if (this.fingerprints.get(fpKey) !== gapId) {
      this.stmt(
        "INSERT INTO gap_fingerprints (server_name, fingerprint, gap_id) VALUES (?, ?, ?) ON CONFLICT (server_name, fingerprint) DO UPDATE SET gap_id = excluded.gap_id",
      ).run(report.server_name, signature.fingerprint, gapId);
      this.fingerprints.set(fpKey, gapId);
    }
    // Distinct sessions, clients and models are counted at flush, from one upsert per distinct value.
    if (report.session_id === null) row.sessions++;
    this.facet(gapId, "s", report.session_id);
    this.facet(gapId, "c", report.client_type);
    this.facet(gapId, "m", report.agent_model);
    this.facet(gapId, "t", report.tool_name ?? "");
    this.facet(gapId, "y", report.gap_type);
    row.reports++;
    if (report.resolution === "blocked") row.blocked++;
    else if (report.resolution === "partial") row.partial++;
    else if (report.resolution === "worked_around") row.worked_around++;
    if (row.reports === 1 || report.created_at < row.first_seen) row.first_seen = report.created_at;
    if (row.reports === 1 || report.created_at > row.last_seen) row.last_seen = report.created_at;

    if (row.status === "fixed" && row.fixed_in !== null) {
      const back = report.server_version === null ? undefined : isAtOrAbove(report.server_version, row.fixed_in);
      if (back === true) {
        row.status = "open";
        row.regressed = 1;
        row.needs_review = 0;
        this.gaps.history(gapId, "auto", "regressed", {
          report_id: reportId,
          server_version: report.server_version,
          fixed_in: row.fixed_in,
        });
      } else if (back === undefined && row.needs_review === 0) {
        row.needs_review = 1;
        this.gaps.history(gapId, "auto", "needs_review", {
          report_id: reportId,
          reason:
            report.server_version === null
              ? "a report without server_version arrived after the gap was fixed"
              : `server_version "${report.server_version}" is not a comparable version`,
          fixed_in: row.fixed_in,
        });
      }
    }
  }

  /** Write every touched gap; returns the echo for each (undefined when nothing is echoed). */
  flush(): Map<number, GapEcho | undefined> {
    const echoes = new Map<number, GapEcho | undefined>();
    const write = this.stmt(
      `UPDATE gaps SET status = @status, regressed = @regressed, needs_review = @needs_review, reports = @reports,
         sessions = @sessions, clients = @clients, models = @models, blocked = @blocked, partial = @partial,
         worked_around = @worked_around, first_seen = @first_seen, last_seen = @last_seen, rank_key = @rank_key,
         top_tool = @top_tool, top_gap_type = @top_gap_type, updated_at = @updated_at, profile = @profile,
         profile_version = @profile_version WHERE id = @id`,
    );
    // Facet and df deltas go in multi-row upserts (each key once per batch, so no row is hit twice).
    const totals = this.rows(
      "INSERT INTO gap_facets (gap_id, kind, value, n) VALUES",
      [...this.facetDeltas.values()].map((f) => [f.gapId, f.kind, f.value, f.n]),
      "ON CONFLICT (gap_id, kind, value) DO UPDATE SET n = gap_facets.n + excluded.n RETURNING gap_id, kind, value, n",
    ) as { gap_id: number; kind: string; value: string; n: number }[];
    for (const t of totals) {
      const f = this.facetDeltas.get(`${t.gap_id}\u0000${t.kind}\u0000${t.value}`)!;
      if (t.n !== f.n) continue; // the value was already counted for this gap
      const row = this.working.get(f.gapId)!.row;
      if (f.kind === "s") row.sessions++;
      else if (f.kind === "c") row.clients++;
      else if (f.kind === "m") row.models++;
    }
    this.facetDeltas.clear();
    this.rows(
      "INSERT INTO gap_term_df (server_name, term, df) VALUES",
      [...this.dfDelta.values()].map((d) => [d.server, d.term, d.n]),
      "ON CONFLICT (server_name, term) DO UPDATE SET df = gap_term_df.df + excluded.df",
    );
    this.dfDelta.clear();
    const at = nowIso();
    for (const [id, w] of this.working) {
      if (!w.dirty) continue;
      const r = w.row;
      const version = r.profile_version + 1;
      write.run({
        id,
        status: r.status,
        regressed: r.regressed,
        needs_review: r.needs_review,
        reports: r.reports,
        sessions: r.sessions,
        clients: r.clients,
        models: r.models,
        blocked: r.blocked,
        partial: r.partial,
        worked_around: r.worked_around,
        first_seen: r.first_seen,
        last_seen: r.last_seen,
        rank_key: rankKey(r, r.last_seen),
        top_tool: this.gaps.topTool(id),
        top_gap_type: dominant(w.profile?.gap_types),
        updated_at: at,
        profile: w.profile ? JSON.stringify(w.profile) : null,
        profile_version: version,
      });
      this.gaps.rememberProfile(id, version, w.profile);
      r.profile_version = version;
      if (r.title_source === "medoid" && crossedPowerOfTwo(w.sizeBefore, r.reports)) this.gaps.refreshTitle(id);
      w.sizeBefore = r.reports;
      w.dirty = false;
      echoes.set(id, echoOf(r));
    }
    return echoes;
  }

  /** The result for a stored report given the echoes `flush` returned. */
  static result(id: number, gapId: number, echoes: Map<number, GapEcho | undefined>): InsertResult {
    const gap = echoes.get(gapId);
    return gap ? { id, created: true, gap_id: gapId, gap } : { id, created: true, gap_id: gapId };
  }
}
