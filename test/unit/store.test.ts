import Database from "better-sqlite3";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { csvCell } from "../../src/http/routes/export.js";
import { decodeCursor, encodeCursor, FeedbackStore, toFtsQuery } from "../../src/store/index.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { tempDir } from "../helpers/serve.js";

const payload = {
  what_i_needed: "n",
  what_i_tried: "t",
  gap_type: "other" as const,
  server_name: "s",
  tools_available: [],
};

describe("FeedbackStore", () => {
  it("migrates once and reopens at the same version", () => {
    const path = join(tempDir(), "f.db");
    FeedbackStore.open(path).close();
    const store = FeedbackStore.open(path);
    expect(store.db.sqlite!.pragma("user_version", { simple: true })).toBe(MIGRATIONS.at(-1)!.version);
    expect(store.db.sqlite!.pragma("journal_mode", { simple: true })).toBe("wal");
    store.close();
  });

  it("opens read-only alongside a writer", () => {
    const path = join(tempDir(), "f.db");
    const writer = FeedbackStore.open(path);
    writer.insertReport(payload);
    const reader = FeedbackStore.open(path, { readonly: true });
    writer.insertReport(payload);
    expect(reader.countReports()).toBe(2);
    expect(() => reader.insertReport(payload)).toThrow(/readonly/);
    reader.close();
    writer.close();
  });

  it("returns identical reports from the object and JSON list paths", async () => {
    const store = FeedbackStore.open(join(tempDir(), "f.db"));
    store.insertReport({
      ...payload,
      tools_available: ["a", 'b"c'],
      resolution: "blocked",
      suggestion: "emoji 🚀 and \u0000 nul",
    });
    store.insertReport(payload);
    store.updateStatus(2, { status: "dismissed" });
    const objects = store.listReports({}, { limit: 10 });
    const json = await store.listReportsJson({}, { limit: 10 });
    expect(JSON.parse(json.itemsJson)).toEqual(objects.items);
    expect(json.nextCursor).toBe(objects.nextCursor);
    store.close();
  });

  it("pages full-text results newest first, each exactly once, combined with filters", () => {
    const store = FeedbackStore.open(join(tempDir(), "f.db"));
    for (let i = 0; i < 300; i++) {
      store.insertReport({
        ...payload,
        server_name: i % 2 ? "odd" : "even",
        what_i_needed: i % 3 === 0 ? `pagination token ${i}` : `other ${i}`,
      });
    }
    const walk = (filter: Parameters<typeof store.listReports>[0]) => {
      const ids: number[] = [];
      let cursor: string | undefined;
      do {
        const page = store.listReports(filter, { limit: 7, cursor });
        ids.push(...page.items.map((r) => r.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return ids;
    };
    const all = walk({ q: "paginat" });
    expect(all).toHaveLength(100);
    expect(new Set(all).size).toBe(100);
    expect([...all].sort((a, b) => b - a)).toEqual(all);
    expect(walk({ q: "pagination", server_name: "odd" })).toHaveLength(50);
    expect(store.countReports({ q: "pagination token" })).toBe(100);
    expect(store.stats({ q: "pagination" }).by_server).toEqual([
      { key: "even", count: 50 },
      { key: "odd", count: 50 },
    ]);
    expect([...store.scanReports({ q: "pagination" }, 33)].flat()).toHaveLength(100);
    store.close();
  });

  it("indexes text in batches behind a watermark, and every search sees every stored report", () => {
    const path = join(tempDir(), "f.db");
    const store = FeedbackStore.open(path);
    const other = FeedbackStore.open(path); // another process writing the same file (proxy --db, mcp)
    store.insertReport({ ...payload, what_i_needed: "zebra crossing" });
    other.insertReport({ ...payload, what_i_needed: "zebra stripes" });
    expect(store.countReports({ q: "zebra" })).toBe(2); // the search caught the index up first
    expect(store.indexPending()).toBe(0);
    for (let i = 0; i < 12; i++) other.insertReport({ ...payload, what_i_needed: `yak ${i}` });
    expect(other.indexPending(5)).toBe(12); // in batches of 5: 5 + 5 + 2
    expect(store.listReports({ q: "yak" }, { limit: 200 }).items).toHaveLength(12);
    const reader = FeedbackStore.open(path, { readonly: true });
    expect(reader.indexPending()).toBe(0);
    expect(reader.countReports({ q: "zebra" })).toBe(2);
    for (const s of [reader, other, store]) s.close();
  });

  it("keeps every draft made for a report", () => {
    const store = FeedbackStore.open(join(tempDir(), "f.db"));
    const { id } = store.insertReport(payload);
    const draft = {
      kind: "pull_request" as const,
      url: "https://x/pr/1",
      number: 1,
      repo: "o/r",
      branch: "b1",
      base_branch: "main",
      commit_sha: "abc",
      provider: "anthropic",
      model: "m",
      files: ["a.ts"],
      title: "t",
    };
    store.addDraft(id, draft);
    store.addDraft(id, { ...draft, branch: "b2", number: 2 });
    expect(store.getReportDetail(id)!.drafts.map((d) => d.branch)).toEqual(["b1", "b2"]);
    const db = new Database(store.path);
    expect(db.prepare("SELECT count(*) AS n FROM drafts").get()).toEqual({ n: 2 });
    db.close();
    store.close();
  });
});

describe("helpers", () => {
  it("round-trips cursors and rejects foreign ones", () => {
    expect(decodeCursor(encodeCursor(12345))).toBe(12345);
    expect(decodeCursor("garbage")).toBeUndefined();
    expect(decodeCursor(Buffer.from("r:1; DROP TABLE").toString("base64url"))).toBeUndefined();
  });

  it("turns any text into a safe FTS query", () => {
    expect(toFtsQuery('date "range" OR NEAR(')).toBe('"date" "range" "OR" "NEAR"*');
    expect(toFtsQuery("***")).toBeUndefined();
  });

  it("neutralises spreadsheet formulas in CSV cells", () => {
    for (const bad of ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]) expect(csvCell(bad).startsWith(`"'`)).toBe(true);
    expect(csvCell('a "b"')).toBe('"a ""b"""');
    expect(csvCell(null)).toBe('""');
    expect(csvCell(["x", "y"])).toBe('"x, y"');
  });
});
