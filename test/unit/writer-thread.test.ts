// The ingestion writer thread (src/ingest/writer-thread.ts) on a real SQLite file: batches sent
// back to back are committed in order with their own answers, one batch's failure stays its own,
// a lock another process holds is an SqliteError (the API's 503), and stop() finishes what was sent.
// Call batches (POST /api/calls) go through the same thread, group-committed among themselves.
import Database from "better-sqlite3";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { FeedbackPayload } from "../../src/feedback/index.js";
import { type CallBatch, callBatchSchema } from "../../src/analytics/index.js";
import { ThreadWriter } from "../../src/ingest/index.js";
import { callsStore, FeedbackStore, type NewReport } from "../../src/store/index.js";
import { tempDir } from "../helpers/serve.js";

const report = (n: number, key?: string): NewReport => ({
  payload: {
    what_i_needed: `need ${n}`,
    what_i_tried: "tried",
    gap_type: "other",
    server_name: "writer",
    tools_available: [],
  } as FeedbackPayload,
  idempotencyKey: key,
});

/** `n` calls of `tool` on server "writer", the first of every five an error. */
const callBatch = (tool: string, n: number): CallBatch =>
  callBatchSchema.parse({
    calls: Array.from({ length: n }, (_, i) => ({
      server_name: "writer",
      tool_name: tool,
      started_at: new Date(Date.now() - 60_000 + i).toISOString(),
      duration_ms: 5 + i,
      outcome: i % 5 === 0 ? "error" : "ok",
      error_code: i % 5 === 0 ? -32603 : null,
      client_name: "vitest",
      request_bytes: 10,
      response_bytes: 20,
    })),
  });

const writers: ThreadWriter[] = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.stop()));
});

async function setUp(busyTimeoutMs = 5000): Promise<{ path: string; writer: ThreadWriter }> {
  const path = join(tempDir("pwm-writer-"), "feedback.db");
  FeedbackStore.open(path, { grouping: "deferred" }).close(); // migrated, as serve's own connection does
  const writer = await ThreadWriter.start({ dbPath: path, busyTimeoutMs });
  writers.push(writer);
  return { path, writer };
}

describe("ThreadWriter", () => {
  it("commits batches sent back to back in order, each answered with its own results", async () => {
    const { path, writer } = await setUp();
    const batches = Array.from({ length: 20 }, (_, b) =>
      Array.from({ length: 5 }, (_, i) => report(b * 5 + i, i === 0 ? `k-${b % 10}` : undefined)),
    );
    const answers = await Promise.all(batches.map((items) => writer.write(items)));
    const created = answers.flat().filter((r) => r.created);
    // Keys k-0…k-9 were each sent twice: the second time answers with the first insert's id.
    expect(created).toHaveLength(90);
    const ids = created.map((r) => r.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(90);
    for (let b = 10; b < 20; b++) expect(answers[b]![0]).toMatchObject({ id: answers[b - 10]![0]!.id, created: false });
    const store = FeedbackStore.open(path);
    expect(store.countReports()).toBe(90);
    const first = store.getReport(answers[3]![2]!.id);
    expect(first?.what_i_needed).toBe("need 17");
    store.close();
  });

  it("fails only the batch that cannot be stored, even when it was written together with others", async () => {
    const { writer } = await setUp();
    const bad = { ...report(0), payload: { ...report(0).payload, what_i_needed: null } } as unknown as NewReport;
    const results = await Promise.allSettled([
      writer.write([report(1)]),
      writer.write([bad]),
      writer.write([report(2)]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    const err = (results[1] as PromiseRejectedResult).reason as Error & { code: string };
    expect(err.name).toBe("SqliteError");
    expect(err.code).toMatch(/^SQLITE_CONSTRAINT/);
  });

  it("answers a lock another process holds with the database's own error (the API's 503)", async () => {
    const { path, writer } = await setUp(100);
    const lock = new Database(path);
    lock.exec("BEGIN EXCLUSIVE");
    try {
      const err = (await writer.write([report(1)]).catch((e: unknown) => e)) as Error & { code: string };
      expect(err.name).toBe("SqliteError");
      expect(err.code).toBe("SQLITE_BUSY");
    } finally {
      lock.exec("ROLLBACK");
      lock.close();
    }
    // Once the lock is gone it writes again.
    expect((await writer.write([report(2)]))[0]).toMatchObject({ created: true });
  });

  it("finishes the batches sent before stop(), then refuses new ones", async () => {
    const { path, writer } = await setUp();
    const sent = Array.from({ length: 10 }, (_, i) => writer.write([report(i)]));
    await writer.stop();
    expect((await Promise.all(sent)).flat()).toHaveLength(10);
    await expect(writer.write([report(99)])).rejects.toThrow("the ingestion writer thread has stopped");
    const store = FeedbackStore.open(path);
    expect(store.countReports()).toBe(10);
    store.close();
  });

  it("stores call batches sent back to back, among report batches, with their rollups", async () => {
    const { path, writer } = await setUp();
    const sent = await Promise.all([
      writer.writeCalls(callBatch("search", 10)),
      writer.write([report(1)]),
      writer.writeCalls(callBatch("search", 15)),
      writer.writeCalls(callBatch("fetch", 5)),
      writer.write([report(2)]),
    ]);
    expect(sent[1]).toHaveLength(1);
    const store = FeedbackStore.open(path);
    try {
      expect(store.countReports()).toBe(2);
      const calls = callsStore(store);
      expect(calls.countCalls()).toBe(30);
      const stats = calls.toolStats({ server_name: "writer" });
      expect(stats.items.map((t) => [t.tool_name, t.calls, t.errors])).toEqual([
        ["search", 25, 5],
        ["fetch", 5, 1],
      ]);
    } finally {
      store.close();
    }
  });

  it("fails only the call batch the database refuses, even when it was written together with others", async () => {
    const { path, writer } = await setUp();
    const bad = callBatch("search", 3);
    (bad.calls[1] as { server_name: string | null }).server_name = null; // NOT NULL in the table
    const results = await Promise.allSettled([
      writer.writeCalls(callBatch("search", 4)),
      writer.writeCalls(bad),
      writer.writeCalls(callBatch("search", 6)),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(((results[1] as PromiseRejectedResult).reason as Error & { code: string }).code).toMatch(
      /^SQLITE_CONSTRAINT/,
    );
    const store = FeedbackStore.open(path);
    expect(callsStore(store).countCalls()).toBe(10);
    store.close();
  });
});
