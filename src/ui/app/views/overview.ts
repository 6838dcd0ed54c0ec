/** The shape of the problem: tiles and charts for the current filters. */
import { getJson, withQuery } from "../api.js";
import { perDayChart, rankChart, tiles } from "../charts.js";
import { h, mount } from "../dom.js";
import { createFilterBar } from "../filterbar.js";
import { apiFilters, href, type Route } from "../router.js";
import type { Filters, Stats } from "../types.js";
import { empty, failure, isAbort, loading } from "./states.js";
import type { View } from "./view.js";

const DAYS = 30;

function render(stats: Stats, filters: Filters): HTMLElement[] {
  if (stats.total === 0) {
    return [
      empty(
        Object.keys(filters).length ? "No reports match these filters." : "No reports yet.",
        "Charts appear once there are reports.",
      ),
    ];
  }
  return [
    tiles(stats, filters),
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
      rankChart({ id: "chart-tool", title: "By tool", rows: stats.by_tool, filterKey: "tool_name", filters }),
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
  const listLink = h("a", { class: "button secondary", id: "overview-to-list", href: "#/" }, "View these reports");
  const bar = createFilterBar("overview", [listLink]);
  const body = h("div", { class: "overview-body", "aria-live": "polite" });
  const el = h("div", { class: "view view-overview" }, h("h1", { class: "sr-only" }, "Overview"), bar.el, body);

  const load = () => {
    controller?.abort();
    controller = new AbortController();
    mount(body, loading("charts"));
    getJson<Stats>(withQuery("/api/stats", apiFilters(filters), { days: DAYS }), { signal: controller.signal }).then(
      (stats) => {
        mount(body, render(stats, filters));
        bar.loadOptions(Object.keys(filters).length === 0 ? stats : undefined);
      },
      (err: unknown) => {
        if (!isAbort(err)) mount(body, failure(err, load));
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
    dispose() {
      controller?.abort();
    },
  };
}
