/**
 * Tools: what the proxy saw of every tools/call, per server — calls, error %, latency per
 * tool (busiest first), and feedback coverage: of the sessions where a call failed, how many
 * filed a report. The rest are silent failures: the agent hit a wall and said nothing.
 * From GET /api/tools; a tool's row opens its own view (tool.ts).
 */
import { getJson, withQuery } from "../api.js";
import { h, mount } from "../dom.js";
import { searchBox } from "../filterbar.js";
import { count, duration, fullTime, share, when } from "../format.js";
import { href, navigate, type Route } from "../router.js";
import { TOOL_RANGES_DAYS, type ToolFilters, type ToolRow, type ToolsAnswer } from "../types.js";
import { empty, failure, isAbort, loading } from "./states.js";
import type { View } from "./view.js";

export const DEFAULT_TOOL_DAYS = 7;

/** The API's query for the view's filters: `days` becomes `since` (to the hour, so reloads agree). */
export function toolsQuery(filters: ToolFilters): Record<string, string | undefined> {
  const days = Number(filters.days ?? DEFAULT_TOOL_DAYS);
  const valid = Number.isInteger(days) && days > 0 && days <= 366 ? days : DEFAULT_TOOL_DAYS;
  const since = new Date(Date.now() - valid * 86_400_000);
  since.setUTCMinutes(0, 0, 0);
  return { server_name: filters.server_name, client: filters.client, since: since.toISOString() };
}

const rangeLabel = (days: number) => (days === 1 ? "Last 24 hours" : `Last ${days} days`);

/** A figure tile: its value and what it is; `title` explains how it is computed. */
export function figure(id: string, title: string, value: string, hint?: string): HTMLElement {
  return h(
    "div",
    { class: "tile", id, title: hint ?? null },
    h("span", { class: "tile-value" }, value),
    h("span", { class: "tile-label" }, title),
  );
}

/** The coverage figures both views show: silent failures and the share of error sessions that reported. */
export function coverageTiles(c: ToolsAnswer["coverage"], prefix: string): HTMLElement[] {
  const silent = Math.max(0, c.sessions_with_errors - c.sessions_reported);
  return [
    figure(`${prefix}-error-sessions`, "Sessions with errors", count(c.sessions_with_errors)),
    figure(
      `${prefix}-silent`,
      "Silent failures",
      count(silent),
      "Sessions where a call failed and the agent filed no report",
    ),
    figure(
      `${prefix}-coverage`,
      "Feedback coverage",
      share(c.ratio),
      `Sessions that filed a report ÷ sessions that had an error: ${count(c.sessions_reported)} of ${count(c.sessions_with_errors)}`,
    ),
  ];
}

const num = (cls: string, text: string, title?: string) => h("td", { class: `num ${cls}`, title: title ?? null }, text);

function toolTable(server: string, rows: ToolRow[], filters: ToolFilters): HTMLElement {
  const { server_name: _server, ...rest } = filters;
  return h(
    "section",
    { class: "panel tools-server", "data-server": server, "aria-label": `Tools of ${server}` },
    h("h2", null, server),
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { class: "data-table tools-table" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", { scope: "col" }, "Tool"),
            h("th", { scope: "col", class: "num" }, "Calls"),
            h("th", { scope: "col", class: "num" }, "Errors"),
            h("th", { scope: "col", class: "num" }, "Error %"),
            h("th", { scope: "col", class: "num" }, "p50"),
            h("th", { scope: "col", class: "num" }, "p95"),
            h("th", { scope: "col", class: "num" }, "p99"),
            h("th", { scope: "col" }, "Last call"),
          ),
        ),
        h(
          "tbody",
          null,
          rows.map((r) =>
            h(
              "tr",
              { "data-tool": r.tool_name, class: r.errors > 0 ? "has-errors" : null },
              h(
                "th",
                { scope: "row" },
                h(
                  "a",
                  {
                    class: "tool-link",
                    href: href({ view: "tool", server_name: server, tool_name: r.tool_name, filters: rest }),
                  },
                  r.tool_name,
                ),
              ),
              num("calls", count(r.calls)),
              num("errors", count(r.errors)),
              num("error-rate", share(r.error_rate), `${count(r.errors)} of ${count(r.calls)} calls failed`),
              num("p50", duration(r.p50_ms)),
              num("p95", duration(r.p95_ms)),
              num("p99", duration(r.p99_ms)),
              h(
                "td",
                { class: "last-call" },
                h("time", { datetime: r.last_call_at, title: fullTime(r.last_call_at) }, when(r.last_call_at)),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

/** Items grouped by server (busiest server first), each server's tools by calls as the API sorts them. */
export function byServer(items: readonly ToolRow[]): [string, ToolRow[]][] {
  const groups = new Map<string, ToolRow[]>();
  for (const row of items) {
    const list = groups.get(row.server_name) ?? [];
    if (list.length === 0) groups.set(row.server_name, list);
    list.push(row);
  }
  for (const list of groups.values()) list.sort((a, b) => b.calls - a.calls || (a.tool_name < b.tool_name ? -1 : 1));
  const total = (rows: ToolRow[]) => rows.reduce((n, r) => n + r.calls, 0);
  return [...groups.entries()].sort((a, b) => total(b[1]) - total(a[1]) || (a[0] < b[0] ? -1 : 1));
}

function render(answer: ToolsAnswer, filters: ToolFilters): HTMLElement[] {
  if (answer.items.length === 0) {
    return [
      empty(
        filters.server_name || filters.client ? "No tool calls match these filters." : "No tool calls in this range.",
        "The proxy records every tools/call it passes on and sends it to POST /api/calls.",
      ),
    ];
  }
  const calls = answer.items.reduce((n, r) => n + r.calls, 0);
  const errors = answer.items.reduce((n, r) => n + r.errors, 0);
  return [
    h(
      "section",
      { class: "tiles tiles-5", "aria-label": "Totals" },
      figure("tools-calls", "Calls", count(calls)),
      figure("tools-errors", "Error %", share(calls ? errors / calls : null), `${count(errors)} of ${count(calls)}`),
      ...coverageTiles(answer.coverage, "tools"),
    ),
    ...byServer(answer.items).map(([server, rows]) => toolTable(server, rows, filters)),
  ];
}

export function createToolsView(): View {
  let filters: ToolFilters = {};
  let controller: AbortController | undefined;
  let servers: string[] = [];
  const go = (next: ToolFilters) => navigate({ view: "tools", filters: next }, { replace: true });

  const server = h("select", { id: "tools-server", "aria-label": "Server" }) as HTMLSelectElement;
  server.addEventListener("change", () => go({ ...filters, server_name: server.value || undefined }));
  const range = h(
    "select",
    { id: "tools-range", "aria-label": "Range" },
    TOOL_RANGES_DAYS.map((d) => h("option", { value: String(d) }, rangeLabel(d))),
  ) as HTMLSelectElement;
  range.addEventListener("change", () =>
    go({ ...filters, days: range.value === String(DEFAULT_TOOL_DAYS) ? undefined : range.value }),
  );
  const client = searchBox({ id: "tools-client", placeholder: "Client name", "aria-label": "Client" }, (text) =>
    go({ ...filters, client: text || undefined }),
  );
  const bar = h(
    "form",
    { class: "filters", role: "search", onsubmit: (e: Event) => e.preventDefault() },
    h("div", { class: "filters-row" }, server, client, range),
  );
  const body = h("div", { class: "tools-body", id: "tools-body", "aria-live": "polite" });
  const el = h("div", { class: "view view-tools" }, h("h1", { class: "sr-only" }, "Tools"), bar, body);

  const syncServers = () => {
    const names = [...new Set([...servers, ...(filters.server_name ? [filters.server_name] : [])])].sort();
    mount(
      server,
      h("option", { value: "" }, "All servers"),
      names.map((n) => h("option", { value: n }, n)),
    );
    server.value = filters.server_name ?? "";
  };

  const load = (quiet = false) => {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    if (!quiet) mount(body, loading("tool calls"));
    getJson<ToolsAnswer>(withQuery("/api/tools", {}, toolsQuery(filters)), { signal }).then(
      (answer) => {
        if (signal.aborted) return;
        // The server list comes from an unfiltered answer, so picking one keeps the others offered.
        if (!filters.server_name) {
          servers = [...new Set(answer.items.map((r) => r.server_name))];
          syncServers();
        }
        mount(body, render(answer, filters));
      },
      (err: unknown) => {
        if (!isAbort(err) && !quiet)
          mount(
            body,
            failure(err, () => load()),
          );
      },
    );
  };

  return {
    el,
    update(route: Route) {
      if (route.view !== "tools") return;
      filters = route.filters;
      syncServers();
      range.value = filters.days ?? String(DEFAULT_TOOL_DAYS);
      if (document.activeElement !== client) client.value = filters.client ?? "";
      load();
    },
    refresh() {
      load(true);
    },
    dispose() {
      controller?.abort();
    },
  };
}
