/**
 * The GET /api/gaps page cache (src/http/gap-list-cache.ts) on a real SQLite
 * file: after every kind of write — by this connection or another — and as
 * time passes, a cached answer is exactly the JSON an uncached read gives at
 * the same instant; without a write it does not read the database again.
 */
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { FeedbackPayload } from "../../src/feedback/index.js";
import { cachedGapListJson } from "../../src/http/gap-list-cache.js";
import { FeedbackStore, type GapListQuery, StoreError } from "../../src/store/index.js";
import { tempDir } from "../helpers/serve.js";

const DAY = 86_400_000;
const stores: FeedbackStore[] = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-03-20T12:00:00Z"));
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  for (const s of stores.splice(0)) s.close();
});

function open(path = join(tempDir("pwm-gap-cache-"), "feedback.db")): FeedbackStore {
  const s = FeedbackStore.open(path);
  stores.push(s);
  return s;
}

const NEEDS = [
  ["list_invoices", "Filter invoices by a date range", "Add from and to parameters to list_invoices"],
  ["export_customers", "Export customers as a CSV spreadsheet file", "Offer format=csv on export_customers"],
  ["refund_payment", "Refund part of a payment to the customer card", "Add an amount parameter to refund_payment"],
] as const;

const report = (need: number, i: number, over: Partial<FeedbackPayload> = {}): FeedbackPayload => ({
  server_name: "billing",
  tool_name: NEEDS[need]![0],
  gap_type: "missing_parameter",
  what_i_needed: `${NEEDS[need]![1]} for run ${1000 + i}`,
  what_i_tried: `Called ${NEEDS[need]![0]} with limit=${i}; it cannot do that`,
  suggestion: NEEDS[need]![2],
  tools_available: [NEEDS[need]![0]],
  session_id: `s-${need}-${i}`,
  resolution: i % 2 ? "blocked" : "worked_around",
  ...over,
});

function seeded(): FeedbackStore {
  const s = open();
  s.insertMany(NEEDS.flatMap((_, need) => Array.from({ length: 3 + need }, (_, i) => ({ payload: report(need, i) }))));
  return s;
}

/** What the route answered before the cache: read and serialised on every request. */
function uncached(store: FeedbackStore, query: GapListQuery): string {
  const { sort, limit, cursor, ...filter } = query;
  return JSON.stringify({ ...store.gaps.listGaps(filter, { sort, limit, cursor }), grouping: store.gaps.progress() });
}

const QUERIES: GapListQuery[] = [{}, { limit: 2 }, { sort: "reports" }, { sort: "last_seen", server_name: "billing" }];

/** Every query, cached, equals the uncached read now; returns the default page. */
function expectExact(store: FeedbackStore): string {
  for (const q of QUERIES) expect(cachedGapListJson(store, q), JSON.stringify(q)).toBe(uncached(store, q));
  return cachedGapListJson(store, {});
}

/** Runs a write and checks the cached default page changed with it and is exact afterwards. */
function expectFollows(store: FeedbackStore, write: () => void): void {
  const before = expectExact(store);
  write();
  const after = expectExact(store);
  expect(after).not.toBe(before);
}

const gapIds = (store: FeedbackStore) => store.gaps.listGaps({}, { limit: 200 }).items.map((g) => g.id);

describe("the gap list cache", () => {
  it("answers from memory until something is written", () => {
    const s = seeded();
    const first = cachedGapListJson(s, {});
    const reads = vi.spyOn(s.gaps, "listGaps");
    expect(cachedGapListJson(s, {})).toBe(first);
    expect(cachedGapListJson(s, {})).toBe(first);
    expect(reads).not.toHaveBeenCalled();
    s.insertReport(report(0, 50));
    expect(cachedGapListJson(s, {})).toBe(uncached(s, {}));
    expect(reads).toHaveBeenCalled();
  });

  it("follows new reports, edits, merges, splits, moves, analyses and a regroup", () => {
    const s = seeded();
    expectFollows(s, () => s.insertReport(report(1, 60)));
    const [a, b, c] = gapIds(s) as [number, number, number];
    expectFollows(s, () => s.gaps.updateGap(a, { title: "Date range filter", status: "planned" }, "local"));
    expectFollows(s, () => s.gaps.updateGap(a, { agent_note: "Coming in 2.0" }, "local"));
    expectFollows(s, () =>
      s.gaps.analyses.save(
        b,
        {
          title: "CSV export",
          summary: "Agents need customers as CSV.",
          proposed_change: { kind: "new_parameter", signature: "format: 'csv'", detail: "Add a format." },
          provider: "anthropic",
          model: "claude",
          report_count: 1,
          refresh_after: 2,
        },
        "local",
      ),
    );
    const members = s.listReports({ gap_id: c }, { limit: 200 }).items.map((r) => r.id);
    expectFollows(s, () => s.gaps.splitGap(c, [members[0]!], "local"));
    expectFollows(s, () => s.gaps.moveReport(members[1]!, b, "local"));
    expectFollows(s, () => s.gaps.mergeGaps(c, b, "local"));
    expectFollows(s, () => {
      s.gaps.startRegroup();
      s.gaps.runPending({ batchSize: 2 });
    });
  });

  it("follows writes by another connection to the same file", () => {
    const s = seeded();
    const other = open(s.path);
    expectFollows(s, () => other.insertReport(report(2, 70)));
    expectFollows(s, () => other.gaps.updateGap(gapIds(s)[0]!, { status: "wontfix" }, "local"));
  });

  it("scores at the time of each request, without a write", () => {
    const s = seeded();
    const at = (days: number) => {
      vi.setSystemTime(new Date(Date.parse("2026-03-20T12:00:00Z") + days * DAY));
      return expectExact(s);
    };
    const pages = [at(0), at(0.05), at(3), at(40)];
    expect(new Set(pages).size).toBe(pages.length);
    const scores = (json: string) => (JSON.parse(json) as { items: { score: number }[] }).items.map((g) => g.score);
    expect(scores(pages[3]!)[0]).toBeLessThan(scores(pages[0]!)[0]!);
  });

  it("pages with the cursors it hands out and refuses one it did not", () => {
    const s = seeded();
    const first = JSON.parse(cachedGapListJson(s, { limit: 1 })) as { nextCursor: string };
    const next = { limit: 1, cursor: first.nextCursor };
    expect(cachedGapListJson(s, next)).toBe(uncached(s, next));
    expect(() => cachedGapListJson(s, { cursor: "bm90LW91cnM" })).toThrow(StoreError);
    expect(() => cachedGapListJson(s, { cursor: "bm90LW91cnM" })).toThrow(/cursor/);
  });
});
