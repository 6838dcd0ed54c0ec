/**
 * Where reports go: a live sidecar, the durable outbox while the sidecar is
 * down (re-sent idempotently when it answers again), and `replay` of the
 * outbox. Never a lost report, never a report stored twice.
 */
import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { FEEDBACK_REPLIES, recordedReply } from "../../src/feedback/index.js";
import { parseUnsentLines } from "../../src/delivery/unsent.js";
import { Outbox } from "../../proxy/outbox.js";
import { request } from "../helpers/http.js";
import { startServe } from "../helpers/serve.js";
import {
  CLI,
  NODE,
  RawClient,
  connectStdioProxy,
  fixtureCommand,
  freePort,
  proxyEnv,
  tempDir,
  textOf,
  waitFor,
} from "./helpers.js";

const report = (n: number) => ({ what_i_needed: `capability ${n}`, what_i_tried: "echo", gap_type: "missing_tool" });
const count = (db: string): number =>
  existsSync(db)
    ? (new Database(db, { readonly: true }).prepare("SELECT COUNT(*) AS n FROM reports").get() as { n: number }).n
    : 0;

describe("feedback delivery", () => {
  it("sends reports to a running sidecar with the API key", async () => {
    const sidecar = await startServe({ env: { FEEDBACK_API_KEY: "sekret-key-123" } });
    const p = await connectStdioProxy({
      proxyArgs: ["--outbox", join(tempDir(), "o.log")],
      upstream: fixtureCommand(),
      env: { FEEDBACK_SIDECAR_URL: sidecar.url, FEEDBACK_API_KEY: "sekret-key-123" },
    });
    try {
      const result = await p.client.callTool({ name: "feedback", arguments: report(1) });
      expect(textOf(result)).toBe(FEEDBACK_REPLIES.recorded(1));
      const row = new Database(sidecar.dbPath, { readonly: true })
        .prepare("SELECT server_name, client_type FROM reports")
        .get();
      expect(row).toEqual({ server_name: "fixture-server", client_type: "test-client/1.0.0" });
    } finally {
      await p.close();
      await sidecar.stop();
    }
  });

  it("echoes a gap the developers planned, with their note, in the one wording every surface uses", async () => {
    const sidecar = await startServe();
    const p = await connectStdioProxy({
      proxyArgs: ["--outbox", join(tempDir(), "o.log")],
      upstream: fixtureCommand(),
      env: { FEEDBACK_SIDECAR_URL: sidecar.url },
    });
    const gapReport = (session_id: string) => ({
      what_i_needed: "Filter invoices by a date range",
      what_i_tried: "Called list_invoices; it has no from/to parameters",
      gap_type: "missing_parameter",
      tool_name: "list_invoices",
      session_id,
    });
    try {
      const first = await p.client.callTool({ name: "feedback", arguments: gapReport("s-1") });
      // Nobody has acted on its gap yet: no echo.
      expect(textOf(first)).toBe(FEEDBACK_REPLIES.recorded(1));
      // Grouping may run behind ingestion: wait for report 1's gap.
      const gapId = await waitFor(
        async () => ((await request(`${sidecar.url}/api/feedback/1`)).body.gap_id as number | null) ?? undefined,
        15_000,
        "report 1 to join a gap",
      );
      const note = "Use list_invoices with from/to until 2.4 ships.";
      const planned = await request(`${sidecar.url}/api/gaps/${gapId}`, {
        method: "PATCH",
        body: { status: "planned", agent_note: note },
      });
      expect(planned.status, planned.text).toBe(200);

      const second = await p.client.callTool({ name: "feedback", arguments: gapReport("s-2") });
      expect(second.isError).toBeFalsy();
      expect((await request(`${sidecar.url}/api/feedback/2`)).body.gap_id).toBe(gapId);
      expect(textOf(second)).toBe(recordedReply(2, { id: gapId, status: "planned", reports: 2, agent_note: note }));
      expect(textOf(second)).not.toContain("Filter invoices"); // the note, never an agent's words
    } finally {
      await p.close();
      await sidecar.stop();
    }
  });

  it("keeps reports in the outbox while the sidecar is down and delivers them once when it is back", async () => {
    const port = await freePort();
    const outbox = join(tempDir(), "outbox.log");
    const p = await connectStdioProxy({
      proxyArgs: ["--sidecar-url", `http://127.0.0.1:${port}`, "--outbox", outbox, "--delivery-timeout", "1000"],
      upstream: fixtureCommand(),
    });
    try {
      for (const n of [1, 2]) {
        const result = await p.client.callTool({ name: "feedback", arguments: report(n) });
        expect(textOf(result)).toBe(FEEDBACK_REPLIES.queued());
        expect(result.isError).toBeFalsy();
      }
      // Upstream traffic is untouched meanwhile.
      expect(textOf(await p.client.callTool({ name: "echo", arguments: { text: "still here" } }))).toBe("still here");
      const { entries } = parseUnsentLines(readFileSync(outbox, "utf8"));
      expect(entries.map((e) => e.payload.what_i_needed)).toEqual(["capability 1", "capability 2"]);
      expect(
        entries.every((e) => /^proxy-/.test(e.idempotencyKey) && e.payload.idempotency_key === e.idempotencyKey),
      ).toBe(true);
      expect(entries[0]!.payload.server_name).toBe("fixture-server");

      // `replay` of a copy sends them too; the proxy's own retry must not store them again.
      const copy = join(tempDir(), "copy.log");
      writeFileSync(copy, readFileSync(outbox));
      const sidecar = await startServe({ args: ["--port", String(port)] });
      try {
        const replay = spawnSync(NODE, [CLI, "replay", copy, "--sidecar-url", sidecar.url], {
          env: proxyEnv(),
          encoding: "utf8",
        });
        expect(replay.status).toBe(0);
        await waitFor(() => readFileSync(outbox, "utf8").trim() === "", 30_000, "the outbox to empty");
        await waitFor(
          () => p.stderr().includes("delivered 2 report(s) from the outbox"),
          10_000,
          "the delivery log line",
        );
        expect(count(sidecar.dbPath)).toBe(2);
        // Once the sidecar answers, a new report goes straight through.
        const direct = textOf(await p.client.callTool({ name: "feedback", arguments: report(3) }));
        expect(direct).toBe(FEEDBACK_REPLIES.recorded(Number(/report (\d+)/.exec(direct)?.[1])));
        expect(count(sidecar.dbPath)).toBe(3);
      } finally {
        await sidecar.stop();
      }
    } finally {
      await p.close();
    }
  });

  it("finishes a delivery under way before it exits on stdin EOF", async () => {
    const sidecar = await startServe();
    try {
      const c = new RawClient(fixtureCommand(), ["--sidecar-url", sidecar.url, "--outbox", join(tempDir(), "o.log")]);
      await c.initialize();
      c.send({ id: 1, method: "tools/list" });
      await c.response(1);
      // The client leaves right after a call to a tool that does not exist: its missing_tool report must still arrive.
      c.send({ id: 2, method: "tools/call", params: { name: "export_everything", arguments: {} } });
      c.proc.stdin.end();
      expect(await c.exit).toBe(0);
      const row = new Database(sidecar.dbPath, { readonly: true })
        .prepare("SELECT gap_type, tool_name FROM reports")
        .get();
      expect(row).toEqual({ gap_type: "missing_tool", tool_name: "export_everything" });
    } finally {
      await sidecar.stop();
    }
  });

  it("outbox: concurrent appends all survive a removal, and removal is by idempotency key", async () => {
    const path = join(tempDir(), "nested", "outbox.log");
    const a = new Outbox(path);
    const b = new Outbox(path);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).append({ payload: report(i), idempotencyKey: `k${i}` })),
    );
    expect(a.read()).toHaveLength(20);
    await Promise.all([a.remove(new Set(["k1", "k2"])), b.append({ payload: report(99), idempotencyKey: "k99" })]);
    const keys = a.read().map((e) => e.idempotencyKey);
    expect(keys).toHaveLength(19);
    expect(keys).not.toContain("k1");
    expect(keys).toContain("k99");
    expect(existsSync(`${path}.lock`)).toBe(false);
  });

  it("outbox: a stale lock left by a dead process is taken over once, by one of many waiting writers", async () => {
    const path = join(tempDir(), "outbox.log");
    const lock = `${path}.lock`;
    writeFileSync(lock, "");
    const old = new Date(Date.now() - 60_000);
    utimesSync(lock, old, old);
    const writers = [new Outbox(path), new Outbox(path), new Outbox(path)];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => writers[i % 3]!.append({ payload: report(i), idempotencyKey: `s${i}` })),
    );
    expect(new Set(writers[0]!.read().map((e) => e.idempotencyKey)).size).toBe(30);
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(dirname(path)).filter((f) => f.startsWith("outbox.log.lock"))).toEqual([]);
  });

  it("outbox: waits for a fresh lock instead of taking it over", async () => {
    const path = join(tempDir(), "outbox.log");
    const lock = `${path}.lock`;
    writeFileSync(lock, "");
    vi.useFakeTimers();
    try {
      let done = false;
      const appending = new Outbox(path).append({ payload: report(1), idempotencyKey: "w1" }).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(4000);
      expect(done).toBe(false);
      expect(existsSync(lock)).toBe(true);
      unlinkSync(lock);
      await vi.advanceTimersByTimeAsync(100);
      await appending;
      expect(new Outbox(path).read().map((e) => e.idempotencyKey)).toEqual(["w1"]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("outbox: gives up on a lock another live process keeps holding, with a sentence naming the lock", async () => {
    const path = join(tempDir(), "outbox.log");
    const lock = `${path}.lock`;
    writeFileSync(lock, "");
    vi.useFakeTimers();
    try {
      const appending = new Outbox(path).append({ payload: report(1), idempotencyKey: "w1" });
      const failed = expect(appending).rejects.toThrow(
        `stayed locked by another process (remove ${lock} if none runs)`,
      );
      await vi.advanceTimersByTimeAsync(6000);
      await failed;
      expect(existsSync(lock)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
