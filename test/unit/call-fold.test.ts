// The proxy folds the calls past its buffer into hourly rollups (proxy/analytics.ts): one row per
// server × tool × client × UTC hour, whatever offset the instant was written with.
import { describe, expect, it } from "vitest";
import { foldEvent } from "../../proxy/analytics.js";
import { type CallEvent, type CallRollup, emptyHistogram } from "../../src/analytics/index.js";
import { callEvent } from "../helpers/call-event.js";

const event = (started_at: string, over: Partial<CallEvent> = {}): CallEvent => callEvent({ started_at, ...over });

describe("foldEvent", () => {
  it("counts calls, errors and latency per key and UTC hour", () => {
    const rows = new Map<string, CallRollup>();
    foldEvent(rows, event("2026-12-03T10:00:00.000Z"));
    foldEvent(rows, event("2026-12-03T10:59:59.999Z", { outcome: "error", error_code: -32603, duration_ms: 50_000 }));
    // The same instants written with an offset land in the same hours.
    foldEvent(rows, event("2026-12-03T11:30:00+01:00", { outcome: "tool_error" }));
    foldEvent(rows, event("2026-12-03T11:00:00.000Z"));
    foldEvent(rows, event("2026-12-03T11:00:00.000Z", { client_name: null }));
    const byHour = [...rows.values()].map((r) => [r.hour, r.client_name, r.calls, r.errors]);
    expect(byHour).toEqual([
      ["2026-12-03T10:00:00.000Z", "c", 3, 2],
      ["2026-12-03T11:00:00.000Z", "c", 1, 0],
      ["2026-12-03T11:00:00.000Z", null, 1, 0],
    ]);
    const first = [...rows.values()][0]!;
    expect(first.histogram.reduce((a, n) => a + n, 0)).toBe(3);
    expect(first.histogram).not.toEqual(emptyHistogram());
  });
});
