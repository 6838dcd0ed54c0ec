/** The shape of the problem: tiles and charts for the current filters. */
import { getJson, withQuery } from "../api.js";
import { perDayChart, rankChart, tiles } from "../charts.js";
import { h, mount } from "../dom.js";
import { createFilterBar } from "../filterbar.js";
import { apiFilters, href, type Route } from "../router.js";
import type { Filters, Gap, Page, Stats, Trend } from "../types.js";
import { BREAKDOWN_GAPS, breakdownPanel, trendPanel } from "./gap-overview.js";
import { empty, failure, isAbort, loading } from "./states.js";
import type { View } from "./view.js";

const DAYS = 30;

/** The overview's filters that gaps also take (report status is not gap status). */
const gapFilters = (f: Filters) => ({ server_name: f.server_name, gap_type: f.gap_type, tool_name: f.tool_name });

function render(stats: Stats, filters: Filters, gapSlot: HTMLElement): HTMLElement[] {
  if (stats.total === 0) {
    return [
      empty(
        Object.keys(filters).length ? "No reports match these filters." : "No reports yet.",
        "Charts appear once there are reports.",
      ),
    ];
  }
  const toolRows = stats.by_tool.filter((r) => r.key !== null);
  const noTool = stats.by_tool.find((r) => r.key === null)?.count ?? 0;
  return [
    tiles(stats, filters),
    gapSlot,
    h(
      "section",
      { class: "panel chart-panel", id: "chart-days", "aria-label": `Reports per day, last ${DAYS} days` },
      h("h2", null, `Reports per day (last ${DAYS} days, UTC)`),
      perDayChart(stats.per_day),
    ),
    h(
      "div",
      { class: "chart-grid" },
      rankChart({ id: "chart-gap", title: "By gap type", rows: stats.by_gap_type, filterKey: "gap_type", filters }),
      rankChart({ id: "chart-server", title: "By server", rows: stats.by_server, filterKey: "server_name", filters }),
      // No "(none)" bar: reports that named no tool are counted in their gaps, and in a footnote here.
      rankChart({
        id: "chart-tool",
        title: noTool ? `By tool (${noTool} named none)` : "By tool",
        rows: toolRows,
        filterKey: "tool_name",
        filters,
      }),
      rankChart({
        id: "chart-resolution",
        title: "By resolution",
        rows: stats.by_resolution,
        filterKey: "resolution",
        filters,
      }),
      rankChart({ id: "chart-client", title: "By client", rows: stats.by_client, filterKey: "client_type", filters }),
      rankChart({ id: "chart-status", title: "By status", rows: stats.by_status, filterKey: "status", filters }),
    ),
  ];
}

export function createOverviewView(): View {
  let filters: Filters = {};
  let controller: AbortController | undefined;
  const listLink = h(
    "a",
    { class: "button secondary", id: "overview-to-list", href: "#/reports" },
    "View these reports",
  );
  const bar = createFilterBar("overview", [listLink]);
  const body = h("div", { class: "overview-body", "aria-live": "polite" });
  const el = h("div", { class: "view view-overview" }, h("h1", { class: "sr-only" }, "Overview"), bar.el, body);

  const gapPanels = (signal: AbortSignal): Promise<HTMLElement[]> => {
    const g = gapFilters(filters);
    return Promise.all([
      getJson<Trend>(withQuery("/api/gaps/trend", g, { days: 7, limit: 10 }), { signal }),
      getJson<Page<Gap>>(withQuery("/api/gaps", g, { limit: BREAKDOWN_GAPS }), { signal }),
    ]).then(
      ([trend, page]) => [trendPanel(trend), breakdownPanel(page.items, page.nextCursor !== null)],
      (err: unknown) => (isAbort(err) ? [] : [failure(err, () => load())]),
    );
  };

  /** Stats first (the tiles and charts), then the gap panels; a live refresh swaps everything at once. */
  const load = (quiet = false) => {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    if (!quiet) mount(body, loading("charts"));
    getJson<Stats>(withQuery("/api/stats", apiFilters(filters), { days: DAYS }), { signal }).then(
      async (stats) => {
        const gapSlot = h("div", { class: "gap-overview", id: "gap-overview" });
        const panels = stats.total > 0 ? gapPanels(signal) : Promise.resolve([]);
        if (quiet) mount(gapSlot, ...(await panels));
        else void panels.then((p) => mount(gapSlot, ...p));
        if (signal.aborted) return;
        mount(body, render(stats, filters, gapSlot));
        bar.loadOptions(Object.keys(filters).length === 0 ? stats : undefined);
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
      if (route.view !== "overview") return;
      filters = route.filters;
      bar.sync(filters);
      listLink.setAttribute("href", href({ view: "list", filters }));
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
