/**
 * `patchworkmcp migrate`: a SQLite database built through the store (reports on several servers,
 * notes, drafts, human merges and splits, a PATCHed gap, keys, settings) is copied into a real
 * PostgreSQL server by the real CLI, then read back through FeedbackStore.open(url). Also: a
 * copy SIGKILLed mid-table resumes, a target holding other data is refused, an unmigrated source
 * is refused untouched, and a password in the URL is never printed. Needs `npm run build`.
 */
import Database from "better-sqlite3";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { inputOf, loadCorpus } from "../../bench/gaps/evaluate.js";
import { parseFeedback, type FeedbackPayload } from "../../src/feedback/index.js";
import { callBatchSchema } from "../../src/analytics/index.js";
import { alertStore, autonomyOf, callsStore, FeedbackStore, readSetting, writeSetting } from "../../src/store/index.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { aptAvailable, locatePgBin, type PostgresServer, startPostgres } from "../helpers/postgres.js";
import { CLI, tempDir } from "../helpers/serve.js";

const unavailable = !locatePgBin() && !aptAvailable();
const PASSWORD = "s3cr3t-migrate-pw";

function payload(input: Record<string, unknown>): FeedbackPayload {
  const parsed = parseFeedback(input);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.payload;
}

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function migrate(args: string[], env: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [CLI, "migrate", ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The URL with a password (the harness trusts loopback logins, so it is never checked, only carried). */
const withPassword = (url: string) => url.replace("postgres://patchwork@", `postgres://patchwork:${PASSWORD}@`);

describe.skipIf(unavailable)("patchworkmcp migrate", () => {
  let server: PostgresServer;
  let dir: string;
  let source: string;
  let key: string;
  let revokedKey: string;
  let maxReport: number;
  let maxGap: number;

  beforeAll(async () => {
    server = await startPostgres({ maxConnections: 50 });
    dir = tempDir("pwm-migrate-");
    source = join(dir, "feedback.db");
    const s = FeedbackStore.open(source);
    try {
      // Every corpus report, four times over with different sessions and clients: ~1,700 reports on several servers.
      const corpus = loadCorpus("corpus.jsonl");
      for (let round = 0; round < 4; round++)
        s.insertMany(
          corpus.map((r, i) => ({
            payload: payload({
              ...inputOf(r),
              ...(r.resolution ? { resolution: r.resolution } : {}),
              session_id: `sess-${round}-${i % 37}`,
              client_type: ["claude-code", "cursor", "claude-desktop"][i % 3],
              agent_model: round % 2 ? "claude-sonnet-4-6" : "gpt-5.4",
              server_version: `1.${round}.0`,
              tools_available: ["list_files", "read_file"],
            }),
            idempotencyKey: `corpus-${round}-${r.id}`,
          })),
        );
      maxReport = s.countReports();
      expect(new Set(s.listReports({}, { limit: 200 }).items.map((r) => r.server_name)).size).toBeGreaterThan(1);
      for (const id of [1, 2, 3, 50, 400]) s.addNote(id, `looked at report ${id}`, "ana");
      s.addNote(1, "second note");
      // Gaps: the two largest gaps of one server merged by a human, another split, one PATCHed.
      const big = s.gaps.listGaps({ server_name: "storage" }, { sort: "reports", limit: 10 }).items;
      expect(big.length).toBeGreaterThan(3);
      s.gaps.mergeGaps(big[1]!.id, big[0]!.id, "admin:ana");
      const splitFrom = big[2]!;
      const members = s.listReports({ gap_id: splitFrom.id }, { limit: 10 }).items.map((r) => r.id);
      s.gaps.splitGap(splitFrom.id, members.slice(0, 2), "admin:ana");
      s.gaps.updateGap(big[3]!.id, { status: "planned", agent_note: "Recursive listing ships in 2.0." }, "admin:bo");
      const gapDraftReports = s.listReports({ gap_id: big[0]!.id }, { limit: 5 }).items.map((r) => r.id);
      const draft = {
        kind: "pull_request" as const,
        url: "https://github.example/o/r/pull/7",
        number: 7,
        repo: "o/r",
        branch: "patchwork/gap",
        base_branch: "main",
        commit_sha: "abc123",
        provider: "anthropic",
        model: "claude-sonnet-4-6",
        files: ["src/list.ts"],
        title: "Add recursive listing",
      };
      s.addDraft(gapDraftReports[0]!, draft, { gapId: big[0]!.id, reportIds: gapDraftReports });
      s.addDraft(2, { ...draft, kind: "local_commit", url: null, number: null, title: null });
      // A gap's GitHub issue (linked) and an unfinished claim on another (tracker-store.ts).
      const at = new Date();
      const linked = s.gaps.issues.claim(big[0]!.id, "o/r", "tok-linked", at, 60_000);
      if (linked.kind !== "claimed") throw new Error("could not claim");
      s.gaps.issues.link(
        big[0]!.id,
        "tok-linked",
        {
          number: 9,
          url: "https://github.example/o/r/issues/9",
          state: "open",
          state_reason: null,
          changed_at: at.toISOString(),
        },
        { actor: "admin:ana", action: "issue_created", details: { number: 9 } },
      );
      s.gaps.issues.claim(big[3]!.id, "o/r", "tok-pending", at, 60_000);
      // The autonomy ladder's tables (SQLite migration 10): one row in each.
      const auto = autonomyOf(s);
      auto.putServer("storage", "auto_draft", { min_sessions: 2 });
      auto.addSuggestion(big[0]!.id, "low_confidence", { confidence: 0.2, problems: ["under the threshold"] });
      const gapDraft = s.gaps.draftsOf(big[0]!.id)[0]!;
      auto.recordAutoDraft(gapDraft.id, big[0]!.id, "storage");
      auto.closeDraft(gapDraft.id, "autonomy", "ci_failed");
      auto.attempted(big[0]!.id, 3, "opened");
      key = s.createKey("read", "dashboard").key;
      revokedKey = s.createKey("ingest", "old agent").key;
      s.revokeKey(/^pwm_([0-9a-f]{12})_/.exec(revokedKey)![1]!);
      writeSetting(s, "draft.repos", { storage: "o/r" });
      writeSetting(s, "llm", { provider: "anthropic", model: "claude-sonnet-4-6" });
      // Alerts (migration 8): a destination, a rule, a queued delivery, a cooldown.
      const alerts = alertStore(s);
      const dest = alerts.addDestination({
        kind: "webhook",
        name: "ops",
        target: "https://hooks.example/…",
        config: {},
      });
      alerts.addRule({
        kind: "regression",
        destination_id: dest.id,
        server_name: null,
        threshold: null,
        window_s: null,
        min_reports: null,
        cooldown_s: 60,
        next_run_at: null,
      });
      alerts.enqueue([
        {
          event_id: "msg_m",
          destination_id: dest.id,
          rule_id: null,
          kind: "test",
          gap_id: null,
          payload: { type: "test" },
        },
      ]);
      alerts.takeCooldown(alerts.rules()[0]!.id, 1, Date.now(), 60);
      // Tool-call analytics: raw events (one with recorded arguments) and a spill rollup.
      callsStore(s).insertCalls(
        callBatchSchema.parse({
          calls: Array.from({ length: 30 }, (_, i) => ({
            server_name: `srv-${i % 2}`,
            tool_name: `tool_${i % 3}`,
            started_at: new Date(Date.now() - i * 60_000).toISOString(),
            duration_ms: i * 7.5,
            outcome: i % 5 === 0 ? "error" : "ok",
            error_code: i % 5 === 0 ? -32603 : null,
            client_name: i % 4 === 0 ? null : "cursor",
            session_id: `sess-${i % 6}`,
            request_bytes: 100 + i,
            response_bytes: 200 + i,
            arguments: i === 1 ? { q: "x" } : null,
          })),
          rollups: [
            {
              server_name: "srv-0",
              tool_name: "tool_9",
              client_name: null,
              hour: new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000).toISOString(),
              calls: 3,
              errors: 1,
              histogram: [1, 2, ...Array.from({ length: 15 }, () => 0)],
            },
          ],
        }),
      );
      maxGap = (s.db.prepare("SELECT max(id) AS m FROM gaps").get() as { m: number }).m;
    } finally {
      s.close();
    }
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("copies everything: reports, notes, drafts, gaps and their history, keys, settings, search, grouping", async () => {
    const target = await server.createDatabase();
    const before = sha(source);
    const r = migrate(["--from", source, "--to", withPassword(target), "--batch", "500"]);
    expect(r.stderr).not.toContain(PASSWORD);
    expect(r.stdout).not.toContain(PASSWORD);
    expect(r.code, r.stderr).toBe(0);
    expect(sha(source)).toBe(before);
    // Progress per table on stderr, and the count table on stdout.
    expect(r.stderr).toMatch(new RegExp(`reports: 500/${maxReport} rows`));
    expect(r.stderr).toMatch(new RegExp(`reports: ${maxReport}/${maxReport} rows`));
    expect(r.stdout).toMatch(new RegExp(`reports\\s+${maxReport}\\s+${maxReport}`));
    for (const table of ["gaps", "notes", "drafts", "draft_reports", "gap_history", "gap_bands", "api_keys"])
      expect(r.stdout).toMatch(new RegExp(`^${table}\\s+(\\d+)\\s+\\1$`, "m"));
    for (const table of [
      "autonomy_servers",
      "gap_suggestions",
      "autonomy_attempts",
      "autonomy_drafts",
      "draft_closures",
    ])
      expect(r.stdout).toMatch(new RegExp(`^${table}\\s+1\\s+1$`, "m"));

    expect(r.stdout).toMatch(/^tool_calls\s+30\s+30$/m);
    expect(r.stdout).toMatch(/^tool_call_rollups\s+(\d+)\s+\1$/m);

    const a = FeedbackStore.open(source, { readonly: true });
    const b = FeedbackStore.open(target);
    try {
      const now = new Date();
      expect(callsStore(b).toolStats({}, now)).toEqual(callsStore(a).toolStats({}, now));
      expect(
        callsStore(b)
          .toolStats({}, now)
          .items.map((i) => i.tool_name),
      ).toContain("tool_9");
      for (let id = 1; id <= maxReport; id++)
        expect(b.getReportDetail(id), `report ${id}`).toEqual(a.getReportDetail(id));
      // Gap scores decay with time: read both sides at the same instant.
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(new Date());
      try {
        for (let id = 1; id <= maxGap; id++) {
          expect(b.gaps.getGap(id), `gap ${id}`).toEqual(a.gaps.getGap(id));
          expect(b.gaps.listHistory(id)).toEqual(a.gaps.listHistory(id));
        }
        for (const status of [undefined, "duplicate", "planned"] as const)
          for (const sort of ["score", "last_seen"] as const)
            expect(b.gaps.listGaps({ status }, { sort, limit: 200 })).toEqual(
              a.gaps.listGaps({ status }, { sort, limit: 200 }),
            );
      } finally {
        vi.useRealTimers();
      }
      // The merged gap's duplicate_of (a reference to its own table, set after every gap is copied).
      const merged = "SELECT id, duplicate_of FROM gaps WHERE duplicate_of IS NOT NULL";
      expect(a.db.prepare(merged).all()).toHaveLength(1);
      expect(b.db.prepare(merged).all()).toEqual(a.db.prepare(merged).all());
      expect(a.gaps.listGaps({ status: "duplicate" }, { sort: "last_seen" }).items).toHaveLength(1);
      expect(b.gaps.listHistory(maxGap).map((h) => h.action)).toContain("split_from");
      expect(b.verifyKey(key)).toBe("read");
      expect(b.verifyKey(revokedKey)).toBeUndefined();
      expect(b.listKeys()).toEqual(a.listKeys());
      expect(readSetting(b, "draft.repos")).toEqual({ storage: "o/r" });
      expect(readSetting(b, "llm")).toEqual(readSetting(a, "llm"));
      expect(alertStore(b).destinations()).toEqual(alertStore(a).destinations());
      expect(alertStore(b).rules()).toEqual(alertStore(a).rules());
      expect(alertStore(b).deliveries({ limit: 10 })).toEqual(alertStore(a).deliveries({ limit: 10 }));
      expect(alertStore(b).state()).toEqual(alertStore(a).state());
      // Full-text search works on the copy (PostgreSQL's generated column).
      const found = b.listReports({ q: "recursive" }, { limit: 200 }).items.map((x) => x.id);
      expect(found.length).toBeGreaterThan(0);
      // The read-only source has not indexed its reports yet: search a writable copy of it.
      const indexed = join(dir, "search-copy.db");
      copyFileSync(source, indexed);
      const c = FeedbackStore.open(indexed);
      try {
        expect(found).toEqual(c.listReports({ q: "recursive" }, { limit: 200 }).items.map((x) => x.id));
      } finally {
        c.close();
      }

      // New rows get ids above the copied ones and join the copied gaps (grouping state and bands carried over).
      const original = a.getReport(1)!;
      const again = b.insertReport(
        payload({
          server_name: original.server_name,
          tool_name: original.tool_name,
          gap_type: original.gap_type,
          what_i_needed: original.what_i_needed,
          what_i_tried: original.what_i_tried,
        }),
      );
      expect(again.id).toBe(maxReport + 1);
      expect(again.gap_id).toBe(original.gap_id);
      const near = a.getReport(2)!;
      const nearAgain = b.insertReport(
        payload({
          server_name: near.server_name,
          tool_name: near.tool_name,
          gap_type: near.gap_type,
          what_i_needed: `${near.what_i_needed} please`,
          what_i_tried: near.what_i_tried,
        }),
      );
      expect(nearAgain.gap_id).toBe(near.gap_id);
      const fresh = b.insertReport(
        payload({ server_name: "brand-new", gap_type: "missing_tool", what_i_needed: "x", what_i_tried: "y" }),
      );
      expect(fresh.gap_id).toBe(maxGap + 1);
      expect(b.addNote(1, "on postgres")!.id).toBe(7);
      expect(b.createKey("admin").info.id).toMatch(/^[0-9a-f]{12}$/);
      expect(b.gaps.progress().mode).toBe("idle");
    } finally {
      a.close();
      b.close();
    }

    // Running it again on the finished copy refuses: the target now holds rows the source does not.
    const again = migrate(["--from", source, "--to", withPassword(target)]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/migrate_target_differs: .* rows where the source has /);
    expect(again.stderr).not.toContain(PASSWORD);
  });

  it("resumes a copy killed mid-table (SIGKILL mid-batch), through the env vars, without duplicates", async () => {
    const target = await server.createDatabase();
    // An uncommitted row with a report id in the middle: the copy's batch holding that id waits on it.
    const blocker = new pg.Client({ connectionString: target });
    await blocker.connect();
    // The schema first (the blocker's INSERT needs the table), as migrate itself would create it.
    FeedbackStore.open(target).close();
    const blockedId = 1250;
    await blocker.query("BEGIN");
    await blocker.query(
      "INSERT INTO reports (id, created_at, server_name, what_i_needed, what_i_tried, gap_type) VALUES ($1, 'x', 'x', 'x', 'x', 'other')",
      [blockedId],
    );
    const child = spawn(process.execPath, [CLI, "migrate"], {
      env: {
        ...process.env,
        FEEDBACK_MIGRATE_FROM: source,
        FEEDBACK_MIGRATE_TO: target,
        FEEDBACK_MIGRATE_BATCH: "100",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    // Wait until the copy is blocked on the row (a lock another session waits for).
    await vi.waitFor(
      async () => {
        const w = await blocker.query("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted");
        expect(w.rows[0].n, stderr).toBeGreaterThan(0);
      },
      { timeout: 120_000, interval: 50 },
    );
    child.kill("SIGKILL");
    expect(await exited).toBeNull();
    await blocker.query("ROLLBACK");
    const partial = await blocker.query("SELECT count(*)::int AS n, max(id)::int AS m FROM reports");
    expect(partial.rows[0].n).toBe(1200);
    expect(partial.rows[0].m).toBe(1200);
    expect(stderr).toContain(`reports: 1200/${maxReport} rows`);
    await blocker.end();

    const r = migrate([], {
      FEEDBACK_MIGRATE_FROM: source,
      FEEDBACK_MIGRATE_TO: target,
      FEEDBACK_MIGRATE_BATCH: "300",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("checking reports");
    expect(r.stderr).toMatch(new RegExp(`reports: ${maxReport}/${maxReport} rows \\(${maxReport - 1200} new`));
    expect(r.stdout).not.toContain("DIFFERENT");
    const a = FeedbackStore.open(source, { readonly: true });
    const b = FeedbackStore.open(target);
    try {
      expect(b.countReports()).toBe(maxReport);
      for (let id = 1; id <= maxReport; id++) expect(b.getReport(id), `report ${id}`).toEqual(a.getReport(id));
      const dupes = b.db
        .prepare("SELECT count(*) AS n FROM (SELECT idempotency_key FROM reports GROUP BY 1 HAVING count(*) > 1) d")
        .get() as { n: number };
      expect(dupes.n).toBe(0);
      expect(b.verifyKey(key)).toBe("read");
    } finally {
      a.close();
      b.close();
    }
    // A complete copy run again: nothing to do, nothing written, counts still equal.
    const third = migrate(["--from", source, "--to", target]);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toContain("Done: 0 rows copied");
  });

  it("refuses a target holding other data, and writes nothing to it", async () => {
    const target = await server.createDatabase();
    const other = FeedbackStore.open(target);
    other.insertReport(payload({ server_name: "elsewhere", gap_type: "other", what_i_needed: "a", what_i_tried: "b" }));
    other.close();
    const r = migrate(["--from", source, "--to", withPassword(target)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/migrate_target_differs: .* not a copy of this source/);
    expect(r.stderr).toContain("patchwork:***@127.0.0.1");
    expect(r.stderr).not.toContain(PASSWORD);
    const b = FeedbackStore.open(target);
    try {
      expect(b.countReports()).toBe(1);
      expect(b.gaps.countGaps()).toBe(1);
      expect(b.listKeys()).toEqual([]);
    } finally {
      b.close();
    }
  });

  it("refuses a source below the newest SQLite migration, leaving it untouched", async () => {
    const old = join(dir, "old.db");
    const db = new Database(old);
    for (const m of MIGRATIONS.slice(0, 5)) {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }
    db.close();
    const before = sha(old);
    const target = await server.createDatabase();
    const r = migrate(["--from", old, "--to", target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("migrate_source_not_migrated");
    expect(r.stderr).toContain(`patchworkmcp keys list --db ${old}`);
    expect(sha(old)).toBe(before);
    // Once opened with this version, it copies.
    const copy = join(dir, "old-migrated.db");
    copyFileSync(old, copy);
    FeedbackStore.open(copy).close();
    expect(migrate(["--from", copy, "--to", target]).code).toBe(0);
  });

  it("says what is missing or wrong on the command line", () => {
    const noFrom = migrate(["--to", "postgres://u@127.0.0.1/db"]);
    expect(noFrom.code).toBe(1);
    expect(noFrom.stderr).toContain("migrate_from_missing");
    const notPg = migrate(["--from", source, "--to", join(dir, "other.db")]);
    expect(notPg.code).toBe(1);
    expect(notPg.stderr).toContain("migrate_target_not_postgres");
    const noFile = migrate(["--from", join(dir, "nope.db"), "--to", "postgres://u@127.0.0.1/db"]);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain("db_not_found");
  });
});
