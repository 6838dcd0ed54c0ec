/**
 * One tool of one server: its calls, error % and latency, the same by client, calls per
 * hour, the gaps whose reports name it (links to the gap pages), and its silent failures —
 * sessions where it failed and the agent filed no report. From GET /api/tools/detail.
 */
import { ApiError, getJson, withQuery } from "../api.js";
import { perHourChart } from "../charts.js";
import { h, mount } from "../dom.js";
import { count, duration, fullTime, share, when } from "../format.js";
import { href, type Route } from "../router.js";
import type { ToolDetail, ToolFilters } from "../types.js";
import { badge } from "./badges.js";
import { empty, failure, isAbort, loading } from "./states.js";
import { coverageTiles, figure, toolsQuery } from "./tools.js";
import type { View } from "./view.js";

const HOUR_MS = 3_600_000;
/** Longer ranges are drawn as the API sends them (sparse) rather than padded hour by hour. */
const MAX_DENSE_HOURS = 24 * 31;

/** Every hour from `sinceIso` to `untilMs` (the answer's range), with the API's rows where it had calls and zeros elsewhere. */
export function denseHours(trend: ToolDetail["trend"], sinceIso: string, untilMs = Date.now()): ToolDetail["trend"] {
  const start = Math.floor(Date.parse(sinceIso) / HOUR_MS) * HOUR_MS;
  // `until` is exclusive: an until at a whole hour does not open that hour.
  const end = Math.floor((untilMs - 1) / HOUR_MS) * HOUR_MS;
  const sorted = [...trend].sort((a, b) => Date.parse(a.hour) - Date.parse(b.hour));
  if (!Number.isFinite(start) || !Number.isFinite(end) || (end - start) / HOUR_MS > MAX_DENSE_HOURS) return sorted;
  const byHour = new Map(sorted.map((t) => [Math.floor(Date.parse(t.hour) / HOUR_MS) * HOUR_MS, t]));
  const out: ToolDetail["trend"] = [];
  for (let t = start; t <= end; t += HOUR_MS)
    out.push(byHour.get(t) ?? { hour: new Date(t).toISOString(), calls: 0, errors: 0, p95_ms: null });
  // Rows outside the window (a clock ahead of ours) are kept, not dropped.
  for (const [t, row] of byHour) if (t < start || t > end) out.push(row);
  return out.sort((a, b) => Date.parse(a.hour) - Date.parse(b.hour));
}

const num = (cls: string, text: string) => h("td", { class: `num ${cls}` }, text);

function clientsPanel(detail: ToolDetail): HTMLElement {
  return h(
    "section",
    { class: "panel", id: "tool-clients", "aria-label": "By client" },
    h("h2", null, "By client"),
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { class: "data-table" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            h("th", { scope: "col" }, "Client"),
            h("th", { scope: "col", class: "num" }, "Calls"),
            h("th", { scope: "col", class: "num" }, "Errors"),
            h("th", { scope: "col", class: "num" }, "Error %"),
            h("th", { scope: "col", class: "num" }, "p50"),
            h("th", { scope: "col", class: "num" }, "p95"),
          ),
        ),
        h(
          "tbody",
          null,
          [...detail.by_client]
            .sort((a, b) => b.calls - a.calls)
            .map((c) =>
              h(
                "tr",
                { "data-client": c.client_name ?? "" },
                h("th", { scope: "row" }, c.client_name ?? "(unnamed client)"),
                num("calls", count(c.calls)),
                num("errors", count(c.errors)),
                num("error-rate", share(c.calls ? c.errors / c.calls : null)),
                num("p50", duration(c.p50_ms)),
                num("p95", duration(c.p95_ms)),
              ),
            ),
        ),
      ),
    ),
  );
}

function gapsPanel(detail: ToolDetail): HTMLElement {
  return h(
    "section",
    { class: "panel", id: "tool-gaps", "aria-label": "Gaps that name this tool" },
    h("h2", null, "Gaps that name this tool"),
    detail.gaps.length
      ? h(
          "ul",
          { class: "tool-gaps" },
          detail.gaps.map((g) =>
            h(
              "li",
              { "data-gap-id": g.id },
              h("a", { href: href({ view: "gap", id: g.id }), class: "tool-gap-link" }, g.title),
              " ",
              badge("status", g.status),
              h(
                "span",
                { class: "muted" },
                ` ${count(g.reports)} ${g.reports === 1 ? "report" : "reports"} · #${g.id}`,
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No agent has reported a gap naming this tool."),
  );
}

function silentPanel(detail: ToolDetail): HTMLElement {
  const s = detail.silent_failures;
  const silent = Math.max(0, s.sessions_with_errors - s.sessions_reported);
  return h(
    "section",
    { class: "panel", id: "tool-silent-failures", "aria-label": "Silent failures" },
    h("h2", null, "Silent failures"),
    h(
      "p",
      { id: "tool-silent-summary" },
      s.sessions_with_errors === 0
        ? "No session saw this tool fail."
        : `${count(silent)} of ${count(s.sessions_with_errors)} sessions where this tool failed filed no report ` +
            `(feedback coverage ${share(s.ratio)}).`,
    ),
    s.sessions.length
      ? h(
          "div",
          { class: "table-scroll" },
          h(
            "table",
            { class: "data-table" },
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                h("th", { scope: "col" }, "Session"),
                h("th", { scope: "col" }, "Client"),
                h("th", { scope: "col", class: "num" }, "Errors"),
                h("th", { scope: "col" }, "First error"),
              ),
            ),
            h(
              "tbody",
              null,
              s.sessions.map((x) =>
                h(
                  "tr",
                  { "data-session": x.session_id },
                  h("td", null, h("code", null, x.session_id)),
                  h("td", null, x.client_name ?? "—"),
                  num("errors", count(x.errors)),
                  h(
                    "td",
                    null,
                    h(
                      "time",
                      { datetime: x.first_error_at, title: fullTime(x.first_error_at) },
                      when(x.first_error_at),
                    ),
                  ),
                ),
              ),
            ),
          ),
        )
      : null,
  );
}

function render(detail: ToolDetail): HTMLElement[] {
  return [
    h(
      "section",
      { class: "tiles tiles-5", "aria-label": "Totals" },
      figure("tool-calls", "Calls", count(detail.calls)),
      figure(
        "tool-errors",
        "Error %",
        share(detail.error_rate),
        `${count(detail.errors)} of ${count(detail.calls)} calls failed`,
      ),
      figure("tool-p50", "p50", duration(detail.p50_ms)),
      figure("tool-p95", "p95", duration(detail.p95_ms)),
      figure("tool-p99", "p99", duration(detail.p99_ms)),
    ),
    h(
      "section",
      { class: "panel chart-panel", id: "tool-trend", "aria-label": "Calls per hour" },
      h("h2", null, "Calls per hour (UTC; errors drawn over the bars)"),
      perHourChart(denseHours(detail.trend, detail.since, Date.parse(detail.until))),
    ),
    h(
      "section",
      { class: "tiles tiles-3", "aria-label": "Feedback coverage" },
      coverageTiles(detail.silent_failures, "tool"),
    ),
    silentPanel(detail),
    gapsPanel(detail),
    clientsPanel(detail),
  ];
}

export function createToolView(): View {
  let controller: AbortController | undefined;
  let current: { server_name: string; tool_name: string; filters: ToolFilters } | undefined;
  const back = h("a", { id: "tool-back", href: "#/tools" }, "← Tools");
  const title = h("h1", { id: "tool-title" });
  const subtitle = h("p", { class: "muted", id: "tool-server" });
  const body = h("div", { class: "tool-body", id: "tool-body", "aria-live": "polite" });
  const el = h("div", { class: "view view-tool" }, h("nav", { class: "crumbs" }, back), title, subtitle, body);

  const load = (quiet = false) => {
    if (!current) return;
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    if (!quiet) mount(body, loading("the tool"));
    const { client: _client, ...query } = toolsQuery({ ...current.filters, server_name: current.server_name });
    const path = withQuery("/api/tools/detail", {}, { ...query, tool_name: current.tool_name });
    getJson<ToolDetail>(path, { signal }).then(
      (detail) => {
        if (!signal.aborted) mount(body, render(detail));
      },
      (err: unknown) => {
        if (isAbort(err) || quiet) return;
        if (err instanceof ApiError && err.status === 404)
          mount(body, empty("No calls of this tool in this range.", err.message));
        else
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
      if (route.view !== "tool") return;
      current = { server_name: route.server_name, tool_name: route.tool_name, filters: route.filters };
      title.textContent = route.tool_name;
      subtitle.textContent = `on ${route.server_name}`;
      back.setAttribute("href", href({ view: "tools", filters: { ...route.filters, server_name: route.server_name } }));
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
