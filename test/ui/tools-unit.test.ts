/** The Tools views' parts that run in Node: their routes, the hour padding of the trend, grouping and figures. */
import { describe, expect, it } from "vitest";
import { duration, share } from "../../src/ui/app/format.js";
import { href, parseRoute } from "../../src/ui/app/router.js";
import type { ToolRow } from "../../src/ui/app/types.js";
import { denseHours } from "../../src/ui/app/views/tool.js";
import { byServer, toolsQuery } from "../../src/ui/app/views/tools.js";

describe("tools routes", () => {
  it("parse the list's filters and a tool's server and name", () => {
    expect(parseRoute("#/tools?server_name=git%20hub&client=&bogus=1&days=30")).toEqual({
      view: "tools",
      filters: { server_name: "git hub", days: "30" },
    });
    expect(parseRoute("#/tool?server_name=a%26b&tool_name=x%3Dy&days=1&client=cc")).toEqual({
      view: "tool",
      server_name: "a&b",
      tool_name: "x=y",
      filters: { days: "1", client: "cc" },
    });
    // Without both names a tool route is the list.
    expect(parseRoute("#/tool?server_name=a")).toEqual({ view: "tools", filters: { server_name: "a" } });
  });

  it("round-trip through href", () => {
    const tool = { view: "tool", server_name: "s #1", tool_name: "t&u", filters: { days: "30" } } as const;
    expect(parseRoute(href(tool))).toEqual(tool);
    const list = { view: "tools", filters: { server_name: "<s>", client: "a b" } } as const;
    expect(parseRoute(href(list))).toEqual(list);
  });
});

describe("toolsQuery", () => {
  it("turns days into since at a whole hour and keeps server and client", () => {
    const q = toolsQuery({ server_name: "s", client: "c", days: "1" });
    expect(q.server_name).toBe("s");
    expect(q.client).toBe("c");
    const since = Date.parse(q.since ?? "");
    expect(since % 3_600_000).toBe(0);
    expect(Date.now() - since).toBeGreaterThanOrEqual(86_400_000);
    expect(Date.now() - since).toBeLessThan(86_400_000 + 3_600_000);
    // Nonsense falls back to the 7-day default.
    const fallback = Date.parse(toolsQuery({ days: "-3" }).since ?? "");
    expect(Math.round((Date.now() - fallback) / 86_400_000)).toBe(7);
  });
});

describe("denseHours", () => {
  it("pads the hours without calls with zeros and keeps the API's rows", () => {
    const now = Date.parse("2026-11-30T12:34:00Z");
    const out = denseHours(
      [{ hour: "2026-11-30T10:00:00.000Z", calls: 4, errors: 1, p95_ms: 30 }],
      "2026-11-30T09:00:00.000Z",
      now,
    );
    expect(out.map((r) => [r.hour.slice(11, 13), r.calls, r.errors])).toEqual([
      ["09", 0, 0],
      ["10", 4, 1],
      ["11", 0, 0],
      ["12", 0, 0],
    ]);
    // An exclusive until at a whole hour stops before it.
    const upTo = denseHours([], "2026-11-30T09:00:00.000Z", Date.parse("2026-11-30T11:00:00Z"));
    expect(upTo.map((r) => r.hour)).toEqual(["2026-11-30T09:00:00.000Z", "2026-11-30T10:00:00.000Z"]);
  });

  it("leaves a range longer than a month sparse", () => {
    const rows = [{ hour: "2026-11-30T10:00:00.000Z", calls: 1, errors: 0, p95_ms: 1 }];
    expect(denseHours(rows, "2026-01-01T00:00:00.000Z", Date.parse("2026-11-30T12:00:00Z"))).toEqual(rows);
  });
});

describe("byServer", () => {
  const row = (server_name: string, tool_name: string, calls: number): ToolRow => ({
    server_name,
    tool_name,
    calls,
    errors: 0,
    error_rate: 0,
    p50_ms: null,
    p95_ms: null,
    p99_ms: null,
    last_call_at: "2026-11-30T10:00:00.000Z",
  });
  it("groups tools by server, busiest server and tool first", () => {
    const groups = byServer([row("a", "x", 1), row("b", "y", 5), row("a", "z", 3), row("b", "w", 7)]);
    expect(groups.map(([s, rows]) => [s, rows.map((r) => r.tool_name)])).toEqual([
      ["b", ["w", "y"]],
      ["a", ["z", "x"]],
    ]);
  });
});

describe("figures", () => {
  it("format latencies and shares, with a dash for none", () => {
    expect(duration(0.42)).toBe("0.4 ms");
    expect(duration(42.4)).toBe("42 ms");
    expect(duration(1530)).toBe("1.5 s");
    expect(duration(null)).toBe("—");
    expect(share(1 / 3)).toBe("33.3%");
    expect(share(0)).toBe("0.0%");
    expect(share(null)).toBe("—");
  });
});
