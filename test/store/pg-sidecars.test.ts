/**
 * Several `serve` processes on one PostgreSQL database (issue 16): ingestion side by side with
 * idempotency across processes, grouping done once (every report in exactly one gap, every count
 * right), and a process SIGKILLed mid-burst losing no acknowledged report and leaving nothing
 * locked or half-done. In the `postgres` project only (vitest.config.ts): a database per test.
 */
import { afterAll, describe, expect, it } from "vitest";
import { gapConsistency, groupingSettled } from "../helpers/gaps.js";
import { request } from "../helpers/http.js";
import { FeedbackStore } from "../../src/store/index.js";
import { MIGRATION_LOCK_KEY, PG_MIGRATIONS } from "../../src/store/migrations-pg.js";
import { INGEST_LOCK_KEY } from "../../src/store/sql/pg-db.js";
import type { SqlDb } from "../../src/store/sql/db.js";
import { openRawDb, type ServeProcess, startServe, testDbPath } from "../helpers/serve.js";

const running: ServeProcess[] = [];
afterAll(async () => {
  for (const s of running.splice(0)) await s.stop();
});
async function sidecar(url: string): Promise<ServeProcess> {
  const s = await startServe({
    dbPath: url,
    env: { FEEDBACK_RATE_LIMIT: "0", FEEDBACK_MAX_BYTES_PER_SERVER_DAY: "0" },
  });
  running.push(s);
  return s;
}

const NEEDS = [
  "Filter invoices by a date range",
  "Export customers as CSV",
  "Refund part of a payment",
  "Cancel a subscription",
];
const report = (i: number) => ({
  server_name: i % 5 === 0 ? "calendar" : "billing",
  tool_name: `tool_${i % 4}`,
  gap_type: "missing_parameter" as const,
  what_i_needed: `${NEEDS[i % 4]} for run ${1000 + i}`,
  what_i_tried: `Called tool_${i % 4} with page=${i}`,
  session_id: `s-${i}`,
  tools_available: [] as string[],
});
const post = (s: ServeProcess, i: number, key?: string) =>
  request(`${s.url}/api/feedback`, { body: report(i), ...(key ? { headers: { "idempotency-key": key } } : {}) });

/** gapConsistency, plus nothing left locked or open on this database (read once its sidecars are stopped). */
function consistency(url: string) {
  const db = openRawDb(url);
  try {
    const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      ...gapConsistency(url),
      advisoryLocks: one(
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      ),
      openTransactions: one(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'",
      ),
    };
  } finally {
    db.close();
  }
}

/**
 * Wait (up to `ms`) until at least `n` sessions of this database wait for an advisory lock (those
 * whose query matches `like`, when given); `what` names them in the failure.
 */
async function untilAdvisoryWaiters(db: SqlDb, n: number, what: string, like = "%", ms = 15_000): Promise<void> {
  const waiting = () =>
    (
      db
        .prepare(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory' AND query LIKE ?",
        )
        .get(like) as { n: number }
    ).n;
  const deadline = Date.now() + ms;
  while (waiting() < n) {
    if (Date.now() > deadline) throw new Error(`only ${waiting()} of ${n} ${what} waited for the lock`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("two sidecars on one PostgreSQL database", () => {
  it("sidecars starting at once on an empty database wait for one migration, creating nothing before it", async () => {
    const url = testDbPath();
    const holder = openRawDb(url);
    const watch = openRawDb(url);
    try {
      // Hold the migration lock: every sidecar must queue behind it before it touches the schema.
      holder.exec("BEGIN");
      holder.prepare(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`).get();
      const starting = Promise.all([sidecar(url), sidecar(url), sidecar(url)]);
      await untilAdvisoryWaiters(watch, 3, "sidecars", "%", 30_000);
      const tables = watch.prepare("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'").get();
      expect(tables).toEqual({ n: 0 });
      holder.exec("COMMIT");
      for (const s of await starting) expect((await request(`${s.url}/healthz`)).status).toBe(200);
      expect(watch.prepare("SELECT count(*) AS n FROM schema_migrations").get()).toEqual({ n: PG_MIGRATIONS.length });
    } finally {
      holder.close();
      watch.close();
    }
  });

  it("ingest side by side: a key sent to both is stored once, and every report lands in exactly one gap", async () => {
    const url = testDbPath();
    const a = await sidecar(url);
    const b = await sidecar(url);
    const N = 200;
    // Each keyed report goes to both sidecars at once; unkeyed ones alternate.
    const keyed = await Promise.all(
      Array.from({ length: N / 2 }, (_, i) => Promise.all([post(a, i, `k-${i}`), post(b, i, `k-${i}`)])),
    );
    const plain = await Promise.all(Array.from({ length: N / 2 }, (_, i) => post(i % 2 ? a : b, N + i)));
    // One of the pair stored it (201), the other answered with the same id as a retry (200).
    for (const [x, y] of keyed) {
      expect([x.status, y.status].sort()).toEqual([200, 201]);
      expect(x.body.id).toBe(y.body.id);
    }
    for (const p of plain) expect(p.status).toBe(201);
    const ids = new Set([...keyed.map(([x]) => x.body.id as number), ...plain.map((p) => p.body.id as number)]);
    expect(ids.size).toBe(N);
    await groupingSettled(a.url);
    await groupingSettled(b.url);
    // Both sidecars serve the same gaps.
    const [ga, gb] = await Promise.all([
      request(`${a.url}/api/gaps?limit=200`),
      request(`${b.url}/api/gaps?limit=200`),
    ]);
    expect(ga.body.items.map((g: { id: number }) => g.id)).toEqual(gb.body.items.map((g: { id: number }) => g.id));
    await a.stop();
    await b.stop();
    expect(consistency(url)).toEqual({
      reports: N,
      unassigned: 0,
      inDeadGap: 0,
      mismatched: 0,
      counted: N,
      advisoryLocks: 0,
      openTransactions: 0,
    });
  });

  it("a sidecar SIGKILLed mid-burst loses no acknowledged report and leaves nothing locked", async () => {
    const url = testDbPath();
    const a = await sidecar(url);
    const b = await sidecar(url);
    const acknowledged: number[] = [];
    let killed = false;
    const burst = Array.from(
      { length: 300 },
      (_, i) =>
        post(i % 2 ? a : b, i)
          .then((res) => {
            if (res.status === 201) acknowledged.push(res.body.id as number);
          })
          .catch(() => undefined), // requests to the killed sidecar fail
    );
    while (acknowledged.length < 100) await new Promise((r) => setTimeout(r, 5));
    await a.kill();
    killed = true;
    await Promise.all(burst);
    expect(killed).toBe(true);
    // The survivor keeps ingesting and grouping, the restarted one joins in.
    expect((await post(b, 9999)).status).toBe(201);
    const again = await sidecar(url);
    await groupingSettled(b.url);
    await groupingSettled(again.url);
    await b.stop();
    await again.stop();
    const stored = consistency(url);
    expect(stored).toMatchObject({ unassigned: 0, inDeadGap: 0, mismatched: 0, advisoryLocks: 0, openTransactions: 0 });
    expect(stored.counted).toBe(stored.reports);
    const db = openRawDb(url);
    try {
      const have = new Set((db.prepare("SELECT id FROM reports").all() as { id: number }[]).map((r) => r.id));
      for (const id of acknowledged) expect(have.has(id), `acknowledged report ${id} is missing`).toBe(true);
    } finally {
      db.close();
    }
  });

  it("the grouping watermark never passes a report another sidecar is still storing", async () => {
    const url = testDbPath();
    const a = await sidecar(url);
    const first = await post(a, 1);
    await groupingSettled(a.url);
    // Another sidecar's ingestion in flight, exactly as src/store ingests: the shared lock, then the row.
    const other = openRawDb(url);
    try {
      other.exec("BEGIN");
      other.prepare(`SELECT pg_advisory_xact_lock_shared(${INGEST_LOCK_KEY})`).get();
      const held = other
        .prepare(
          "INSERT INTO reports (created_at, server_name, what_i_needed, what_i_tried, gap_type) VALUES (?, 'billing', ?, 'x', 'missing_tool') RETURNING id",
        )
        .get(new Date().toISOString(), report(2).what_i_needed) as { id: number };
      // A later report commits first: its id is higher, and it is visible before the held one.
      const later = await post(a, 3);
      expect(later.body.id).toBeGreaterThan(held.id);
      expect(held.id).toBeGreaterThan(first.body.id as number);
      // The worker waits for the transaction in flight instead of moving past its id.
      const watch = openRawDb(url);
      try {
        await untilAdvisoryWaiters(watch, 1, "grouping workers");
        const g = (await request(`${a.url}/healthz`)).body.grouping as { assigned_upto: number };
        expect(g.assigned_upto).toBeLessThan(held.id);
      } finally {
        watch.close();
      }
      other.exec("COMMIT");
    } finally {
      other.close();
    }
    await groupingSettled(a.url);
    expect(consistency(url)).toMatchObject({ reports: 3, unassigned: 0, mismatched: 0, counted: 3 });
  });

  it("an ingest batch takes the ingest lock before it draws an id from the sequence", async () => {
    const url = testDbPath();
    const a = await sidecar(url);
    const first = await post(a, 1);
    const admin = openRawDb(url);
    const watch = openRawDb(url);
    try {
      const sequence = () => (admin.prepare("SELECT last_value AS n FROM reports_id_seq").get() as { n: number }).n;
      // The grouping worker's side of the protocol: the lock held exclusively while it reads the newest id.
      admin.exec("BEGIN");
      admin.prepare(`SELECT pg_advisory_xact_lock(${INGEST_LOCK_KEY})`).get();
      const before = sequence();
      const pending = post(a, 2);
      await untilAdvisoryWaiters(watch, 1, "ingest statements", "%INSERT INTO reports%");
      expect(sequence()).toBe(before); // waiting, and no id drawn yet
      admin.exec("COMMIT");
      const second = await pending;
      expect(second.status).toBe(201);
      expect(second.body.id).toBeGreaterThan(first.body.id as number);
    } finally {
      watch.close();
      admin.close();
    }
  });

  it("claims a gap's automatic analysis for one sidecar at a time, and a dead sidecar's claim goes with it", async () => {
    const url = testDbPath();
    const a = FeedbackStore.open(url);
    const b = FeedbackStore.open(url);
    try {
      const gap = a.insertReport(report(1)).gap_id!;
      const release = a.gaps.analyses.claimForAnalysis(gap);
      expect(release).not.toBeNull();
      expect(b.gaps.analyses.claimForAnalysis(gap)).toBeNull();
      release!();
      const again = b.gaps.analyses.claimForAnalysis(gap);
      expect(again).not.toBeNull();
      b.close(); // the connection ends: the server drops its claim
      expect(a.gaps.analyses.claimForAnalysis(gap)).not.toBeNull();
    } finally {
      a.close();
      b.close();
    }
  });

  it("a sidecar outlives its database connections being cut: it answers 503 or reconnects, never crashes", async () => {
    const url = testDbPath();
    const a = await sidecar(url);
    expect((await post(a, 1)).status).toBe(201);
    expect((await request(`${a.url}/api/feedback?limit=5`)).status).toBe(200); // opens the read connections
    await groupingSettled(a.url);
    const admin = openRawDb(url);
    try {
      const cut = () =>
        admin
          .prepare(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
          )
          .get() as { n: number };
      expect(cut().n).toBeGreaterThanOrEqual(2); // the request path's connection and the grouping worker's
      // Every answer is a 201 or a 503 with Retry-After, and the connection is remade.
      const statuses = new Set<number>();
      for (let i = 2; i < 8; i++) {
        const res = await post(a, i);
        statuses.add(res.status);
        if (res.status === 503) expect(res.headers.get("retry-after")).toBe("1");
      }
      expect([...statuses].every((s) => s === 201 || s === 503)).toBe(true);
      expect(statuses.has(201)).toBe(true);
      // The same for list pages, read on connections of their own (src/store/sql/pg-reader.ts).
      const pages = new Set<number>();
      for (let i = 0; i < 6; i++) {
        const res = await request(`${a.url}/api/feedback?limit=5`);
        pages.add(res.status);
        if (res.status === 503) expect(res.headers.get("retry-after")).toBe("1");
      }
      expect([...pages].every((s) => s === 200 || s === 503)).toBe(true);
      expect(pages.has(200)).toBe(true);
      expect((await request(`${a.url}/healthz`)).status).toBe(200);
      await groupingSettled(a.url);
      expect(a.proc.exitCode).toBeNull();
      await a.stop();
      expect(consistency(url)).toMatchObject({ unassigned: 0, mismatched: 0, openTransactions: 0 });
    } finally {
      admin.close();
    }
  });

  it("a transaction whose connection is lost fails as a whole, never finishing on the new connection", () => {
    const url = testDbPath();
    const store = FeedbackStore.open(url);
    const admin = openRawDb(url);
    try {
      store.db.exec("CREATE TABLE t (n integer)");
      const insert = store.db.prepare("INSERT INTO t (n) VALUES (?)");
      const run = store.db.transaction(() => {
        insert.run(1);
        admin
          .prepare(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
          )
          .all();
        insert.run(2); // meets the cut connection
        insert.run(3); // would autocommit on a new one: must fail instead
      });
      expect(() => run()).toThrow();
      expect(admin.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
      // The next statement reconnects.
      insert.run(4);
      expect(admin.prepare("SELECT n FROM t").all()).toEqual([{ n: 4 }]);
    } finally {
      admin.close();
      store.close();
    }
  });
});
