/** The dashboard's parts that run in Node: enum mirrors, hash routes, the SSE reader, the static router, and the no-HTML-sink rule. */
import express from "express";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GAP_TYPES, RESOLUTIONS } from "../../src/feedback/index.js";
import {
  AGENT_NOTE_MAX,
  GAP_SORTS,
  GAP_STATUSES,
  gapFilterShape,
  REPORT_STATUSES,
  SETTABLE_GAP_STATUSES,
} from "../../src/store/index.js";
import { apiFilters, filtersQuery, gapFiltersQuery, href, parseRoute } from "../../src/ui/app/router.js";
import { readSse } from "../../src/ui/app/sse.js";
import * as ui from "../../src/ui/app/types.js";
import { DASHBOARD_CSP, dashboardRoutes } from "../../src/ui/serve.js";
import { REPO_ROOT, tempDir } from "../helpers/serve.js";

describe("dashboard enums", () => {
  it("mirror the contract's gap types, resolutions and statuses", () => {
    expect(ui.GAP_TYPES).toEqual(GAP_TYPES);
    expect(ui.RESOLUTIONS).toEqual(RESOLUTIONS);
    expect(ui.REPORT_STATUSES).toEqual(REPORT_STATUSES);
    for (const value of [...GAP_TYPES, ...RESOLUTIONS, ...REPORT_STATUSES])
      expect(ui.LABELS[value]).toBeTypeOf("string");
  });

  it("mirror the gap statuses, sorts, note limit and list filters", () => {
    expect(ui.GAP_STATUSES).toEqual(GAP_STATUSES);
    expect(ui.SETTABLE_GAP_STATUSES).toEqual(SETTABLE_GAP_STATUSES);
    expect(ui.GAP_SORTS).toEqual(GAP_SORTS);
    expect(ui.AGENT_NOTE_MAX).toBe(AGENT_NOTE_MAX);
    expect([...ui.GAP_FILTER_KEYS].sort()).toEqual([...Object.keys(gapFilterShape), "sort"].sort());
    for (const value of [...GAP_STATUSES, ...GAP_SORTS]) expect(ui.LABELS[value]).toBeTypeOf("string");
  });
});

describe("hash routes", () => {
  it("parse views, ids and filters, ignoring unknown keys and empty values", () => {
    // Gaps are the home view; reports live under #/reports.
    expect(parseRoute("")).toEqual({ view: "gaps", filters: {} });
    expect(parseRoute("#/?server_name=git%20hub&q=&bogus=1&sort=reports&resolution=blocked")).toEqual({
      view: "gaps",
      filters: { server_name: "git hub", sort: "reports" },
    });
    expect(parseRoute("#/reports?server_name=git%20hub&q=&bogus=1&gap_type=other")).toEqual({
      view: "list",
      filters: { server_name: "git hub", gap_type: "other" },
    });
    expect(parseRoute("#/g/7")).toEqual({ view: "gap", id: 7 });
    expect(parseRoute("#/g/7x")).toEqual({ view: "gaps", filters: {} });
    expect(parseRoute("#/r/42")).toEqual({ view: "report", id: 42 });
    expect(parseRoute("#/r/42x")).toEqual({ view: "gaps", filters: {} });
    expect(parseRoute("#/overview?status=open")).toEqual({ view: "overview", filters: { status: "open" } });
    expect(parseRoute("#/settings")).toEqual({ view: "settings" });
  });

  it("round-trip filters through the query string", () => {
    const filters = { q: "a&b=c #x", session_id: "<s>" };
    expect(parseRoute(`#/reports${filtersQuery(filters)}`)).toEqual({ view: "list", filters });
    const gapFilters = { q: "date & range", status: "planned", sort: "last_seen" };
    expect(parseRoute(`#/${gapFiltersQuery(gapFilters)}`)).toEqual({ view: "gaps", filters: gapFilters });
    expect(parseRoute(href({ view: "gap", id: 12 }))).toEqual({ view: "gap", id: 12 });
  });

  it("make the inclusive 'until' day exclusive for the API", () => {
    expect(apiFilters({ since: "2026-02-28", until: "2026-02-28" })).toEqual({
      since: "2026-02-28",
      until: "2026-03-01",
    });
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
    const stream =
      ': hello\r\nevent: step\r\ndata: {"step":"fetch"}\r\n\r\nevent: detail\rdata: line 1\rdata: line 2\r\rid: 7\ndata: plain\n\nevent: done\ndata:{"url":"https://x/pull/1"}\n\n';
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
    const sink =
      /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|srcdoc|createContextualFragment)\b|\son[a-z]+\s*=\s*["']/;
    expect(files.filter((f) => sink.test(readFileSync(f, "utf8")))).toEqual([]);
  });
});

describe("dashboard router", () => {
  const serveDir = async (dir: string) => {
    const app = express();
    app.use(dashboardRoutes({ dir }));
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () => new Promise((r) => server.close(r)),
    };
  };

  it("answers 503 dashboard_not_built when dist/ui is missing", async () => {
    const { url, close } = await serveDir(join(tempDir(), "missing"));
    try {
      const res = await fetch(`${url}/`);
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("dashboard_not_built");
    } finally {
      await close();
    }
  });

  it("serves index.html with the CSP and no-cache, assets as immutable, and nothing else", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>x</title>");
    writeFileSync(join(dir, "assets", "app-ABC.js"), "console.log(1)");
    const { url, close } = await serveDir(dir);
    try {
      for (const path of ["/", "/index.html"]) {
        const page = await fetch(`${url}${path}`);
        expect(page.status).toBe(200);
        expect(page.headers.get("content-type")).toContain("text/html");
        expect(page.headers.get("content-security-policy")).toBe(DASHBOARD_CSP);
        expect(page.headers.get("cache-control")).toBe("no-cache");
        expect(page.headers.get("x-frame-options")).toBe("DENY");
      }
      const asset = await fetch(`${url}/assets/app-ABC.js`);
      expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect((await fetch(`${url}/other`)).status).toBe(404);
      expect((await fetch(`${url}/assets/`)).status).toBe(404);
    } finally {
      await close();
    }
  });
});

describe("links and labels from report data", () => {
  it("only lets http(s) URLs and plain same-site paths become links", async () => {
    const { safeHref } = await import("../../src/ui/app/dom.js");
    expect(safeHref("https://github.com/o/r/pull/1")).toBe("https://github.com/o/r/pull/1");
    expect(safeHref("/#/r/1")).toBe("/#/r/1");
    for (const bad of ["javascript:alert(1)", "//evil.example", "/\\evil.example", "data:text/html,x", "vbscript:x"])
      expect(safeHref(bad)).toBe("#");
  });

  it("labels only known values, whatever name an agent chose", () => {
    expect(ui.label("missing_tool")).not.toBe("missing_tool");
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty"]) expect(ui.label(name)).toBe(name);
  });
});
