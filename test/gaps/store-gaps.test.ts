import { afterEach, describe, expect, it } from "vitest";
import type { FeedbackPayload } from "../../src/feedback/index.js";
import { FeedbackStore, StoreError } from "../../src/store/index.js";
import { testDbPath } from "../helpers/serve.js";

const stores: FeedbackStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function open(): FeedbackStore {
  const s = FeedbackStore.open(testDbPath("pwm-gaps-"));
  stores.push(s);
  return s;
}

/** Reports about one need, templated the way agents write them (run ids, dates). */
export const dateRange = (i: number, over: Partial<FeedbackPayload> = {}): FeedbackPayload => ({
  server_name: "billing",
  tool_name: "list_invoices",
  gap_type: "missing_parameter",
  what_i_needed: `Filter invoices by a date range for run ${1000 + i} on 2026-03-${String(1 + (i % 28)).padStart(2, "0")}`,
  what_i_tried: `Called list_invoices with limit=${i}; it has no from/to parameters`,
  suggestion: "Add from and to date parameters to list_invoices",
  tools_available: ["list_invoices"],
  session_id: `s-${i}`,
  resolution: i % 2 ? "blocked" : "worked_around",
  ...over,
});

export const csvExport = (i: number, over: Partial<FeedbackPayload> = {}): FeedbackPayload => ({
  server_name: "billing",
  tool_name: "export_customers",
  gap_type: "wrong_format",
  what_i_needed: `Customer export as CSV spreadsheet file, batch ${i}`,
  what_i_tried: "export_customers only returns nested JSON objects",
  suggestion: "Offer format=csv on export_customers",
  tools_available: ["export_customers"],
  session_id: `c-${i}`,
  ...over,
});

const insert = (s: FeedbackStore, payloads: FeedbackPayload[]) =>
  s.insertMany(payloads.map((payload) => ({ payload })));
const gapOf = (s: FeedbackStore, id: number) => s.getReport(id)!.gap_id;
const membersOf = (s: FeedbackStore, gapId: number) =>
  s
    .listReports({ gap_id: gapId }, { limit: 200 })
    .items.map((r) => r.id)
    .sort((a, b) => a - b);

function expectConsistent(s: FeedbackStore): void {
  // Every report has a gap, and every gap's cached count is its number of reports.
  expect(s.countReports({})).toBe(s.listReports({}, { limit: 200 }).items.filter((r) => r.gap_id !== null).length);
  for (const g of s.gaps.listGaps({}, { limit: 200 }).items) expect(g.reports).toBe(s.countReports({ gap_id: g.id }));
}

describe("assignment at ingest", () => {
  it("puts every report in a gap in the insert transaction: templated texts together, unrelated apart, never across servers", () => {
    const s = open();
    const a = insert(
      s,
      [0, 1, 2, 3].map((i) => dateRange(i)),
    );
    const b = insert(
      s,
      [0, 1, 2].map((i) => csvExport(i)),
    );
    const other = insert(s, [dateRange(9, { server_name: "calendar" })]);
    for (const r of [...a, ...b, ...other]) expect(r.gap_id).toEqual(expect.any(Number));
    expect(new Set(a.map((r) => r.gap_id)).size).toBe(1);
    expect(new Set(b.map((r) => r.gap_id)).size).toBe(1);
    expect(a[0]!.gap_id).not.toBe(b[0]!.gap_id);
    expect(other[0]!.gap_id).not.toBe(a[0]!.gap_id);
    expect(s.gaps.getGap(other[0]!.gap_id!)!.server_name).toBe("calendar");
    const gap = s.gaps.getGap(a[0]!.gap_id!)!;
    expect(gap).toMatchObject({
      server_name: "billing",
      reports: 4,
      sessions: 4,
      blocked: 2,
      tool_name: "list_invoices",
    });
    expect(gap.score_explain).toContain("half-life 14 days");
    expect(gapOf(s, a[2]!.id)).toBe(gap.id);
    expectConsistent(s);
  });

  it("an idempotent replay returns the first report and its gap, without counting it twice", () => {
    const s = open();
    const first = s.insertReport(dateRange(1), "key-1");
    const again = s.insertReport(dateRange(1), "key-1");
    expect(again).toMatchObject({ id: first.id, created: false, gap_id: first.gap_id });
    expect(s.gaps.getGap(first.gap_id!)!.reports).toBe(1);
  });

  it("counts distinct sessions, clients and models (a report without a session counts as its own)", () => {
    const s = open();
    insert(s, [
      dateRange(1, { session_id: "x", client_type: "cursor", agent_model: "m1" }),
      dateRange(2, { session_id: "x", client_type: "cursor", agent_model: "m2" }),
      dateRange(3, { session_id: undefined, client_type: "claude-code", agent_model: "m2" }),
      dateRange(4, { session_id: undefined }),
    ]);
    const g = s.gaps.listGaps({})!.items[0]!;
    expect(g).toMatchObject({ reports: 4, sessions: 3, clients: 2, models: 2 });
  });
});

describe("human decisions survive a regroup", () => {
  it("a merge stays merged", () => {
    const s = open();
    const a = insert(
      s,
      [0, 1, 2].map((i) => dateRange(i)),
    );
    const b = insert(
      s,
      [0, 1].map((i) => csvExport(i)),
    );
    const [ga, gb] = [a[0]!.gap_id!, b[0]!.gap_id!];
    const merged = s.gaps.mergeGaps(gb, ga, "tester");
    expect(merged.reports).toBe(5);
    expect(s.gaps.getGap(gb)).toMatchObject({ status: "duplicate", duplicate_of: ga, reports: 0 });
    s.gaps.startRegroup();
    s.gaps.runPending({ batchSize: 2 });
    expect(membersOf(s, ga)).toEqual([...a, ...b].map((r) => r.id).sort((x, y) => x - y));
    expect(s.gaps.listHistory(ga).map((h) => h.action)).toContain("merged_from");
    expect(s.gaps.listHistory(gb)[0]).toMatchObject({ actor: "tester", action: "merged_into", details: { into: ga } });
    expectConsistent(s);
  });

  it("a split is never re-merged, and split reports are pinned", () => {
    const s = open();
    const a = insert(
      s,
      [0, 1, 2, 3].map((i) => dateRange(i)),
    );
    const gap = a[0]!.gap_id!;
    const { from, to } = s.gaps.splitGap(gap, [a[2]!.id, a[3]!.id], "tester");
    expect([from.reports, to.reports]).toEqual([2, 2]);
    s.gaps.startRegroup();
    s.gaps.runPending({ batchSize: 1 });
    expect(membersOf(s, to.id)).toEqual([a[2]!.id, a[3]!.id]);
    expect(membersOf(s, gap)).toEqual([a[0]!.id, a[1]!.id]);
    // New reports of the same need still join one of the two, never fuse them.
    insert(s, [dateRange(7)]);
    expect(membersOf(s, to.id).length + membersOf(s, gap).length).toBe(5);
    expectConsistent(s);
  });

  it("a moved report stays where a human put it", () => {
    const s = open();
    const a = insert(
      s,
      [0, 1, 2].map((i) => dateRange(i)),
    );
    const b = insert(
      s,
      [0, 1].map((i) => csvExport(i)),
    );
    const moved = s.gaps.moveReport(a[1]!.id, b[0]!.gap_id!, "tester");
    expect(moved.reports).toBe(3);
    expect(s.gaps.getGap(a[0]!.gap_id!)!.reports).toBe(2);
    s.gaps.startRegroup();
    s.gaps.runPending();
    expect(gapOf(s, a[1]!.id)).toBe(b[0]!.gap_id);
    expectConsistent(s);
  });

  it("a regroup keeps automatic gaps' ids and records every automatic move in the history", () => {
    const s = open();
    const a = insert(
      s,
      [0, 1, 2].map((i) => dateRange(i)),
    );
    const b = insert(
      s,
      [0, 1].map((i) => csvExport(i)),
    );
    // Put a report in the wrong gap behind the store's back, as an older engine might have.
    s.db.prepare("UPDATE reports SET gap_id = ? WHERE id = ?").run(b[0]!.gap_id, a[2]!.id);
    s.gaps.startRegroup();
    const done = s.gaps.runPending({ batchSize: 2 });
    expect(done.mode).toBe("idle");
    expect(gapOf(s, a[2]!.id)).toBe(a[0]!.gap_id);
    expect(gapOf(s, b[1]!.id)).toBe(b[0]!.gap_id);
    expect(s.gaps.listHistory(a[0]!.gap_id!)[0]).toMatchObject({
      actor: "auto",
      action: "report_moved",
      details: { report_id: a[2]!.id, from_gap: b[0]!.gap_id },
    });
    expectConsistent(s);
  });
});

describe("regression", () => {
  function fixedGap(s: FeedbackStore, fixedIn: string): number {
    const [r] = insert(s, [dateRange(0, { server_version: "1.0.0" })]);
    s.gaps.updateGap(r!.gap_id!, { status: "fixed", fixed_in: fixedIn }, "tester");
    return r!.gap_id!;
  }

  it("reopens a fixed gap when a report comes from fixed_in or later (semver: v-prefix, prerelease)", () => {
    const s = open();
    const gap = fixedGap(s, "v1.4.0");
    insert(s, [dateRange(1, { server_version: "1.3.9" }), dateRange(2, { server_version: "1.4.0-rc.1" })]);
    expect(s.gaps.getGap(gap)).toMatchObject({ status: "fixed", regressed: false });
    const [r] = insert(s, [dateRange(3, { server_version: "1.4.0" })]);
    expect(r!.gap_id).toBe(gap);
    expect(s.gaps.getGap(gap)).toMatchObject({ status: "open", regressed: true });
    expect(s.gaps.listHistory(gap)[0]).toMatchObject({
      actor: "auto",
      action: "regressed",
      details: { report_id: r!.id, server_version: "1.4.0", fixed_in: "v1.4.0" },
    });
  });

  it("a report without a version flags the gap for review and leaves it fixed", () => {
    const s = open();
    const gap = fixedGap(s, "2.0.0");
    insert(s, [dateRange(1, { server_version: undefined })]);
    expect(s.gaps.getGap(gap)).toMatchObject({ status: "fixed", regressed: false, needs_review: true });
    expect(s.gaps.listHistory(gap)[0]).toMatchObject({ action: "needs_review" });
    // A decision clears the flag.
    s.gaps.updateGap(gap, { status: "planned" }, "tester");
    expect(s.gaps.getGap(gap)!.needs_review).toBe(false);
  });
});

describe("echo", () => {
  it("echoes only admin-written state (status, agent note), never another agent's text", () => {
    const s = open();
    const secret = "SECRET-FROM-AGENT-A token 12345";
    const [a] = insert(s, [dateRange(0, { what_i_tried: secret, suggestion: secret, user_goal: secret })]);
    const [plain] = insert(s, [dateRange(1)]);
    expect(plain!.gap).toBeUndefined();
    s.gaps.updateGap(a!.gap_id!, { agent_note: "Use list_payments with date filters for now." }, "tester");
    const [b] = insert(s, [dateRange(2)]);
    expect(b!.gap).toEqual({
      id: a!.gap_id,
      status: "open",
      reports: 3,
      agent_note: "Use list_payments with date filters for now.",
    });
    expect(JSON.stringify(b)).not.toContain("SECRET");
    s.gaps.updateGap(a!.gap_id!, { status: "planned", agent_note: null }, "tester");
    expect(insert(s, [dateRange(3)])[0]!.gap).toMatchObject({ status: "planned", agent_note: null });
  });
});

describe("history and bad input", () => {
  it("the database refuses to change or delete gap history", () => {
    const s = open();
    const [r] = insert(s, [dateRange(0)]);
    s.gaps.updateGap(r!.gap_id!, { title: "Date range on list_invoices" }, "tester");
    expect(() => s.db.prepare("UPDATE gap_history SET actor = 'x'").run()).toThrow(/append-only/);
    expect(() => s.db.prepare("DELETE FROM gap_history").run()).toThrow(/append-only/);
    expect(s.gaps.listHistory(r!.gap_id!).length).toBeGreaterThan(0);
  });

  it("names what is wrong", () => {
    const s = open();
    const a = insert(
      s,
      [0, 1].map((i) => dateRange(i)),
    );
    const b = insert(
      s,
      [0].map((i) => csvExport(i)),
    );
    const c = insert(s, [dateRange(0, { server_name: "calendar" })]);
    const [ga, gb, gc] = [a[0]!.gap_id!, b[0]!.gap_id!, c[0]!.gap_id!];
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(StoreError);
        return (err as StoreError).code;
      }
      throw new Error("did not throw");
    };
    expect(code(() => s.gaps.mergeGaps(ga, ga, "t"))).toBe("merge_into_itself");
    expect(code(() => s.gaps.mergeGaps(ga, gc, "t"))).toBe("merge_across_servers");
    expect(code(() => s.gaps.mergeGaps(ga, 999, "t"))).toBe("gap_not_found");
    expect(code(() => s.gaps.splitGap(ga, [b[0]!.id], "t"))).toBe("reports_not_in_gap");
    expect(code(() => s.gaps.splitGap(ga, [a[0]!.id, a[1]!.id], "t"))).toBe("split_leaves_gap_empty");
    expect(
      code(() =>
        s.gaps.splitGap(
          ga,
          Array.from({ length: 1001 }, (_, i) => i + 1),
          "t",
        ),
      ),
    ).toBe("too_many_reports");
    expect(code(() => s.gaps.moveReport(c[0]!.id, ga, "t"))).toBe("move_across_servers");
    expect(code(() => s.gaps.updateGap(ga, { fixed_in: "soon" }, "t"))).toBe("invalid_version");
    s.gaps.mergeGaps(gb, ga, "t");
    expect(code(() => s.gaps.mergeGaps(gb, ga, "t"))).toBe("gap_merged");
    expect(code(() => s.gaps.listGaps({}, { cursor: "nope" }))).toBe("invalid_cursor");
  });
});

describe("listing", () => {
  it("sorts by score by default and pages with a cursor without repeats", () => {
    const s = open();
    // Seven unrelated needs on seven tools (k + 1 reports each): seven gaps for any reasonable engine.
    const needs = [
      "Export invoices as a PDF document",
      "Refund a payment to the customer card",
      "Send a payment reminder email",
      "Change the currency of an account",
      "Attach a receipt image to an expense",
      "Split a bill between several payers",
      "Schedule recurring subscription charges",
    ];
    for (let k = 0; k < 7; k++)
      insert(
        s,
        Array.from({ length: k + 1 }, (_, i) =>
          dateRange(i, {
            tool_name: `tool_${k}`,
            gap_type: "missing_tool",
            what_i_needed: `${needs[k]} for run ${i}`,
            what_i_tried: `Looked through tool_${k} and the tool list for run ${i}`,
            suggestion: undefined,
          }),
        ),
      );
    expect(s.gaps.listGaps({}, { limit: 200 }).items).toHaveLength(7);
    const all = s.gaps.listGaps({}, { limit: 200 }).items;
    expect(all.map((g) => g.score)).toEqual([...all.map((g) => g.score)].sort((x, y) => y - x));
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = s.gaps.listGaps({}, { limit: 3, cursor });
      seen.push(...page.items.map((g) => g.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(all.map((g) => g.id));
    expect(s.gaps.listGaps({ tool_name: "tool_3" }).items.map((g) => g.tool_name)).toEqual(["tool_3"]);
    expect(s.gaps.listGaps({}, { sort: "reports", limit: 1 }).items[0]!.reports).toBe(7);
  });
});
