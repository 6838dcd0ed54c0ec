// How the proxy cuts its buffered call events into POST /api/calls bodies (src/delivery/calls-client.ts):
// as many as fit CALL_LIMITS.batch_bytes and batch_items, never an empty batch, and the body sent is
// exactly that batch's JSON.
import { describe, expect, it } from "vitest";
import { CALL_LIMITS, type CallEvent } from "../../src/analytics/index.js";
import { packCallBatch } from "../../src/delivery/calls-client.js";
import { callEvent } from "../helpers/call-event.js";

const event = (i: number, argChars = 0): CallEvent =>
  callEvent({
    tool_name: `tool_${i}`,
    started_at: new Date(1_700_000_000_000 + i).toISOString(),
    // Non-ASCII text, so bytes and characters differ.
    arguments: argChars > 0 ? { q: "é".repeat(argChars) } : null,
  });

const bodyBytes = (calls: CallEvent[]) => Buffer.byteLength(JSON.stringify({ calls, rollups: [] }));

describe("packCallBatch", () => {
  it("fills a body up to the byte limit and not one event past it", () => {
    const events = Array.from({ length: 3000 }, (_, i) => event(i, 1500));
    let from = 0;
    let batches = 0;
    while (from < events.length) {
      const batch = packCallBatch("calls", events, from);
      const n = batch.calls.length;
      const slice = events.slice(from, from + n);
      expect(batch.calls).toEqual(slice);
      expect(JSON.parse(batch.json)).toEqual({ calls: slice, rollups: [] });
      expect(Buffer.byteLength(batch.json)).toBe(bodyBytes(slice));
      expect(bodyBytes(slice)).toBeLessThanOrEqual(CALL_LIMITS.batch_bytes);
      if (from + n < events.length)
        expect(bodyBytes(events.slice(from, from + n + 1))).toBeGreaterThan(CALL_LIMITS.batch_bytes);
      from += n;
      batches++;
    }
    expect(batches).toBeGreaterThan(10);
  });

  it("takes what is left when it fits", () => {
    const events = Array.from({ length: 100 }, (_, i) => event(i));
    expect(packCallBatch("calls", events, 0).calls).toHaveLength(100);
    expect(packCallBatch("calls", events, 90).calls).toEqual(events.slice(90));
  });

  it("sends an event larger than the limit on its own rather than never", () => {
    const events = [event(0, CALL_LIMITS.batch_bytes), event(1)];
    expect(packCallBatch("calls", events, 0).calls).toEqual([events[0]]);
    expect(packCallBatch("calls", events, 1).calls).toEqual([events[1]]);
  });

  it("packs rollups the same way, under their own key", () => {
    const rollup = {
      server_name: "s",
      tool_name: "t",
      client_name: null,
      hour: "2026-12-03T10:00:00.000Z",
      calls: 2,
      errors: 0,
      histogram: [2, 0, 0],
    };
    const batch = packCallBatch("rollups", [rollup, rollup], 0);
    expect(JSON.parse(batch.json)).toEqual({ calls: [], rollups: [rollup, rollup] });
    expect(batch.calls).toEqual([]);
  });
});
