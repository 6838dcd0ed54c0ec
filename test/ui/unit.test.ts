/** Pure parts of the dashboard, run in Node: enum mirrors, hash routes, the SSE reader, and the no-HTML-sink rule. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GAP_TYPES, RESOLUTIONS } from "../../src/feedback/index.js";
import { REPORT_STATUSES } from "../../src/store/index.js";
import { apiFilters, filtersQuery, parseRoute } from "../../src/ui/app/router.js";
import { readSse } from "../../src/ui/app/sse.js";
import * as ui from "../../src/ui/app/types.js";
import { REPO_ROOT } from "../helpers/serve.js";

describe("dashboard enums", () => {
  it("mirror the contract's gap types, resolutions and statuses", () => {
    expect(ui.GAP_TYPES).toEqual(GAP_TYPES);
    expect(ui.RESOLUTIONS).toEqual(RESOLUTIONS);
    expect(ui.REPORT_STATUSES).toEqual(REPORT_STATUSES);
    for (const value of [...GAP_TYPES, ...RESOLUTIONS, ...REPORT_STATUSES]) expect(ui.LABELS[value]).toBeTypeOf("string");
  });
});

describe("hash routes", () => {
  it("parse views, ids and filters, ignoring unknown keys and empty values", () => {
    expect(parseRoute("")).toEqual({ view: "list", filters: {} });
    expect(parseRoute("#/?server_name=git%20hub&q=&bogus=1&gap_type=other")).toEqual({
      view: "list",
      filters: { server_name: "git hub", gap_type: "other" },
    });
    expect(parseRoute("#/r/42")).toEqual({ view: "report", id: 42 });
    expect(parseRoute("#/r/42x")).toEqual({ view: "list", filters: {} });
    expect(parseRoute("#/overview?status=open")).toEqual({ view: "overview", filters: { status: "open" } });
    expect(parseRoute("#/settings")).toEqual({ view: "settings" });
  });

  it("round-trip filters through the query string", () => {
    const filters = { q: "a&b=c #x", session_id: "<s>" };
    expect(parseRoute(`#/${filtersQuery(filters)}`)).toEqual({ view: "list", filters });
  });

  it("make the inclusive 'until' day exclusive for the API", () => {
    expect(apiFilters({ since: "2026-02-28", until: "2026-02-28" })).toEqual({ since: "2026-02-28", until: "2026-03-01" });
    expect(apiFilters({ until: "2026-12-31" }).until).toBe("2027-01-01");
  });
});

async function collect(chunks: string[]) {
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(encoder.encode(c));
      controller.close();
    },
  });
  const events = [];
  for await (const e of readSse(new Response(body))) events.push(e);
  return events;
}

describe("readSse", () => {
  it("parses events split anywhere, with CRLF, CR, comments, ids and multi-line data", async () => {
    const stream = ": hello\r\nevent: step\r\ndata: {\"step\":\"fetch\"}\r\n\r\nevent: detail\rdata: line 1\rdata: line 2\r\rid: 7\ndata: plain\n\nevent: done\ndata:{\"url\":\"https://x/pull/1\"}\n\n";
    const expected = [
      { event: "step", data: '{"step":"fetch"}' },
      { event: "detail", data: "line 1\nline 2" },
      { event: "message", data: "plain", id: "7" },
      // The last event id carries over, as in EventSource.
      { event: "done", data: '{"url":"https://x/pull/1"}', id: "7" },
    ];
    expect(await collect([stream])).toEqual(expected);
    // One byte at a time, so every boundary (including inside CRLF) is split.
    expect(await collect([...stream])).toEqual(expected);
  });

  it("drops an event the stream never finished", async () => {
    expect(await collect(["event: step\ndata: half"])).toEqual([]);
  });
});

describe("dashboard sources", () => {
  it("never use HTML-string sinks", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (/\.(ts|html)$/.test(name)) files.push(path);
      }
    };
    walk(join(REPO_ROOT, "src/ui"));
    expect(files.length).toBeGreaterThan(10);
    const sink = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|srcdoc|createContextualFragment)\b|\son[a-z]+\s*=\s*["']/;
    expect(files.filter((f) => sink.test(readFileSync(f, "utf8")))).toEqual([]);
  });
});
