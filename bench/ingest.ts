/**
 * npm run bench:ingest — ingestion and list throughput against a real `serve`
 * child process with a real SQLite file (WAL, synchronous=FULL).
 *
 * 1. POST /api/feedback at each of BENCH_POST_CONNECTIONS (default 10, then 50; bench/connections.ts
 *    says why both): req/s, p50, p99; then how long the grouping worker
 *    (deferred grouping, src/gaps/deferred.ts) took to assign the reports still pending when
 *    the burst ended, and at what rate.
 * 2. GET /api/feedback?limit=50&server_name=… at 100k and at 1M stored rows.
 *
 * Env: BENCH_SECONDS (default 10), BENCH_ROWS (default "100000,1000000"; "" skips the
 * list runs), BENCH_LIMITS ("high" by default: the rate limit and the daily byte cap stay
 * on, set far above what the bench sends, so their cost is in the figures; "off" turns
 * them off to compare).
 *
 * BENCH_PRIVACY (default "all"): step 1 once per privacy mode, in one run, each on a fresh
 * database — `off`, `secrets`, `secrets+pii` (serve --privacy), then `secrets+pii` with a report
 * that carries an email, a phone number, a card number, an IP address and two tokens (every
 * rule family fires) — and the scrubber's own cost per report in this process. One mode
 * ("off", "secrets", "secrets+pii") runs only that one.
 *
 * BENCH_DB=postgres runs step 1 against PostgreSQL (`serve --db postgres://…`) instead: on a
 * private server started for the bench (test/helpers/postgres.ts: initdb in a temporary
 * directory, loopback only, removed at the end), or on the database BENCH_PG_URL names (used
 * as it is: the bench adds its reports to it). Then the same POST load on two `serve`
 * processes on one database (a fresh one on the private server), one autocannon instance of
 * 10 connections per process, both at once: each process's figures, the combined POST/s and
 * its ratio to the one-process figure. Step 2 is SQLite-only here (BENCH_ROWS must be
 * empty or unset): the 1M-row list pages on PostgreSQL are in `BENCH_DB=postgres npm run
 * bench:gaps-store`, which loads them with COPY instead of through the store.
 */
import autocannon from "autocannon";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { FeedbackPayload } from "../src/feedback/index.js";
import { isPrivacyMode, PRIVACY_MODES, type PrivacyMode, scrubReport } from "../src/privacy/index.js";
import { FeedbackStore } from "../src/store/index.js";
import { startServe, tempDir } from "../test/helpers/serve.js";
import { benchBackend, benchPostgres } from "./pg-load.js";
import { postConnections } from "./connections.js";
import { diskLine } from "./disk.js";
import { seedTo, syntheticReport } from "./seed.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = postConnections();
const backend = benchBackend();
if (backend === "postgres" && process.env.BENCH_ROWS)
  throw new Error(
    "BENCH_ROWS is for SQLite only: with BENCH_DB=postgres the list pages are measured by bench:gaps-store",
  );
const rowTargets = (process.env.BENCH_ROWS ?? "100000,1000000").split(",").filter(Boolean).map(Number);
const limits = process.env.BENCH_LIMITS ?? "high";
if (limits !== "high" && limits !== "off") throw new Error(`BENCH_LIMITS must be "high" or "off", not "${limits}"`);
// One client at ~10,000 reports/s would be refused by the defaults (20/s, 50 MB per server per day).
const limitEnv: Record<string, string> =
  limits === "off"
    ? { FEEDBACK_RATE_LIMIT: "0", FEEDBACK_MAX_BYTES_PER_SERVER_DAY: "0" }
    : {
        FEEDBACK_RATE_LIMIT: "1000000",
        FEEDBACK_RATE_LIMIT_BURST: "1000000",
        FEEDBACK_MAX_BYTES_PER_SERVER_DAY: "1000gb",
      };

const privacyChoice = process.env.BENCH_PRIVACY ?? "all";
if (privacyChoice !== "all" && !isPrivacyMode(privacyChoice))
  throw new Error(`BENCH_PRIVACY must be "all" or one of ${PRIVACY_MODES.join(", ")}, not "${privacyChoice}"`);

/** The synthetic report with something for every rule family (tokens built here, never stored in the repo). */
function reportWithSecrets(): FeedbackPayload {
  const plain = syntheticReport(1);
  return {
    ...plain,
    what_i_tried: `${plain.what_i_tried}; with Authorization: Bearer ${"tk".repeat(10)}42 and ghp_${"a1B2".repeat(9)}`,
    user_goal: "Refund jane.doe@example.com (+44 20 7946 0958), card 4111 1111 1111 1111, from 203.0.113.9",
  };
}

/** Microseconds per report for scrubReport in this process (median of 5 rounds of 2000). */
function scrubCost(payload: FeedbackPayload, mode: PrivacyMode): number {
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) scrubReport({ ...payload, session_id: `s-${i}` }, mode);
    rounds.push(((performance.now() - t0) / 2000) * 1000);
  }
  return rounds.sort((a, b) => a - b)[2]!;
}

async function run(title: string, opts: autocannon.Options): Promise<autocannon.Result> {
  const result = await autocannon({ connections: 10, duration: seconds, ...opts });
  const non2xx = result.non2xx + result.errors + result.timeouts;
  console.log(
    `${title}: ${Math.round(result.requests.average)} req/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms` +
      ` (${result.requests.total} requests, ${non2xx} errors/non-2xx)`,
  );
  return result;
}

interface Grouping {
  pending: number;
  assigned_upto: number;
  latest_id: number;
}

/** Poll /healthz until the grouping worker has assigned every stored report; print the lag it had and the rate. */
async function catchUp(url: string): Promise<void> {
  const read = async (): Promise<Grouping> =>
    ((await (await fetch(`${url}/healthz`)).json()) as { grouping: Grouping }).grouping;
  const t0 = performance.now();
  const first = await read();
  let g = first;
  while (g.pending > 0) {
    await new Promise((r) => setTimeout(r, 20));
    g = await read();
  }
  const s = (performance.now() - t0) / 1000;
  console.log(
    `grouping caught up ${s.toFixed(2)} s after the burst: ${first.pending} of ${first.latest_id} reports were pending` +
      (first.pending > 0 ? `, assigned at ${Math.round(first.pending / s)} reports/s` : ""),
  );
}

async function main(): Promise<void> {
  const dir = tempDir("pwm-bench-");
  const dbPath = join(dir, "feedback.db");
  console.log(
    `bench:ingest — ${seconds}s per run, ${connections.join(" and ")} connections, ingestion limits ${limits}, db ${dbPath}`,
  );
  console.log(diskLine(dir));

  const plans: { mode: PrivacyMode; payload: FeedbackPayload; what: string }[] =
    privacyChoice === "all"
      ? [
          ...PRIVACY_MODES.map((mode) => ({ mode, payload: syntheticReport(1), what: "plain report" })),
          { mode: "secrets+pii", payload: reportWithSecrets(), what: "report with secrets and PII" },
        ]
      : [{ mode: privacyChoice as PrivacyMode, payload: syntheticReport(1), what: "plain report" }];
  const rates: Record<string, number> = {};
  for (const plan of plans) {
    // A fresh database per mode, so no mode pays for a bigger file than the one before it (its
    // connection counts run one after the other on it).
    const planDb = plans.length === 1 ? dbPath : join(dir, `ingest-${plan.mode}-${plan.what.length}.db`);
    const server = await startServe({ dbPath: planDb, env: { ...limitEnv, FEEDBACK_PRIVACY: plan.mode } });
    for (const c of connections) {
      const result = await run(`POST /api/feedback, privacy ${plan.mode}, ${plan.what}, ${c} connections`, {
        url: `${server.url}/api/feedback`,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(plan.payload),
        connections: c,
      });
      rates[`${plan.mode} ${plan.what}, ${c} connections`] = result.requests.average;
      await catchUp(server.url);
    }
    await server.stop();
  }
  console.log(diskLine(dir, "disk after the POST runs"));
  for (const c of connections) {
    const off = rates[`off plain report, ${c} connections`];
    if (off === undefined) continue;
    for (const [key, rate] of Object.entries(rates))
      if (key.endsWith(`, ${c} connections`) && !key.startsWith("off "))
        console.log(`privacy ${key}: ${(rate / off).toFixed(2)}× the off figure`);
  }
  for (const plan of plans)
    if (plan.mode !== "off")
      console.log(
        `scrubReport, ${plan.mode}, ${plan.what} (${JSON.stringify(plan.payload).length} bytes): ` +
          `${scrubCost(plan.payload, plan.mode).toFixed(1)} µs per report in-process`,
      );

  for (const target of rowTargets) {
    const store = FeedbackStore.open(dbPath);
    const t0 = Date.now();
    const added = seedTo(store, target);
    store.indexPending(); // a steady-state server, not one catching up its search index
    store.db.sqlite!.pragma("wal_checkpoint(TRUNCATE)");
    store.close();
    console.log(`seeded ${added} rows to reach ${target} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const server = await startServe({ dbPath });
    await run(`GET /api/feedback?limit=50&server_name=server-7 at ${target} rows`, {
      url: `${server.url}/api/feedback?limit=50&server_name=server-7`,
    });
    await run(`GET /api/feedback?limit=50&gap_type=missing_tool&resolution=blocked at ${target} rows`, {
      url: `${server.url}/api/feedback?limit=50&gap_type=missing_tool&resolution=blocked`,
    });
    await server.stop();
  }
  rmSync(dir, { recursive: true, force: true });
}

/** The one-process run's POST load, aimed at a server's URL. */
const postLoad = (serverUrl: string): autocannon.Options => ({
  url: `${serverUrl}/api/feedback`,
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(syntheticReport(1)),
});

/** Step 1 on PostgreSQL: one process, then two processes on one database. */
async function mainPg(): Promise<void> {
  const pg = await benchPostgres();
  try {
    console.log(
      `bench:ingest — ${seconds}s per run, 10 connections, ingestion limits ${limits}, db PostgreSQL on ${pg.where}`,
    );
    const url = await pg.newDatabase();
    const server = await startServe({ dbPath: url, env: limitEnv });
    const one = await run("POST /api/feedback (1 process)", postLoad(server.url));
    await catchUp(server.url);
    await server.stop();

    const shared = await pg.newDatabase();
    const servers = await Promise.all([1, 2].map(() => startServe({ dbPath: shared, env: limitEnv })));
    const results = await Promise.all(
      servers.map((s, i) => run(`POST /api/feedback (process ${i + 1} of 2, port ${s.port})`, postLoad(s.url))),
    );
    const combined = results.reduce((sum, r) => sum + r.requests.average, 0);
    console.log(
      `POST /api/feedback on 2 processes, one database: ${Math.round(combined)} req/s combined, ` +
        `${(combined / one.requests.average).toFixed(2)}× one process`,
    );
    await catchUp(servers[0]!.url);
    await Promise.all(servers.map((s) => s.stop()));
  } finally {
    await pg.stop();
  }
}

(backend === "postgres" ? mainPg() : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
