/**
 * A 2xx means the report is on disk: reports acknowledged by a `serve` process
 * that is then SIGKILLed are all there after a restart on the same file.
 * Notes are append-only in the database itself.
 */
import Database from "better-sqlite3";
import { expect, it } from "vitest";
import { WRITE_LOCK_KEY } from "../../src/store/sql/pg-db.js";
import { request, validReport } from "../helpers/http.js";
import { onPostgres, openRawDb, startServe } from "../helpers/serve.js";

it("keeps every acknowledged report across SIGKILL", async () => {
  // 300 concurrent reports from one address: more than the default burst (rate-limit.test.ts).
  const first = await startServe({ args: ["--rate-limit", "0"] });
  const N = 300;
  const acknowledged: number[] = [];
  let halfAcknowledged!: () => void;
  const half = new Promise<void>((resolve) => {
    halfAcknowledged = resolve;
  });
  // Keep the process busy with concurrent writes, then kill it mid-stream.
  const inFlight = Array.from({ length: N }, (_, i) =>
    request(`${first.url}/api/feedback`, { body: validReport({ session_id: `durable-${i}` }) })
      .then((res) => {
        if (res.status === 201) acknowledged.push(res.body.id as number);
        if (acknowledged.length === N / 2) halfAcknowledged();
      })
      .catch(() => undefined),
  );
  // Kill once a good share has been acknowledged, while the rest are still arriving.
  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([
    half,
    Promise.all(inFlight).then(() => {
      throw new Error(`every request settled but only ${acknowledged.length} of ${N} were acknowledged with 201`);
    }),
    new Promise<never>((_, reject) => {
      deadline = setTimeout(
        () => reject(new Error(`only ${acknowledged.length} of ${N} reports were acknowledged within 30 s`)),
        30_000,
      );
    }),
  ]).finally(() => clearTimeout(deadline));
  await first.kill();
  await Promise.all(inFlight);
  expect(acknowledged.length).toBeGreaterThanOrEqual(N / 2);

  const second = await startServe({ dbPath: first.dbPath });
  try {
    const stored = new Set<number>();
    let cursor: string | null = null;
    do {
      const page: { body: { items: { id: number }[]; nextCursor: string | null } } = await request(
        `${second.url}/api/feedback?limit=200${cursor ? `&cursor=${cursor}` : ""}`,
      );
      for (const r of page.body.items) stored.add(r.id);
      cursor = page.body.nextCursor;
    } while (cursor);
    for (const id of acknowledged) expect(stored.has(id), `acknowledged report ${id} is missing`).toBe(true);
  } finally {
    await second.stop();
  }
  // And the database is healthy after the crash: SQLite's file checks out; PostgreSQL holds no
  // lock and no open transaction on this database once both sidecars are gone.
  const db = openRawDb(first.dbPath, { readonly: true });
  try {
    if (db.sqlite) expect(db.sqlite.pragma("integrity_check", { simple: true })).toBe("ok");
    else {
      const here = "(SELECT oid FROM pg_database WHERE datname = current_database())";
      expect(
        db
          .prepare(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'",
          )
          .get(),
      ).toEqual({ n: 0 });
      expect(
        db.prepare(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = ${here}`).get(),
      ).toEqual({ n: 0 });
    }
  } finally {
    db.close();
  }
});

it("refuses UPDATE and DELETE on notes even with raw SQL", async () => {
  const server = await startServe();
  const { body } = await request(`${server.url}/api/feedback`, { body: validReport() });
  await request(`${server.url}/api/feedback/${body.id}/notes`, { body: { body: "keep me" } });
  await server.stop();

  const db = openRawDb(server.dbPath);
  expect(() => db.prepare("UPDATE notes SET body = 'changed'").run()).toThrow(/append-only/);
  expect(() => db.prepare("DELETE FROM notes").run()).toThrow(/append-only/);
  db.sqlite?.pragma("foreign_keys = ON");
  expect(() => db.prepare("DELETE FROM reports WHERE id = ?").run(body.id)).toThrow(/FOREIGN KEY/i);
  expect(db.prepare("SELECT body FROM notes").all()).toEqual([{ body: "keep me" }]);
  db.close();
});

it.runIf(onPostgres())("ingests while another process holds the store's write lock (PostgreSQL)", async () => {
  const server = await startServe();
  const locker = openRawDb(server.dbPath);
  try {
    locker.prepare(`SELECT pg_advisory_lock(${WRITE_LOCK_KEY})`).get();
    // Deferred ingestion takes no write lock on PostgreSQL: sidecars on one database never queue behind each other.
    expect((await request(`${server.url}/api/feedback`, { body: validReport() })).status).toBe(201);
    locker.prepare(`SELECT pg_advisory_unlock(${WRITE_LOCK_KEY})`).get();
  } finally {
    locker.close();
    await server.stop();
  }
});

// SQLite's single writer: a lock held by another process on the file.
it.skipIf(onPostgres())(
  "answers 503 with Retry-After, not 500, while another process holds the write lock",
  async () => {
    const server = await startServe();
    try {
      const locker = new Database(server.dbPath);
      locker.prepare("BEGIN IMMEDIATE").run();
      const res = await request(`${server.url}/api/feedback`, { body: validReport() });
      locker.prepare("ROLLBACK").run();
      locker.close();
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe("storage_unavailable");
      expect(res.headers.get("retry-after")).toBe("1");
      // Once the lock is gone, writes succeed again.
      expect((await request(`${server.url}/api/feedback`, { body: validReport() })).status).toBe(201);
    } finally {
      await server.stop();
    }
  },
);
