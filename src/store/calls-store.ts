/**
 * Tool-call analytics in the store (SQLite migration 11, PostgreSQL 5): raw call events as the
 * proxies send them (`POST /api/calls`), and hourly rollups per server × tool × client with a
 * latency histogram, which every answer about counts and latency reads. Raw events answer the
 * questions rollups cannot: which sessions had errors, and whether they filed a report.
 *
 * Ingestion is the hot path (a fleet of proxies sends every call): one transaction per batch,
 * raw rows in multi-row INSERTs, the batch's rollups summed in JS first so each
 * server × tool × client × hour is one upsert row that adds bucket by bucket in SQL.
 */
import { z } from "zod";
import {
  bucketOf,
  type CallBatch,
  CALL_LIMITS,
  type CallEvent,
  type CallRollup,
  emptyHistogram,
  type Histogram,
  quantileMs,
} from "../analytics/index.js";
export {
  CALL_PURGE_INTERVAL_MS_DEFAULT,
  CALL_RETENTION_DAYS_DEFAULT,
  ROLLUP_RETENTION_DAYS_DEFAULT,
} from "./calls-defaults.js";
import {
  BUCKET_COLUMNS,
  CALL_COLUMNS,
  CALL_EVENT_FIELDS,
  CALL_COLUMN_PG_ARRAYS,
  ROLLUP_COLUMNS,
  ROLLUP_KEY,
  ROLLUP_SCALARS,
} from "./calls-columns.js";
import { timestampArg } from "./filters.js";
import { type SqlDb, statementCache, valuesList } from "./sql/db.js";
import { StoreError, type FeedbackStore } from "./store.js";

/** Advisory lock class of the retention purge (several sidecars on one PostgreSQL: one purge at a time). */
const RETENTION_LOCK_CLASS = 0x70776d35; // "pwm5"

/** The window GET /api/tools and get_tool_stats answer for when `since` is not given. */
export const TOOL_STATS_DAYS_DEFAULT = 7;
/** Silent-failure sessions listed in a tool's detail (newest first error first); the counts cover all. */
export const SILENT_SESSIONS_LIMIT = 50;
/** Gaps listed in a tool's detail (highest score first). */
export const TOOL_GAPS_LIMIT = 20;

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Raw rows per INSERT: full chunks share one statement, the rest go in power-of-two chunks (few cached statements). */
const RAW_CHUNK = 512;
const ROLLUP_CHUNK = 256;
/** Rows per DELETE while purging, so a purge never holds the write lock for long. */
const PURGE_CHUNK = 5000;

const nameArg = z
  .string()
  .trim()
  .min(1, { error: "must not be empty" })
  .max(CALL_LIMITS.name, { error: `must be at most ${CALL_LIMITS.name} characters` });

/** The filters of GET /api/tools and get_tool_stats (query strings and MCP arguments alike). */
export const toolFilterShape = {
  server_name: nameArg.optional().describe("Only this MCP server."),
  client: nameArg.optional().describe("Only calls from this client (its clientInfo.name)."),
  since: timestampArg
    .optional()
    .describe(`Calls at or after this ISO 8601 date/time (default: ${TOOL_STATS_DAYS_DEFAULT} days before until).`),
  until: timestampArg.optional().describe("Calls before this ISO 8601 date/time (default: now)."),
};
export const toolFilterSchema = z.object(toolFilterShape);
export type ToolFilter = z.infer<typeof toolFilterSchema>;

export const toolDetailFilterSchema = z.object({
  ...toolFilterShape,
  server_name: nameArg.describe("The MCP server."),
  tool_name: nameArg.describe("The tool."),
});
export type ToolDetailFilter = z.infer<typeof toolDetailFilterSchema>;

export interface Latency {
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export interface ToolStatsItem extends Latency {
  server_name: string;
  tool_name: string;
  calls: number;
  errors: number;
  error_rate: number;
  last_call_at: string;
}

export interface Coverage {
  sessions_with_errors: number;
  sessions_reported: number;
  /** sessions_reported ÷ sessions_with_errors; null when no session had an error. */
  ratio: number | null;
}

export interface ToolStats {
  items: ToolStatsItem[];
  coverage: Coverage;
  since: string;
  until: string;
}

export interface SilentSession {
  session_id: string;
  client_name: string | null;
  errors: number;
  first_error_at: string;
}

export interface ToolDetail extends Latency {
  server_name: string;
  tool_name: string;
  calls: number;
  errors: number;
  error_rate: number;
  since: string;
  until: string;
  by_client: {
    client_name: string | null;
    calls: number;
    errors: number;
    p50_ms: number | null;
    p95_ms: number | null;
  }[];
  trend: { hour: string; calls: number; errors: number; p95_ms: number | null }[];
  gaps: { id: number; title: string; status: string; reports: number }[];
  silent_failures: Coverage & { sessions: SilentSession[] };
}

export interface PurgeResult {
  calls: number;
  rollups: number;
}

/** One row of rollups being summed: a batch's calls and spill rollups for one key. */
interface Agg {
  server_name: string;
  tool_name: string;
  client_name: string;
  hour: string;
  calls: number;
  errors: number;
  last_call_at: string;
  hist: Histogram;
}

/** Aggregated rollup rows: calls, errors, last call and the summed buckets. */
type SummedRow = { calls: number; errors: number; last_call_at?: string } & Record<string, unknown>;

const CANONICAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** An instant as the store keeps it (toISOString: UTC, milliseconds), so text order is time order. */
function canonicalIso(s: string): string {
  return CANONICAL_ISO.test(s) ? s : new Date(s).toISOString();
}

/** The start of the UTC hour a canonical ISO instant falls in. */
const hourOf = (iso: string): string => `${iso.slice(0, 13)}:00:00.000Z`;

function floorHour(iso: string): string {
  return new Date(Math.floor(new Date(iso).getTime() / HOUR_MS) * HOUR_MS).toISOString();
}

const round = (n: number | null, places = 2): number | null => {
  if (n === null) return null;
  const f = 10 ** places;
  return Math.round(n * f) / f;
};

/** Recorded arguments as JSON text, at most CALL_LIMITS.arguments_chars; longer stays valid JSON, marked as cut. */
function argumentsText(args: Record<string, unknown> | null): string | null {
  if (args === null) return null;
  const text = JSON.stringify(args);
  if (text.length <= CALL_LIMITS.arguments_chars) return text;
  // The marker and its escaping take some room: cut until the whole document fits.
  let keep = CALL_LIMITS.arguments_chars - 64;
  for (;;) {
    const cut = JSON.stringify({ $truncated: text.length, $text: text.slice(0, keep) });
    if (cut.length <= CALL_LIMITS.arguments_chars || keep <= 0) return cut;
    keep -= Math.max(16, cut.length - CALL_LIMITS.arguments_chars);
  }
}

const SUM_BUCKETS = BUCKET_COLUMNS.map((b) => `sum(${b}) AS ${b}`).join(", ");
const SUMS = `sum(calls) AS calls, sum(errors) AS errors, ${SUM_BUCKETS}`;

function histogramOf(row: Record<string, unknown>): Histogram {
  return BUCKET_COLUMNS.map((b) => Number(row[b] ?? 0));
}

function latency(h: Histogram): Latency {
  return {
    p50_ms: round(quantileMs(h, 0.5)),
    p95_ms: round(quantileMs(h, 0.95)),
    p99_ms: round(quantileMs(h, 0.99)),
  };
}

const errorRate = (calls: number, errors: number): number => (calls > 0 ? (round(errors / calls, 4) ?? 0) : 0);

const coverageOf = (withErrors: number, reported: number): Coverage => ({
  sessions_with_errors: withErrors,
  sessions_reported: reported,
  ratio: withErrors > 0 ? round(reported / withErrors, 4) : null,
});

/** Chunk sizes for n rows: full chunks, then powers of two (so only a few statement texts ever exist). */
function chunkSizes(n: number, full: number): number[] {
  const out: number[] = [];
  let left = n;
  while (left >= full) {
    out.push(full);
    left -= full;
  }
  for (let p = full >> 1; p >= 1; p >>= 1)
    if (left >= p) {
      out.push(p);
      left -= p;
    }
  return out;
}

/** SQL text by row count, built once (the texts are also the statement cache's keys). */
function memo(build: (rows: number) => string): (rows: number) => string {
  const texts = new Map<number, string>();
  return (rows) => {
    let t = texts.get(rows);
    if (t === undefined) {
      t = build(rows);
      texts.set(rows, t);
    }
    return t;
  };
}

const INSERT_RAW = memo(
  (rows) => `INSERT INTO tool_calls (${CALL_COLUMNS.join(", ")}) VALUES ${valuesList(CALL_COLUMNS.length, rows)}`,
);

/** PostgreSQL: the whole batch's raw rows in one statement, one array parameter per column. */
const INSERT_RAW_PG = `INSERT INTO tool_calls (${CALL_COLUMNS.join(", ")})
  SELECT * FROM unnest(${CALL_COLUMN_PG_ARRAYS.map((t) => `?::${t}`).join(", ")})`;

const UPSERT_ROLLUPS = memo(
  (rows) => `INSERT INTO tool_call_rollups (${ROLLUP_COLUMNS.join(", ")})
  VALUES ${valuesList(ROLLUP_COLUMNS.length, rows)}
  ON CONFLICT (${ROLLUP_KEY.join(", ")}) DO UPDATE SET
    calls = tool_call_rollups.calls + excluded.calls,
    errors = tool_call_rollups.errors + excluded.errors,
    last_call_at = CASE WHEN excluded.last_call_at > tool_call_rollups.last_call_at
      THEN excluded.last_call_at ELSE tool_call_rollups.last_call_at END,
    ${BUCKET_COLUMNS.map((b) => `${b} = tool_call_rollups.${b} + excluded.${b}`).join(",\n    ")}`,
);

/** The time window of a query: `since`/`until` as given (already ISO instants) or the defaults. */
export function toolWindow(filter: { since?: string | undefined; until?: string | undefined }, now = new Date()) {
  const until = filter.until !== undefined ? canonicalIso(filter.until) : now.toISOString();
  const since =
    filter.since !== undefined
      ? canonicalIso(filter.since)
      : new Date(new Date(until).getTime() - TOOL_STATS_DAYS_DEFAULT * DAY_MS).toISOString();
  if (since >= until) throw new StoreError("invalid_range", `since (${since}) must be before until (${until}).`);
  return { since, until };
}

export class CallsStore {
  private readonly stmt = statementCache(() => this.store.db);
  /** The connection's own synchronous level (SQLite), restored after each call batch. */
  private syncMode: number | undefined;

  constructor(private readonly store: FeedbackStore) {}

  private get db(): SqlDb {
    return this.store.db;
  }

  // ---- ingestion ---------------------------------------------------------------

  /**
   * Store one batch in one transaction: its raw events, and the rollups of those events plus
   * the batch's spill rollups (which have no raw rows). Returns what was stored.
   */
  insertCalls(batch: CallBatch): { calls: number; rollups: number } {
    const receivedAt = new Date().toISOString();
    const agg = new Map<string, Agg>();
    const add = (server: string, tool: string, client: string | null, hour: string, last: string): Agg => {
      const c = client ?? "";
      const key = `${server}\u0000${tool}\u0000${c}\u0000${hour}`;
      let a = agg.get(key);
      if (a === undefined) {
        a = {
          server_name: server,
          tool_name: tool,
          client_name: c,
          hour,
          calls: 0,
          errors: 0,
          last_call_at: last,
          hist: emptyHistogram(),
        };
        agg.set(key, a);
      } else if (last > a.last_call_at) a.last_call_at = last;
      return a;
    };

    const width = CALL_COLUMNS.length;
    const raw: unknown[] = new Array(batch.calls.length * width);
    let p = 0;
    for (const e of batch.calls as CallEvent[]) {
      const started = canonicalIso(e.started_at);
      // Columns in CALL_COLUMNS order (derived from the contract): no second list to keep in step.
      for (const field of CALL_EVENT_FIELDS)
        raw[p++] = field === "started_at" ? started : field === "arguments" ? argumentsText(e.arguments) : e[field];
      raw[p++] = receivedAt;
      const a = add(e.server_name, e.tool_name, e.client_name, hourOf(started), started);
      a.calls++;
      if (e.outcome !== "ok") a.errors++;
      a.hist[bucketOf(e.duration_ms)]! += 1;
    }
    for (const r of batch.rollups as CallRollup[]) {
      const hour = canonicalIso(r.hour);
      const a = add(r.server_name, r.tool_name, r.client_name, hour, hour);
      a.calls += r.calls;
      a.errors += r.errors;
      for (let i = 0; i < a.hist.length; i++) a.hist[i]! += r.histogram[i] ?? 0;
    }
    // One key order for every writer: two sidecars upserting the same rows cannot deadlock.
    const rollups = [...agg.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map((e) => e[1]);

    const write = () => {
      if (this.db.dialect === "postgres") {
        if (batch.calls.length > 0) {
          const columns = CALL_COLUMNS.map((_, c) => {
            const col = new Array<unknown>(batch.calls.length);
            for (let i = 0; i < col.length; i++) col[i] = raw[i * width + c];
            return col;
          });
          this.stmt(INSERT_RAW_PG).run(...columns);
        }
      } else {
        let at = 0;
        for (const n of chunkSizes(batch.calls.length, RAW_CHUNK)) {
          this.stmt(INSERT_RAW(n)).run(...raw.slice(at * width, (at + n) * width));
          at += n;
        }
      }
      let r = 0;
      for (const n of chunkSizes(rollups.length, ROLLUP_CHUNK)) {
        const params: unknown[] = [];
        for (const a of rollups.slice(r, r + n)) {
          for (const c of ROLLUP_SCALARS) params.push(a[c]);
          for (const b of a.hist) params.push(b);
        }
        this.stmt(UPSERT_ROLLUPS(n)).run(...params);
        r += n;
      }
    };
    const tx = this.db.transaction(write);
    const sqlite = this.db.sqlite;
    if (sqlite) {
      // Take the write lock up front (the batch only writes). The commit is not fsynced on its
      // own (synchronous NORMAL): in WAL mode a process crash loses nothing, a power cut may lose
      // the last call batches, and the next report's FULL commit makes them durable too. One
      // fsync per batch would halve ingestion, and call events are measurements, not reports.
      const before = (this.syncMode ??= Number(sqlite.pragma("synchronous", { simple: true })));
      if (before > 1) sqlite.pragma("synchronous = NORMAL");
      try {
        tx.immediate();
      } finally {
        if (before > 1) sqlite.pragma(`synchronous = ${before}`);
      }
    } else {
      // PostgreSQL: row locks are enough; the store's write lock would queue calls behind report grouping.
      tx.deferred();
    }
    return { calls: batch.calls.length, rollups: batch.rollups.length };
  }

  // ---- answers -----------------------------------------------------------------

  /** Per tool over a window, from the rollups (hour granularity), with feedback coverage from the raw events. */
  toolStats(filter: ToolFilter = {}, now = new Date()): ToolStats {
    const { since, until } = toolWindow(filter, now);
    const where = ["hour >= ?", "hour < ?"];
    const params: unknown[] = [floorHour(since), until];
    if (filter.server_name !== undefined) {
      where.push("server_name = ?");
      params.push(filter.server_name);
    }
    if (filter.client !== undefined) {
      where.push("client_name = ?");
      params.push(filter.client);
    }
    const rows = this.stmt(
      `SELECT server_name, tool_name, ${SUMS}, max(last_call_at) AS last_call_at FROM tool_call_rollups
       WHERE ${where.join(" AND ")} GROUP BY server_name, tool_name
       ORDER BY sum(calls) DESC, server_name, tool_name`,
    ).all(...params) as (SummedRow & { server_name: string; tool_name: string; last_call_at: string })[];
    const items = rows.map((r) => {
      const calls = Number(r.calls);
      const errors = Number(r.errors);
      return {
        server_name: r.server_name,
        tool_name: r.tool_name,
        calls,
        errors,
        error_rate: errorRate(calls, errors),
        ...latency(histogramOf(r)),
        last_call_at: r.last_call_at,
      };
    });
    return { items, coverage: this.coverage({ ...filter, since, until }), since, until };
  }

  /**
   * Sessions that had a failed call in the window (per server: a session id is the proxy's), and
   * how many of them filed a report with that session_id on that server.
   */
  private coverage(f: ToolFilter & { since: string; until: string; tool_name?: string }): Coverage {
    const { where, params } = this.errorWhere(f);
    const row = this.stmt(
      `SELECT count(*) AS sessions,
         coalesce(sum(CASE WHEN EXISTS (SELECT 1 FROM reports r WHERE r.session_id = e.session_id
           AND r.server_name = e.server_name) THEN 1 ELSE 0 END), 0) AS reported
       FROM (SELECT DISTINCT server_name, session_id FROM tool_calls WHERE ${where}) e`,
    ).get(...params) as { sessions: number; reported: number };
    return coverageOf(Number(row.sessions), Number(row.reported));
  }

  /** The failed calls with a session in a window (the partial index tool_calls_errors). */
  private errorWhere(f: ToolFilter & { since: string; until: string; tool_name?: string }) {
    const where = ["outcome <> 'ok'", "session_id IS NOT NULL", "started_at >= ?", "started_at < ?"];
    const params: unknown[] = [f.since, f.until];
    if (f.server_name !== undefined) {
      where.push("server_name = ?");
      params.push(f.server_name);
    }
    if (f.tool_name !== undefined) {
      where.push("tool_name = ?");
      params.push(f.tool_name);
    }
    if (f.client !== undefined) {
      where.push("client_name = ?");
      params.push(f.client);
    }
    return { where: where.join(" AND "), params };
  }

  /** One tool of one server over a window; undefined when no call of it is stored in the window. */
  toolDetail(filter: ToolDetailFilter, now = new Date()): ToolDetail | undefined {
    const { since, until } = toolWindow(filter, now);
    const where = ["server_name = ?", "tool_name = ?", "hour >= ?", "hour < ?"];
    const params: unknown[] = [filter.server_name, filter.tool_name, floorHour(since), until];
    if (filter.client !== undefined) {
      where.push("client_name = ?");
      params.push(filter.client);
    }
    const w = where.join(" AND ");
    const total = this.stmt(`SELECT ${SUMS} FROM tool_call_rollups WHERE ${w}`).get(...params) as SummedRow;
    const calls = Number(total.calls ?? 0);
    if (calls === 0) return undefined;
    const errors = Number(total.errors);

    const clients = this.stmt(
      `SELECT client_name, ${SUMS} FROM tool_call_rollups WHERE ${w}
       GROUP BY client_name ORDER BY sum(calls) DESC, client_name`,
    ).all(...params) as (SummedRow & { client_name: string })[];
    const hours = this.stmt(`SELECT hour, ${SUMS} FROM tool_call_rollups WHERE ${w} GROUP BY hour ORDER BY hour`).all(
      ...params,
    ) as (SummedRow & { hour: string })[];

    const gaps = this.stmt(
      `SELECT g.id, g.title, g.status, g.reports FROM gaps g
       WHERE g.server_name = ? AND g.status <> 'duplicate' AND g.reports > 0
         AND (g.top_tool = ? OR g.id IN (SELECT r.gap_id FROM reports r
           WHERE r.tool_name = ? AND r.server_name = ? AND r.gap_id IS NOT NULL))
       ORDER BY g.rank_key DESC, g.id LIMIT ${TOOL_GAPS_LIMIT}`,
    ).all(filter.server_name, filter.tool_name, filter.tool_name, filter.server_name) as ToolDetail["gaps"];

    const err = this.errorWhere({ ...filter, since, until });
    const sessions = this.stmt(
      `SELECT session_id, min(client_name) AS client_name, count(*) AS errors, min(started_at) AS first_error_at,
         CASE WHEN EXISTS (SELECT 1 FROM reports r WHERE r.session_id = t.session_id AND r.server_name = ?)
           THEN 1 ELSE 0 END AS reported
       FROM tool_calls t WHERE ${err.where} GROUP BY session_id`,
    ).all(filter.server_name, ...err.params) as (SilentSession & { reported: number })[];
    const silent = sessions
      .filter((s) => Number(s.reported) === 0)
      .sort((a, b) => (a.first_error_at < b.first_error_at ? 1 : a.first_error_at > b.first_error_at ? -1 : 0))
      .slice(0, SILENT_SESSIONS_LIMIT)
      .map((s) => ({
        session_id: s.session_id,
        client_name: s.client_name,
        errors: Number(s.errors),
        first_error_at: s.first_error_at,
      }));
    const reported = sessions.length - sessions.filter((s) => Number(s.reported) === 0).length;

    return {
      server_name: filter.server_name,
      tool_name: filter.tool_name,
      calls,
      errors,
      error_rate: errorRate(calls, errors),
      ...latency(histogramOf(total)),
      since,
      until,
      by_client: clients.map((c) => {
        const h = histogramOf(c);
        return {
          client_name: c.client_name === "" ? null : c.client_name,
          calls: Number(c.calls),
          errors: Number(c.errors),
          p50_ms: round(quantileMs(h, 0.5)),
          p95_ms: round(quantileMs(h, 0.95)),
        };
      }),
      trend: hours.map((h) => ({
        hour: h.hour,
        calls: Number(h.calls),
        errors: Number(h.errors),
        p95_ms: round(quantileMs(histogramOf(h), 0.95)),
      })),
      gaps: gaps.map((g) => ({ id: Number(g.id), title: g.title, status: g.status, reports: Number(g.reports) })),
      silent_failures: { ...coverageOf(sessions.length, reported), sessions: silent },
    };
  }

  // ---- retention ---------------------------------------------------------------

  /** Delete raw call events that started before `olderThanIso`; returns how many. Rollups stay. */
  purgeCalls(olderThanIso: string): number {
    const cutoff = canonicalIso(olderThanIso);
    const del = this.stmt(
      `DELETE FROM tool_calls WHERE id IN (SELECT id FROM tool_calls WHERE started_at < ? ORDER BY started_at LIMIT ${PURGE_CHUNK})`,
    );
    let total = 0;
    for (;;) {
      const n = this.db.transaction(() => del.run(cutoff).changes)();
      total += n;
      if (n < PURGE_CHUNK) return total;
    }
  }

  /** Delete rollups of hours that started before `olderThanIso`; returns how many. */
  purgeRollups(olderThanIso: string): number {
    return this.db.transaction(
      () => this.stmt("DELETE FROM tool_call_rollups WHERE hour < ?").run(canonicalIso(olderThanIso)).changes,
    )();
  }

  /**
   * The retention pass `serve` runs: raw events older than `callDays`, rollups older than
   * `rollupDays` (0 = keep forever). On PostgreSQL only one process purges at a time (a session
   * advisory lock): null when another holds it, so several sidecars on one database purge once.
   */
  purgeExpired(options: { callDays: number; rollupDays: number; now?: Date }): PurgeResult | null {
    const release = this.claimRetention();
    if (release === null) return null;
    try {
      const now = (options.now ?? new Date()).getTime();
      const calls = options.callDays > 0 ? this.purgeCalls(new Date(now - options.callDays * DAY_MS).toISOString()) : 0;
      const rollups =
        options.rollupDays > 0 ? this.purgeRollups(new Date(now - options.rollupDays * DAY_MS).toISOString()) : 0;
      return { calls, rollups };
    } finally {
      release();
    }
  }

  /** The retention lock (PostgreSQL); null when another process holds it. SQLite has one writer per file. */
  claimRetention(): (() => void) | null {
    if (this.db.dialect !== "postgres") return () => undefined;
    const got = this.db.prepare(`SELECT pg_try_advisory_lock(${RETENTION_LOCK_CLASS}, 0) AS ok`).get() as {
      ok: boolean;
    };
    if (!got.ok) return null;
    return () => {
      if (this.db.open) this.db.prepare(`SELECT pg_advisory_unlock(${RETENTION_LOCK_CLASS}, 0) AS ok`).get();
    };
  }

  /** Raw events stored (tests, the bench and the CLI's counts). */
  countCalls(): number {
    return Number((this.stmt("SELECT count(*) AS n FROM tool_calls").get() as { n: number }).n);
  }
}

const instances = new WeakMap<FeedbackStore, CallsStore>();

/** The tool-call tables of a store (one instance per store). */
export function callsStore(store: FeedbackStore): CallsStore {
  let c = instances.get(store);
  if (!c) {
    c = new CallsStore(store);
    instances.set(store, c);
  }
  return c;
}
