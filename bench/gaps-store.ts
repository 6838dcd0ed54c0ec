/**
 * npm run bench:gaps-store — the gap store at scale, against real SQLite files.
 *
 * 1. Backfill: a database as migration 3 left it, with BENCH_GAP_ROWS reports
 *    (default 1,000,000) about BENCH_GAP_NEEDS needs (default 100,000, about 10
 *    reports each, texts templated with run ids), grouped by the resumable pass:
 *    total time, and the cost per report near the start and near the end.
 * 2. GET /api/gaps?limit=50 (score order) against a real `serve` child on that
 *    database, 10 connections, BENCH_SECONDS (default 10).
 *
 * The grouping engine in use decides how many gaps form; the figures are printed.
 *
 * BENCH_GAPS_STORE_DB=path keeps the filled database: when the file does not exist it is
 * seeded and backfilled there and left in place; when it exists it is reused as it is
 * (step 1 is skipped) and only step 2 runs, so the HTTP figures can be re-measured
 * without the minutes-long fill. The reused file must come from a run with the same
 * BENCH_GAP_ROWS/BENCH_GAP_NEEDS for the figures to mean the same thing.
 *
 * BENCH_DB=postgres measures PostgreSQL instead: the SQLite database of step 1 (filled, or
 * reused from BENCH_GAPS_STORE_DB) is copied with COPY … FROM STDIN into a PostgreSQL
 * database (bench/pg-load.ts; grouping 1M reports again through the store would take hours),
 * and step 2 runs against `serve --db postgres://…` with one more page, the filtered report
 * list GET /api/feedback?limit=50&server_name=server-7. The database is on a private server
 * started for the bench (initdb in a temporary directory, loopback only, removed at the end),
 * or the one BENCH_PG_URL names, whose contents are REPLACED (its role must be a superuser:
 * the copy sets session_replication_role). The copy's time is printed per table.
 */
import autocannon from "autocannon";
import Database from "better-sqlite3";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { FeedbackStore } from "../src/store/index.js";
import { MIGRATIONS } from "../src/store/migrations.js";
import { startServe, tempDir } from "../test/helpers/serve.js";
import { benchBackend, benchPostgres, loadSqliteIntoPg } from "./pg-load.js";

const rows = Number(process.env.BENCH_GAP_ROWS ?? 1_000_000);
const needs = Number(process.env.BENCH_GAP_NEEDS ?? 100_000);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);

const CONSONANTS = "bcdfghjklmnprstvwxyz";
const SYLLABLES = [...CONSONANTS].flatMap((c) => [..."aeiou"].map((v) => c + v));
/** Letter-only words (numbers are normalised away by grouping), 10,000 of them. */
const word = (j: number): string => SYLLABLES[j % 100]! + SYLLABLES[Math.floor(j / 100) % 100]!;

function seedV3(path: string): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  for (const m of MIGRATIONS.filter((m) => m.version <= 3)) db.exec(m.sql);
  db.pragma("user_version = 3");
  const insert = db.prepare(
    `INSERT INTO reports (created_at, server_name, tool_name, what_i_needed, what_i_tried, gap_type, suggestion,
       resolution, agent_model, session_id, client_type)
     VALUES (?, ?, ?, ?, ?, 'missing_parameter', ?, ?, ?, ?, ?)`,
  );
  const start = Date.now() - 60 * 86_400_000;
  for (let n = 0; n < rows; n += 10_000) {
    db.transaction(() => {
      for (let i = n; i < Math.min(n + 10_000, rows); i++) {
        const k = (i * 7919) % needs; // spread each need over the whole id range
        const [a, b, c] = [word(k % 10_000), word(Math.floor(k / 10_000) * 37 + 11), word((k * 13) % 10_000)];
        insert.run(
          new Date(start + (i / rows) * 60 * 86_400_000).toISOString(),
          `server-${k % 20}`,
          `${a}_${b}`,
          `Needed to ${a} the ${b} by ${c} for run ${i}`,
          `Called ${a}_${b} with page=${i % 97}; nothing about ${c}`,
          `Add a ${c} parameter to ${a}_${b}`,
          ["blocked", "partial", "worked_around"][i % 3],
          i % 2 ? "claude-sonnet-4-5" : "gpt-5",
          `session-${Math.floor(i / 3)}`,
          ["claude-desktop", "cursor", "claude-code"][i % 3],
        );
      }
    })();
  }
  db.close();
}

async function main(): Promise<void> {
  const kept = process.env.BENCH_GAPS_STORE_DB;
  const dir = kept ? undefined : tempDir("pwm-bench-gaps-");
  const dbPath = kept ?? join(dir!, "feedback.db");
  if (kept && existsSync(kept)) {
    console.log(`bench:gaps-store — reusing the filled database ${dbPath} (BENCH_GAPS_STORE_DB)`);
    const store = FeedbackStore.open(dbPath);
    console.log(`${store.gaps.countGaps()} gaps`);
    store.close();
  } else {
    console.log(`bench:gaps-store — ${rows} reports about ${needs} needs, db ${dbPath}`);
    fill(dbPath);
  }
  if (benchBackend() === "postgres") await onPostgres(dbPath);
  else await measure(dbPath, SQLITE_PAGES);
  if (dir) rmSync(dir, { recursive: true, force: true });
}

const SQLITE_PAGES = [
  "/api/gaps?limit=50",
  "/api/gaps?limit=50&server_name=server-7",
  "/api/gaps?limit=50&sort=reports",
];
const PG_PAGES = [...SQLITE_PAGES, "/api/feedback?limit=50&server_name=server-7"];

async function onPostgres(sqlitePath: string): Promise<void> {
  const pg = await benchPostgres();
  try {
    const url = await pg.newDatabase();
    console.log(`copying ${sqlitePath} into PostgreSQL on ${pg.where}`);
    const load = await loadSqliteIntoPg(sqlitePath, url, console.log);
    const copied = load.tables.reduce((n, t) => n + t.rows, 0);
    console.log(
      `loaded ${copied} rows in ${load.totalSeconds.toFixed(1)} s (copy ${load.tables.reduce((n, t) => n + t.seconds, 0).toFixed(1)} s, ` +
        `indexes ${load.indexSeconds.toFixed(1)} s, VACUUM ANALYZE ${load.vacuumSeconds.toFixed(1)} s); ` +
        `not copied (SQLite only): ${load.skipped.join(", ")}`,
    );
    await measure(url, PG_PAGES);
  } finally {
    await pg.stop();
  }
}

function fill(dbPath: string): void {
  let t = Date.now();
  seedV3(dbPath);
  console.log(`seeded a version-3 database in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  const store = FeedbackStore.open(dbPath);
  t = Date.now();
  const samples: { done: number; ms: number }[] = [];
  let last = Date.now();
  store.gaps.runPending({
    batchSize: 2000,
    onProgress: (p) => {
      const now = Date.now();
      samples.push({ done: p.done, ms: now - last });
      last = now;
      if (p.done % 100_000 < 2000)
        console.log(`  backfill ${p.done} of ${p.total} (${((now - t) / 1000).toFixed(0)} s)`);
    },
  });
  const total = (Date.now() - t) / 1000;
  const perReport = (from: number, to: number) => {
    const s = samples.filter((x) => x.done > from && x.done <= to);
    return ((s.reduce((a, x) => a + x.ms, 0) / (s.length * 2000)) * 1000).toFixed(0);
  };
  console.log(
    `backfill: ${rows} reports into ${store.gaps.countGaps()} gaps in ${total.toFixed(1)} s (${Math.round(rows / total)} reports/s); ` +
      `µs per report at 0-20k stored: ${perReport(0, 20_000)}, at the last 20k: ${perReport(rows - 20_000, rows)}`,
  );
  // A steady-state server, not one catching up the search index of a million raw inserts.
  store.indexPending();
  store.db.sqlite!.pragma("wal_checkpoint(TRUNCATE)");
  store.close();
}

async function measure(dbPath: string, pages: readonly string[]): Promise<void> {
  const server = await startServe({ dbPath });
  for (const path of pages) {
    const r = await autocannon({ url: `${server.url}${path}`, connections: 10, duration: seconds });
    console.log(
      `GET ${path}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms (${r.non2xx + r.errors} errors/non-2xx)`,
    );
  }
  await server.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
