import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseFeedback } from "../../src/feedback/index.js";
import { gapSparklines, gapTrend, SPARKLINE_MAX_IDS } from "../../src/gaps/trend.js";
import { FeedbackStore } from "../../src/store/index.js";
import { request } from "../helpers/http.js";
import { startServe, type ServeProcess, testDbPath } from "../helpers/serve.js";

const DAY = 86_400_000;
const REAL_NOW = Date.now();
const report = (need: string, i: number, over: Record<string, unknown> = {}) => {
  const parsed = parseFeedback({
    server_name: "billing",
    tool_name: "list_invoices",
    gap_type: "missing_parameter",
    what_i_needed: `${need} ${1000 + i}`,
    what_i_tried: "Called it; nothing fit",
    session_id: `${need}-${i}`,
    ...over,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.payload;
};

/** Store `n` reports of one need `daysAgo` days ago (midday UTC, so the day is unambiguous). */
function storeAt(store: FeedbackStore, daysAgo: number, need: string, n: number): number {
  const today = new Date(REAL_NOW);
  const midday = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), 12) - daysAgo * DAY;
  vi.setSystemTime(Math.min(midday, REAL_NOW));
  let gap = 0;
  for (let i = 0; i < n; i++) gap = store.insertReport(report(need, i + daysAgo * 100)).gap_id!;
  return gap;
}

let dbPath: string;
const gaps = { rising: 0, falling: 0, steady: 0, old: 0 };

beforeAll(() => {
  dbPath = testDbPath("pwm-gap-trend-");
  const store = FeedbackStore.open(dbPath);
  vi.useFakeTimers({ toFake: ["Date"] });
  try {
    gaps.falling = storeAt(store, 10, "Falling need for invoices", 5); // last week only…
    storeAt(store, 1, "Falling need for invoices", 1); // …and once this week
    gaps.steady = storeAt(store, 9, "Steady need for payouts", 3);
    storeAt(store, 2, "Steady need for payouts", 3);
    gaps.rising = storeAt(store, 0, "Rising need for refunds", 6); // this week only
    gaps.old = storeAt(store, 20, "Old need for receipts", 4); // neither week
  } finally {
    vi.useRealTimers();
    store.close();
  }
});

describe("gap trend and sparklines (store)", () => {
  it("ranks this week and last week, with each gap's rank change", () => {
    const store = FeedbackStore.open(dbPath);
    try {
      const trend = gapTrend(store, { days: 7, limit: 10 });
      expect(trend.this_period.map((r) => [r.gap.id, r.count, r.rank, r.previous_rank])).toEqual([
        [gaps.rising, 6, 1, null],
        [gaps.steady, 3, 2, 2],
        [gaps.falling, 1, 3, 1],
      ]);
      expect(trend.previous_period.map((r) => [r.gap.id, r.previous_count])).toEqual([
        [gaps.falling, 5],
        [gaps.steady, 3],
      ]);
      // The 20-day-old gap is in neither week and not considered at all.
      expect(trend.considered).toBe(3);
      expect(trend.truncated).toBe(false);
      const today = new Date().toISOString().slice(0, 10);
      expect(trend.since).toBe(new Date(Date.parse(today) - 6 * DAY).toISOString().slice(0, 10));
      expect(trend.previous_since).toBe(new Date(Date.parse(today) - 13 * DAY).toISOString().slice(0, 10));
      expect(gapTrend(store, { limit: 1 }).this_period.map((r) => r.gap.id)).toEqual([gaps.rising]);
      expect(gapTrend(store, { filter: { server_name: "weather" } }).this_period).toEqual([]);
    } finally {
      store.close();
    }
  });

  it("draws 30 days per gap and leaves unknown ids out", () => {
    const store = FeedbackStore.open(dbPath);
    try {
      const s = gapSparklines(store, [gaps.falling, gaps.old, 999_999, gaps.falling]);
      expect(s.days).toHaveLength(30);
      expect(s.days[29]).toBe(new Date().toISOString().slice(0, 10));
      expect(Object.keys(s.series).sort()).toEqual([String(gaps.falling), String(gaps.old)].sort());
      const falling = s.series[String(gaps.falling)]!;
      expect(falling.reduce((a, b) => a + b, 0)).toBe(6);
      expect(falling[29 - 10]).toBe(5);
      expect(s.series[String(gaps.old)]![29 - 20]).toBe(4);
    } finally {
      store.close();
    }
  });
});

describe("GET /api/gaps/sparklines and /api/gaps/trend", () => {
  let server: ServeProcess;
  const keys = { ingest: "", read: "" };
  beforeAll(async () => {
    const store = FeedbackStore.open(dbPath);
    keys.ingest = store.createKey("ingest", "ingest").key;
    keys.read = store.createKey("read", "read").key;
    store.close();
    server = await startServe({ dbPath });
  });
  afterAll(async () => {
    await server?.stop();
  });
  const get = (path: string, key = keys.read) => request(`${server.url}${path}`, { key });

  it("answer a read key with the store's numbers", async () => {
    const spark = await get(`/api/gaps/sparklines?ids=${gaps.rising},${gaps.steady}`);
    expect(spark.status).toBe(200);
    expect(spark.body.series[String(gaps.rising)].at(-1)).toBe(6);
    const trend = await get("/api/gaps/trend?days=7&limit=2");
    expect(trend.status).toBe(200);
    expect(trend.body.this_period.map((r: { gap: { id: number } }) => r.gap.id)).toEqual([gaps.rising, gaps.steady]);
    expect(trend.body.this_period[0].gap.score_explain).toMatch(/^score /);
  });

  it("need the read scope", async () => {
    expect((await get(`/api/gaps/sparklines?ids=${gaps.rising}`, keys.ingest)).status).toBe(403);
    expect((await get("/api/gaps/trend", keys.ingest)).status).toBe(403);
    expect((await request(`${server.url}/api/gaps/trend`)).status).toBe(401);
  });

  it("refuse bad input with a 400 that names it", async () => {
    for (const query of [
      "",
      "?ids=",
      "?ids=1,,2",
      "?ids=a",
      "?ids=1&x=2",
      `?ids=${Array.from({ length: SPARKLINE_MAX_IDS + 1 }, (_, i) => i + 1).join(",")}`,
    ]) {
      const res = await get(`/api/gaps/sparklines${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
    }
    for (const query of ["?days=0", "?days=91", "?limit=51", "?status=nope", "?since=2026-01-01"]) {
      const res = await get(`/api/gaps/trend${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.message.length).toBeGreaterThan(10);
    }
  });
});
