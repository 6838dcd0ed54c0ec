/**
 * Existing databases: a v3 file (reports, no gaps) is grouped by a resumable
 * backfill. A real `patchworkmcp gaps regroup` child is SIGKILLed mid-pass and
 * a second run finishes the job with every report in exactly one gap; `serve`
 * runs the same pass in the background. Requires `npm run build`.
 */
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FeedbackStore } from "../../src/store/index.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { request } from "../helpers/http.js";
import { CLI, onPostgres, startServe, tempDir } from "../helpers/serve.js";

/** A database as version 3 left it, holding `count` reports about a handful of needs. */
function v3Database(count: number): string {
  // A SQLite file as an older version left it (PostgreSQL databases start at the current schema).
  const path = join(tempDir("pwm-backfill-"), "feedback.db");
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  for (const m of MIGRATIONS.filter((m) => m.version <= 3)) db.exec(m.sql);
  db.pragma("user_version = 3");
  const needs = ["Filter invoices by date range", "Export customers as CSV", "Refund a payment partially"];
  const insert = db.prepare(
    `INSERT INTO reports (created_at, server_name, tool_name, what_i_needed, what_i_tried, gap_type, session_id, resolution)
     VALUES (?, ?, ?, ?, ?, 'missing_tool', ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < count; i++)
      insert.run(
        new Date(Date.UTC(2026, 2, 1 + (i % 28))).toISOString(),
        i % 5 === 0 ? "calendar" : "billing",
        `tool_${i % 3}`,
        `${needs[i % 3]} for run ${i}`,
        `tried tool_${i % 3} with id ${i}`,
        `s-${i % 97}`,
        i % 2 ? "blocked" : null,
      );
  })();
  db.close();
  return path;
}

function consistency(path: string): { unassigned: number; counted: number; mismatched: number; mode: string } {
  const db = new Database(path, { readonly: true });
  try {
    const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      unassigned: one("SELECT count(*) AS n FROM reports WHERE gap_id IS NULL"),
      counted: one("SELECT coalesce(sum(reports), 0) AS n FROM gaps"),
      mismatched: one(
        "SELECT count(*) AS n FROM gaps g WHERE g.reports <> (SELECT count(*) FROM reports r WHERE r.gap_id = g.id)",
      ),
      mode: (db.prepare("SELECT mode FROM grouping_state").get() as { mode: string }).mode,
    };
  } finally {
    db.close();
  }
}

describe.skipIf(onPostgres())("backfill of an older SQLite database", () => {
  it("resumes after the process is SIGKILLed mid-pass and ends with every report in one gap", async () => {
    const total = 20_000;
    const path = v3Database(total);
    const child = spawn(process.execPath, [CLI, "gaps", "regroup", "--db", path, "--batch-size", "10"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.stderr!.setEncoding("utf8");
      child.stderr!.on("data", (d: string) => {
        err += d;
        const m = /grouping backfill: (\d+) of (\d+)/g;
        let last: RegExpExecArray | null = null;
        for (let x = m.exec(err); x; x = m.exec(err)) last = x;
        if (last && Number(last[1]) >= 500) resolve();
      });
      child.once("exit", (code) => reject(new Error(`regroup exited (${code}) before it could be killed:\n${err}`)));
    });
    child.kill("SIGKILL");
    await exited;

    const mid = consistency(path);
    expect(mid.mode).toBe("backfill");
    expect(mid.unassigned).toBeGreaterThan(0);
    expect(mid.unassigned).toBeLessThan(total);
    // What was committed is whole: assigned reports are counted exactly once.
    expect(mid.counted).toBe(total - mid.unassigned);
    expect(mid.mismatched).toBe(0);

    const rerun = spawn(process.execPath, [CLI, "gaps", "regroup", "--db", path], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let rerunErr = "";
    rerun.stderr!.on("data", (d: Buffer) => {
      rerunErr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => rerun.once("exit", resolve));
    expect(code, rerunErr).toBe(0);
    expect(rerunErr).toMatch(/Resuming the backfill pass/);
    expect(consistency(path)).toEqual({ unassigned: 0, counted: total, mismatched: 0, mode: "idle" });

    const store = FeedbackStore.open(path);
    try {
      // Never across servers: every gap holds reports of one server only.
      for (const g of store.gaps.listGaps({}, { limit: 200 }).items)
        expect(store.countReports({ gap_id: g.id, server_name: g.server_name })).toBe(g.reports);
    } finally {
      store.close();
    }
  });

  it("serve groups an existing database in the background and shows the progress", async () => {
    const path = v3Database(3000);
    const server = await startServe({ dbPath: path });
    try {
      // Polled until the pass ends, however long a loaded machine gives the (niced) worker.
      await expect
        .poll(
          async () => {
            const res = await request(`${server.url}/api/gaps?limit=5`);
            expect(res.status).toBe(200);
            return res.body.grouping as { mode: string; done: number; total: number };
          },
          { timeout: 60_000, interval: 10 },
        )
        .toMatchObject({ mode: "idle", done: 3000, total: 3000 });
      const page = await request(`${server.url}/api/feedback?limit=200`);
      expect(page.body.items.every((r: { gap_id: number | null }) => typeof r.gap_id === "number")).toBe(true);
    } finally {
      await server.stop();
    }
    expect(consistency(path)).toEqual({ unassigned: 0, counted: 3000, mismatched: 0, mode: "idle" });
  });
});
