/**
 * The durable store: one connection per process, on SQLite (better-sqlite3, WAL mode, the
 * embedded default) or PostgreSQL (node-postgres; `--db postgres://…`), with versioned
 * migrations per dialect. All methods are synchronous (src/store/sql/db.ts says why).
 */
import Database from "better-sqlite3";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import {
  FILTERABLE_FIELDS,
  REPORT_FIELD_NAMES,
  REPORT_FIELDS,
  SEARCHABLE_FIELDS,
  type FeedbackPayload,
  type Redaction,
} from "../feedback/index.js";
import { decodeCursor, DEFAULT_LIMIT, encodeCursor, MAX_LIMIT, toFtsQuery, toTsQuery } from "./filters.js";
import type { ReportFilter, ReportStatus } from "./filters.js";
import { forgetKeyPresence } from "./auth-store.js";
import { migrate } from "./migrations.js";
import { migratePg } from "./migrations-pg.js";
import { displayLocation, isPostgresUrl, type SqlDb, sqliteDb, statementCache } from "./sql/db.js";
import { INGEST_LOCK_KEY, PgDb, pgText } from "./sql/pg-db.js";
import type { WriteGate } from "./sql/write-gate.js";
import { AssignBatch, GapStore, groupedReport } from "./gaps.js";
import type { EvidenceRow } from "./gap-analyses.js";
import type { InsertResult } from "./gap-types.js";
import { signatureOf } from "../gaps/index.js";
import type {
  ApiKeyInfo,
  CountRow,
  Draft,
  KeyScope,
  NewDraft,
  DraftGapLink,
  Note,
  NewReport,
  Page,
  Report,
  ReportDetail,
  Stats,
} from "./types.js";

export class StoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

/** How long a writer waits on a lock another connection holds, unless OpenOptions says otherwise. */
export const BUSY_TIMEOUT_MS_DEFAULT = 5000;

export interface OpenOptions {
  /** Open read-only (the stdio MCP server reading a file `serve` writes). */
  readonly?: boolean;
  /** How long a writer waits on a lock held by another process, in ms. */
  busyTimeoutMs?: number;
  /**
   * `inline` (default): each report joins its gap inside the ingest transaction. `deferred`
   * (`serve`): reports are stored without a gap and a grouping worker assigns them in id
   * order behind the `assigned_upto` watermark (src/gaps/deferred.ts).
   */
  grouping?: "inline" | "deferred";
  /**
   * `full` (default): a commit is fsynced before it returns. `normal` is for connections whose
   * writes can be redone (the grouping worker): WAL keeps the file consistent, and the next
   * FULL commit of any connection makes it durable.
   */
  synchronous?: "full" | "normal";
  /**
   * SQLite: `auto` (default) lets a commit that leaves the WAL past 1000 pages copy it back into
   * the database file; `manual` never does (the connection's owner calls `checkpoint()`).
   */
  checkpoints?: "auto" | "manual";
  /** SQLite: this process's writers take turns through it (src/store/sql/write-gate.ts). */
  writeGate?: WriteGate | undefined;
}

/** A reports row as SQLite returns it: json_list fields are still JSON text. */
type ReportRow = Record<string, unknown> & { id: number; status: string };

interface ReportQuery {
  from: string;
  /** The id column that orders the query (the FTS rowid when searching). */
  id: string;
  where: string;
  params: unknown[];
}

interface DraftRow extends Omit<Draft, "files"> {
  files: string;
}

/**
 * The report's columns, derived from REPORT_FIELDS (src/feedback/fields.ts) plus
 * the columns only the store writes: adding a payload field is a row in that
 * table and a migration adding its column, nothing here.
 */
const STORE_COLUMNS_BEFORE = ["id", "created_at", "updated_at"] as const;
// gaps: gap_id is null only while a backfill has not reached the report yet.
// redactions: what privacy replaced before storage (src/privacy), a JSON array.
const STORE_COLUMNS_AFTER = ["status", "gap_id", "redactions"] as const;
const ALL_COLUMNS = [...STORE_COLUMNS_BEFORE, ...REPORT_FIELD_NAMES, ...STORE_COLUMNS_AFTER];
/** Columns holding JSON text, parsed into the report: the json_list fields and the redactions. */
const JSON_LIST_FIELDS: readonly string[] = [
  ...REPORT_FIELD_NAMES.filter((f) => REPORT_FIELDS[f].storage === "json_list"),
  "redactions",
];

/** Report columns, qualified with the `r` alias every report query uses. */
const REPORT_COLUMNS = ALL_COLUMNS.map((c) => `r.${c}`).join(", ");

/**
 * The same report shape as `toReport`, built by SQLite as JSON text. The REST
 * list endpoint splices these strings into its response, skipping a JS object
 * per row and a JSON.stringify per page (the hot path at high request rates).
 */
const REPORT_JSON = {
  sqlite: `json_object(${[
    ...ALL_COLUMNS.map((c) => `'${c}', ${JSON_LIST_FIELDS.includes(c) ? `json(r.${c})` : `r.${c}`}`),
    "'reviewed', json(CASE r.status WHEN 'open' THEN 'false' ELSE 'true' END)",
  ].join(", ")})`,
  postgres: `json_build_object(${[
    ...ALL_COLUMNS.map((c) => `'${c}', ${JSON_LIST_FIELDS.includes(c) ? `r.${c}::json` : `r.${c}`}`),
    "'reviewed', r.status <> 'open'",
  ].join(", ")})::text`,
} as const;

/** The INSERT of one report: every payload field, its creation time, idempotency key and gap (a retry is caught before it, in the same transaction). */
const INSERT_COLUMNS = ["created_at", ...REPORT_FIELD_NAMES, "idempotency_key", "gap_id", "redactions"];
const INSERT_REPORT = `INSERT INTO reports (${INSERT_COLUMNS.join(", ")})
  VALUES (${INSERT_COLUMNS.map((c) => `@${c}`).join(", ")})`;

/**
 * PostgreSQL: a whole batch of reports in one statement, each id returned with its idempotency
 * key (see insertManyPg). The rows travel as one JSON parameter, typed by the table's own row
 * type: one round trip a batch, whatever its size. The ingest lock (INGEST_LOCK_KEY) is taken
 * shared by the materialized CTE, which the join reads before it yields the first row, so before
 * the first id is drawn from the sequence.
 */
const INSERT_PG = `WITH ingest_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared(${INGEST_LOCK_KEY}) AS held)
  INSERT INTO reports (${INSERT_COLUMNS.join(", ")})
  SELECT ${INSERT_COLUMNS.map((c) => `r.${c}`).join(", ")}
  FROM ingest_lock, json_populate_recordset(NULL::reports, ?::json) AS r
  ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key AS key`;

/** The payload as INSERT parameters: absent optionals are NULL, lists JSON text; the redactions as JSON. */
function insertParams(p: FeedbackPayload, redactions: readonly Redaction[] | undefined): Record<string, unknown> {
  const source = p as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of REPORT_FIELD_NAMES) {
    const value = source[field];
    out[field] = REPORT_FIELDS[field].storage === "json_list" ? JSON.stringify(value ?? []) : (value ?? null);
  }
  out.redactions = redactions && redactions.length > 0 ? JSON.stringify(redactions) : "[]";
  return out;
}

/**
 * Batch indexing into reports_fts. The virtual table's columns were fixed by
 * migration 1; `checkSchema` verifies at open that they equal SEARCHABLE_FIELDS,
 * so this derived list can never silently index the wrong columns.
 */
const FTS_INDEX = `INSERT INTO reports_fts (rowid, ${SEARCHABLE_FIELDS.join(", ")})
  SELECT id, ${SEARCHABLE_FIELDS.join(", ")} FROM reports WHERE id > ? AND id <= ?`;

/** Filter fields that are plain equality on a column of the same name. */
const EQUALITY_FILTERS = [...FILTERABLE_FIELDS, "status", "gap_id"] as const;

/** Column names of a table (or virtual table), in declaration order. */
export function tableColumns(db: SqlDb, table: string): string[] {
  if (db.sqlite) return (db.sqlite.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
  return (
    db
      .prepare(
        "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position",
      )
      .all(table) as { name: string }[]
  ).map((c) => c.name);
}

/**
 * The migrated schema must hold every column the field table derives: a field
 * added to REPORT_FIELDS without its migration, or a searchable flag changed
 * without rebuilding reports_fts, fails here with a sentence instead of
 * dropping data later.
 */
export function checkSchema(db: SqlDb): void {
  const reports = new Set(tableColumns(db, "reports"));
  const missing = [...ALL_COLUMNS, "idempotency_key"].filter((c) => !reports.has(c));
  if (missing.length > 0)
    throw new StoreError(
      "schema_mismatch",
      `the reports table has no column ${missing.join(", ")}: add a migration for each new field in REPORT_FIELDS`,
    );
  // PostgreSQL's search column is generated from the searchable fields by its migration.
  if (db.dialect === "postgres") return;
  const fts = tableColumns(db, "reports_fts");
  const want = [...SEARCHABLE_FIELDS];
  if (fts.length !== want.length || want.some((c) => !fts.includes(c)))
    throw new StoreError(
      "schema_mismatch",
      `the full-text index covers ${fts.join(", ")} but REPORT_FIELDS marks ${want.join(", ")} searchable: ` +
        "add a migration that rebuilds reports_fts and its triggers",
    );
}

export const STATS_DAYS_DEFAULT = 30;

function toReport(row: ReportRow): Report {
  const report: Record<string, unknown> = { ...row, reviewed: row.status !== "open" };
  for (const field of JSON_LIST_FIELDS) report[field] = JSON.parse(row[field] as string) as unknown;
  return report as unknown as Report;
}

function toDraft(row: DraftRow): Draft {
  return { ...row, files: JSON.parse(row.files) as string[] };
}

const now = (): string => new Date().toISOString();

export class FeedbackStore {
  readonly db: SqlDb;
  /** The SQLite file, or the PostgreSQL URL, the store was opened on. */
  readonly path: string;
  /** `path` safe to print (a URL's password masked). */
  readonly label: string;
  /** Prepared statements by SQL text: filter combinations are few and reused. */
  private readonly stmt = statementCache(() => this.db);
  /** Gaps: grouping, human decisions, history (src/store/gaps.ts). */
  readonly gaps: GapStore;

  private constructor(
    db: SqlDb,
    path: string,
    private readonly readonly: boolean,
    /** See OpenOptions.grouping. */
    readonly grouping: "inline" | "deferred",
  ) {
    this.db = db;
    this.path = path;
    this.label = displayLocation(path);
    this.gaps = new GapStore(db, (sql) => this.stmt(sql));
  }

  static open(path: string, options: OpenOptions = {}): FeedbackStore {
    if (isPostgresUrl(path)) {
      const pg = new PgDb(path);
      try {
        migratePg(pg);
        checkSchema(pg);
      } catch (err) {
        pg.close();
        // Not reached (a socket error, no SQLSTATE), refused the login (28…) or no such database (3D000).
        const code = String((err as { code?: unknown }).code ?? "");
        if (err instanceof Error && (!/^[0-9A-Z]{5}$/.test(code) || code.startsWith("28") || code === "3D000"))
          throw new StoreError(
            "db_unreachable",
            `cannot open the PostgreSQL database ${displayLocation(path)}: ${err.message}`,
          );
        throw err;
      }
      return new FeedbackStore(pg, path, options.readonly ?? false, options.grouping ?? "inline");
    }
    if (path !== ":memory:" && !options.readonly) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? BUSY_TIMEOUT_MS_DEFAULT}`);
    if (!options.readonly) {
      db.pragma("journal_mode = WAL");
      // FULL: a commit is fsynced before we answer, so a 2xx survives power loss, not only a crash.
      db.pragma(options.synchronous === "normal" ? "synchronous = NORMAL" : "synchronous = FULL");
      db.pragma("foreign_keys = ON");
      if (options.checkpoints === "manual") db.pragma("wal_autocheckpoint = 0");
      migrate(db);
    }
    const sql = sqliteDb(db, options.writeGate);
    checkSchema(sql);
    return new FeedbackStore(sql, path, options.readonly ?? false, options.grouping ?? "inline");
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * SQLite: copy what the WAL holds back into the database file, as far as readers allow, without
   * blocking writers (a PASSIVE checkpoint). Outside any transaction, so no write lock or write
   * gate is held while it copies and fsyncs. PostgreSQL: nothing to do.
   */
  checkpoint(): void {
    this.db.sqlite?.pragma("wal_checkpoint(PASSIVE)");
  }

  // ---- reports ----------------------------------------------------------

  /**
   * Store one report. With an idempotency key, a retry returns the id of the
   * first insert and `created: false` instead of storing a duplicate.
   */
  insertReport(payload: FeedbackPayload, idempotencyKey?: string, redactions?: readonly Redaction[]): InsertResult {
    return this.insertMany([{ payload, idempotencyKey, redactions }])[0]!;
  }

  /**
   * Store several reports in one transaction (one fsync): the ingestion path batches concurrent POSTs.
   * Inline grouping: each report joins its gap in the same transaction, so it is never stored
   * without one. Deferred grouping: reports are stored with gap_id null (`gap_id: null` in the
   * result) and the grouping worker assigns them behind the watermark.
   */
  insertMany(items: NewReport[]): InsertResult[] {
    const insert = this.stmt(INSERT_REPORT);
    const byKey = this.stmt("SELECT id FROM reports WHERE idempotency_key = ?");
    if (this.grouping === "deferred" && this.db.dialect === "postgres") return this.insertManyPg(items);
    if (this.grouping === "deferred") {
      const store = this.db.transaction((batch: typeof items) =>
        batch.map(({ payload: p, idempotencyKey, redactions }): InsertResult => {
          if (idempotencyKey !== undefined) {
            const existing = byKey.get(idempotencyKey) as { id: number } | undefined;
            if (existing) return { id: existing.id, created: false, ...this.gaps.echoForReport(existing.id) };
          }
          const info = insert.run({
            ...insertParams(p, redactions),
            created_at: now(),
            idempotency_key: idempotencyKey ?? null,
            gap_id: null,
          });
          return { id: Number(info.lastInsertRowid), created: true, gap_id: null };
        }),
      );
      return store.immediate(items);
    }
    const run = this.db.transaction((batch: typeof items) => {
      const grouping = this.gaps.batch();
      const stored = batch.map(({ payload: p, idempotencyKey, redactions }) => {
        if (idempotencyKey !== undefined) {
          const existing = byKey.get(idempotencyKey) as { id: number } | undefined;
          if (existing) return { id: existing.id, gapId: undefined };
        }
        const created_at = now();
        const grouped = groupedReport(p, created_at);
        const signature = signatureOf(grouped);
        const gapId = grouping.choose(grouped, signature);
        const info = insert.run({
          ...insertParams(p, redactions),
          created_at,
          idempotency_key: idempotencyKey ?? null,
          gap_id: gapId,
        });
        const id = Number(info.lastInsertRowid);
        grouping.attach(id, gapId, grouped, signature);
        return { id, gapId };
      });
      const echoes = grouping.flush();
      const ids = stored.filter((s) => s.gapId !== undefined).map((s) => s.id);
      if (ids.length > 0) this.gaps.assignedThrough(ids[0]!, ids[ids.length - 1]!);
      return stored.map(
        ({ id, gapId }): InsertResult =>
          gapId === undefined
            ? { id, created: false, ...this.gaps.echoForReport(id) }
            : AssignBatch.result(id, gapId, echoes),
      );
    });
    // IMMEDIATE: grouping reads before it writes, and a deferred transaction could not wait for the lock.
    return run.immediate(items);
  }

  /**
   * Deferred ingestion on PostgreSQL: no write lock, so sidecars on one database ingest side by
   * side, and the whole batch is one statement (INSERT_PG; a round trip per report would cap a
   * sidecar near 600 reports/s). A key another process is inserting at this moment makes the
   * INSERT wait for it, then skip the row; that report's answer is the first insert's id, exactly
   * as with one process. Ids come from the sequence in the rows' order, so the returned rows
   * sorted by id meet the unkeyed items in order.
   *
   * Without idempotency keys the statement is its own transaction: nothing is read after it, so
   * the batch succeeds or fails as a whole. With keys, the retries' ids are read after the INSERT,
   * in the same transaction (its BEGIN travels with the INSERT), so a failure there rolls the
   * batch back and the writer may store it again without storing anything twice.
   */
  private insertManyPg(items: NewReport[]): InsertResult[] {
    const insert = () => this.insertRowsPg(items);
    return items.some((i) => i.idempotencyKey !== undefined) ? this.db.transaction(insert)() : insert();
  }

  private insertRowsPg(items: NewReport[]): InsertResult[] {
    const byKey = this.stmt("SELECT id FROM reports WHERE idempotency_key = ?");
    const at = now();
    const rows = items.map(
      ({ payload, idempotencyKey, redactions }): Record<string, unknown> => ({
        ...insertParams(payload, redactions),
        created_at: at,
        idempotency_key: idempotencyKey ?? null,
        gap_id: null,
      }),
    );
    let json = JSON.stringify(rows);
    // Rarely a NUL (JSON writes it as \u0000): every text as PostgreSQL stores it (pgText), the
    // keys included, so the keys returned match these rows'.
    if (json.includes("\\u0000")) {
      for (const row of rows)
        for (const column in row) if (typeof row[column] === "string") row[column] = pgText(row[column]);
      json = JSON.stringify(rows);
    }
    const returned = this.stmt(INSERT_PG).all(json) as { id: number; key: string | null }[];
    returned.sort((a, b) => a.id - b.id);
    const stored = new Map<string, number>();
    const unkeyed: number[] = [];
    for (const r of returned) {
      if (r.key === null) unkeyed.push(r.id);
      else stored.set(r.key, r.id);
    }
    let next = 0;
    const answered = new Set<string>();
    return rows.map((row): InsertResult => {
      const key = row.idempotency_key as string | null;
      if (key === null) {
        const id = unkeyed[next++];
        if (id === undefined) throw new StoreError("insert_mismatch", "the database stored fewer reports than sent");
        return { id, created: true, gap_id: null };
      }
      const mine = stored.get(key);
      if (mine !== undefined && !answered.has(key)) {
        answered.add(key);
        return { id: mine, created: true, gap_id: null };
      }
      // Stored before (by this batch, an earlier request or another sidecar): answer as a retry.
      const id = mine ?? (byKey.get(key) as { id: number }).id;
      return { id, created: false, ...this.gaps.echoForReport(id) };
    });
  }

  getReport(id: number): Report | undefined {
    const row = this.stmt(`SELECT ${REPORT_COLUMNS} FROM reports r WHERE r.id = ?`).get(id) as ReportRow | undefined;
    return row ? toReport(row) : undefined;
  }

  getReportDetail(id: number): ReportDetail | undefined {
    const report = this.getReport(id);
    if (!report) return undefined;
    return { ...report, notes: this.listNotes(id), drafts: this.listDrafts(id) };
  }

  /**
   * Add reports stored since the last call to the full-text index, in batches
   * (one FTS segment per batch instead of one per report). Every search calls
   * it first, and `serve` calls it on a timer, so the index trails ingestion by
   * moments and searches never miss a stored report. Safe across processes:
   * the watermark lives in the database and moves inside the write transaction.
   * Returns how many reports were indexed.
   */
  indexPending(batchSize = 5000): number {
    // PostgreSQL's search column is generated with the row: nothing is ever behind.
    if (this.readonly || this.db.dialect === "postgres") return 0;
    const pending = this.stmt("SELECT (SELECT max(id) FROM reports) > indexed_upto AS behind FROM fts_state").get() as {
      behind: number | null;
    };
    if (!pending.behind) return 0;
    const step = this.db.transaction(() => {
      const { indexed_upto: from } = this.stmt("SELECT indexed_upto FROM fts_state").get() as { indexed_upto: number };
      const to = (
        this.stmt("SELECT max(id) AS m FROM (SELECT id FROM reports WHERE id > ? ORDER BY id LIMIT ?) AS batch").get(
          from,
          batchSize,
        ) as { m: number | null }
      ).m;
      if (to === null) return 0;
      const info = this.stmt(FTS_INDEX).run(from, to);
      this.stmt("UPDATE fts_state SET indexed_upto = ?").run(to);
      return info.changes;
    });
    let total = 0;
    let n: number;
    do {
      n = step.immediate();
      total += n;
    } while (n === batchSize);
    return total;
  }

  /**
   * FROM and WHERE for a filter (shared by list, export, count and stats), with
   * an optional keyset bound. With full-text search the query is driven by the
   * FTS index in rowid order, so a page of a common word reads one page of
   * matches instead of collecting every match first.
   */
  private where(filter: ReportFilter, beforeId?: number): ReportQuery {
    const pg = this.db.dialect === "postgres";
    const fts = filter.q === undefined ? undefined : pg ? toTsQuery(filter.q) : toFtsQuery(filter.q);
    if (fts !== undefined) this.indexPending();
    const viaFts = fts !== undefined && !pg;
    const from = viaFts ? "reports_fts f JOIN reports r ON r.id = f.rowid" : "reports r";
    const id = viaFts ? "f.rowid" : "r.id";
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (fts !== undefined) {
      clauses.push(pg ? "r.search @@ to_tsquery('simple', ?)" : "reports_fts MATCH ?");
      params.push(fts);
    }
    if (beforeId !== undefined) {
      clauses.push(`${id} < ?`);
      params.push(beforeId);
    }
    for (const field of EQUALITY_FILTERS) {
      const value = filter[field];
      if (value !== undefined) {
        clauses.push(`r.${field} = ?`);
        params.push(value);
      }
    }
    if (filter.reviewed !== undefined) clauses.push(filter.reviewed ? "r.status <> 'open'" : "r.status = 'open'");
    if (filter.since !== undefined) {
      clauses.push("r.created_at >= ?");
      params.push(filter.since);
    }
    if (filter.until !== undefined) {
      clauses.push("r.created_at < ?");
      params.push(filter.until);
    }
    return { from, id, where: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", params };
  }

  /** SQL and parameters for one keyset page (limit + 1 rows, to learn whether another page follows). */
  private pageQuery(
    select: string,
    filter: ReportFilter,
    page: { limit?: number | undefined; cursor?: string | undefined },
  ): { sql: string; params: unknown[]; limit: number } {
    const limit = Math.min(Math.max(page.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
    let beforeId: number | undefined;
    if (page.cursor !== undefined) {
      beforeId = decodeCursor(page.cursor);
      if (beforeId === undefined) throw new StoreError("invalid_cursor", "cursor is not one this server issued");
    }
    const q = this.where(filter, beforeId);
    return {
      sql: `SELECT ${select} FROM ${q.from} ${q.where} ORDER BY ${q.id} DESC LIMIT ?`,
      params: [...q.params, limit + 1],
      limit,
    };
  }

  /** One page of reports, newest first, with keyset pagination. */
  listReports(
    filter: ReportFilter,
    page: { limit?: number | undefined; cursor?: string | undefined } = {},
  ): Page<Report> {
    const q = this.pageQuery(REPORT_COLUMNS, filter, page);
    const rows = this.stmt(q.sql).all(...q.params) as ReportRow[];
    const items = rows.slice(0, q.limit).map(toReport);
    const nextCursor = rows.length > q.limit ? encodeCursor(items[items.length - 1]!.id) : null;
    return { items, nextCursor };
  }

  /**
   * The same page as `listReports`, as a JSON array text (see REPORT_JSON). On PostgreSQL it is
   * read without blocking the thread (SqlDb.allAsync), so pages are read side by side.
   */
  async listReportsJson(
    filter: ReportFilter,
    page: { limit?: number | undefined; cursor?: string | undefined } = {},
  ): Promise<{ itemsJson: string; nextCursor: string | null }> {
    const q = this.pageQuery(`r.id, ${REPORT_JSON[this.db.dialect]}`, filter, page);
    const rows = (
      this.db.allAsync
        ? await this.db.allAsync(q.sql, q.params, true)
        : this.stmt(q.sql)
            .raw(true)
            .all(...q.params)
    ) as [number, string][];
    const items = rows.slice(0, q.limit);
    const nextCursor = rows.length > q.limit ? encodeCursor(items[items.length - 1]![0]) : null;
    return { itemsJson: `[${items.map((r) => r[1]).join(",")}]`, nextCursor };
  }

  /**
   * Every matching report, newest first, in chunks. Each chunk is its own
   * finished query, so a consumer may await between chunks (an open
   * better-sqlite3 iterator would block every other query meanwhile).
   */
  *scanReports(filter: ReportFilter, chunkSize = 500): Generator<Report[]> {
    let lastId: number | undefined;
    for (;;) {
      const q = this.where(filter, lastId);
      const rows = this.stmt(`SELECT ${REPORT_COLUMNS} FROM ${q.from} ${q.where} ORDER BY ${q.id} DESC LIMIT ?`).all(
        ...q.params,
        chunkSize,
      ) as ReportRow[];
      if (rows.length === 0) return;
      yield rows.map(toReport);
      if (rows.length < chunkSize) return;
      lastId = rows[rows.length - 1]!.id;
    }
  }

  countReports(filter: ReportFilter = {}): number {
    const q = this.where(filter);
    return (this.stmt(`SELECT count(*) AS n FROM ${q.from} ${q.where}`).get(...q.params) as { n: number }).n;
  }

  /**
   * Change status and/or the reviewed toggle. `reviewed: true` on an open
   * report makes it `reviewed`; `reviewed: false` reopens it. An explicit
   * status wins over the toggle.
   */
  updateStatus(
    id: number,
    change: { status?: ReportStatus | undefined; reviewed?: boolean | undefined },
  ): Report | undefined {
    const report = this.getReport(id);
    if (!report) return undefined;
    let status = report.status;
    if (change.reviewed === true && status === "open") status = "reviewed";
    if (change.reviewed === false) status = "open";
    if (change.status !== undefined) status = change.status;
    if (status !== report.status) {
      this.stmt("UPDATE reports SET status = ?, updated_at = ? WHERE id = ?").run(status, now(), id);
    }
    return this.getReport(id);
  }

  // ---- notes and drafts -------------------------------------------------

  addNote(reportId: number, body: string, author?: string): Note | undefined {
    if (!this.getReport(reportId)) return undefined;
    const info = this.stmt("INSERT INTO notes (report_id, body, author, created_at) VALUES (?, ?, ?, ?)").run(
      reportId,
      body,
      author ?? null,
      now(),
    );
    return this.stmt("SELECT * FROM notes WHERE id = ?").get(info.lastInsertRowid) as Note;
  }

  listNotes(reportId: number): Note[] {
    return this.stmt("SELECT * FROM notes WHERE report_id = ? ORDER BY id").all(reportId) as Note[];
  }

  addDraft(reportId: number, draft: NewDraft, gap?: DraftGapLink): Draft {
    if (gap) return this.db.transaction(() => this.addGapDraft(reportId, draft, gap))();
    const info = this.stmt(
      `INSERT INTO drafts (report_id, created_at, kind, url, number, repo, branch, base_branch, commit_sha, provider, model, files, title)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      reportId,
      now(),
      draft.kind,
      draft.url,
      draft.number,
      draft.repo,
      draft.branch,
      draft.base_branch,
      draft.commit_sha,
      draft.provider,
      draft.model,
      JSON.stringify(draft.files),
      draft.title,
    );
    return toDraft(this.stmt("SELECT * FROM drafts WHERE id = ?").get(info.lastInsertRowid) as DraftRow);
  }

  private addGapDraft(reportId: number, draft: NewDraft, gap: DraftGapLink): Draft {
    const made = this.addDraft(reportId, draft);
    this.stmt("UPDATE drafts SET gap_id = ? WHERE id = ?").run(gap.gapId, made.id);
    const link = this.stmt("INSERT OR IGNORE INTO draft_reports (report_id, draft_id) VALUES (?, ?)");
    for (const id of new Set([reportId, ...gap.reportIds])) link.run(id, made.id);
    return { ...made, gap_id: gap.gapId };
  }

  /** The gap's newest `limit` reports with their grouping signatures (evidence for analysis and drafts). */
  gapEvidence(gapId: number, limit: number): EvidenceRow[] {
    return this.gaps.analyses.evidence(gapId, limit, toReport as (row: never) => Report, REPORT_COLUMNS);
  }

  /** Drafts made for this report, and drafts made from a gap that used it as evidence. */
  listDrafts(reportId: number): Draft[] {
    return (
      this.stmt(
        `SELECT * FROM drafts WHERE report_id = ? OR id IN (SELECT draft_id FROM draft_reports WHERE report_id = ?)
         ORDER BY id`,
      ).all(reportId, reportId) as DraftRow[]
    ).map(toDraft);
  }

  // ---- stats ------------------------------------------------------------

  stats(filter: ReportFilter = {}, days: number = STATS_DAYS_DEFAULT): Stats {
    const q = this.where(filter);
    const and = q.where ? `${q.where} AND` : "WHERE";
    const group = (column: string, limit = 50): CountRow[] =>
      this.stmt(
        `SELECT r.${column} AS key, count(*) AS count FROM ${q.from} ${q.where} GROUP BY r.${column} ORDER BY count DESC, key LIMIT ${limit}`,
      ).all(...q.params) as CountRow[];
    // Totals come from the (index-only) groupings instead of a scan of the whole table.
    const by_status = group("status");
    const by_resolution = group("resolution");
    const countOf = (rows: CountRow[], key: string) => rows.find((r) => r.key === key)?.count ?? 0;
    const servers = (
      this.stmt(`SELECT count(*) AS n FROM (SELECT DISTINCT r.server_name FROM ${q.from} ${q.where}) AS servers`).get(
        ...q.params,
      ) as { n: number }
    ).n;

    const today = new Date();
    const start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (days - 1)));
    const dayRows = this.stmt(
      `SELECT substr(r.created_at, 1, 10) AS day, count(*) AS count FROM ${q.from} ${and} r.created_at >= ? GROUP BY day`,
    ).all(...q.params, start.toISOString()) as { day: string; count: number }[];
    const byDay = new Map(dayRows.map((r) => [r.day, r.count]));
    const per_day: Stats["per_day"] = [];
    for (let i = 0; i < days; i++) {
      const day = new Date(start.getTime() + i * 86_400_000).toISOString().slice(0, 10);
      per_day.push({ day, count: byDay.get(day) ?? 0 });
    }
    return {
      total: by_status.reduce((sum, r) => sum + r.count, 0),
      unreviewed: countOf(by_status, "open"),
      blocked: countOf(by_resolution, "blocked"),
      servers,
      by_server: group("server_name"),
      by_gap_type: group("gap_type"),
      by_resolution,
      by_status,
      by_client: group("client_type"),
      by_tool: group("tool_name"),
      per_day,
    };
  }

  // ---- API keys ---------------------------------------------------------

  /** Create a scoped key. The full key is returned once; only a hash of its secret is stored. */
  createKey(scope: KeyScope, name?: string): { key: string; info: ApiKeyInfo } {
    const id = randomBytes(6).toString("hex");
    const secret = randomBytes(24).toString("base64url");
    const created_at = now();
    this.stmt("INSERT INTO api_keys (id, name, scope, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)").run(
      id,
      name ?? null,
      scope,
      hashSecret(secret),
      created_at,
    );
    forgetKeyPresence(this);
    return { key: `pwm_${id}_${secret}`, info: { id, name: name ?? null, scope, created_at, revoked_at: null } };
  }

  /** The scope of a presented key, or undefined when it is unknown, malformed or revoked. */
  verifyKey(presented: string): KeyScope | undefined {
    const match = /^pwm_([0-9a-f]{12})_([A-Za-z0-9_-]{20,64})$/.exec(presented);
    if (!match) return undefined;
    const row = this.stmt("SELECT scope, secret_hash, revoked_at FROM api_keys WHERE id = ?").get(match[1]) as
      | { scope: KeyScope; secret_hash: string; revoked_at: string | null }
      | undefined;
    if (!row || row.revoked_at) return undefined;
    const expected = Buffer.from(row.secret_hash, "hex");
    const actual = Buffer.from(hashSecret(match[2]!), "hex");
    return timingSafeEqual(expected, actual) ? row.scope : undefined;
  }

  listKeys(): ApiKeyInfo[] {
    return this.stmt(
      "SELECT id, name, scope, created_at, revoked_at FROM api_keys ORDER BY created_at, id",
    ).all() as ApiKeyInfo[];
  }

  revokeKey(id: string): boolean {
    const revoked =
      this.stmt("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(now(), id).changes === 1;
    forgetKeyPresence(this);
    return revoked;
  }

  hasKeys(): boolean {
    return this.stmt("SELECT 1 FROM api_keys WHERE revoked_at IS NULL LIMIT 1").get() !== undefined;
  }
}

function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}
