/**
 * Reports, newest first. Paging uses the API's keyset cursors with a stack of
 * the cursors that led here (Newer pops it), so every page is an indexed
 * `id < ?` query however deep you go: no OFFSET, fast at 100k reports.
 */
import { getJson, request, withQuery } from "../api.js";
import { tiles } from "../charts.js";
import { h, mount, moveFocus } from "../dom.js";
import { createFilterBar } from "../filterbar.js";
import { errorMessage, fullTime, when } from "../format.js";
import { apiFilters, href, type Route } from "../router.js";
import { toast } from "../toast.js";
import type { Filters, Page, Report, Stats } from "../types.js";
import { badge } from "./badges.js";
import { createCursorPager } from "./pager.js";
import { empty, isAbort, loading, showLoadFailure } from "./states.js";
import type { View } from "./view.js";

export const PAGE_SIZE = 50;

async function download(filters: Filters, format: "csv" | "json"): Promise<void> {
  const res = await request(withQuery("/api/export", apiFilters(filters), { format }), { accept: "*/*" });
  const blob = await res.blob();
  const disposition = res.headers.get("Content-Disposition") ?? "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `patchworkmcp-feedback.${format}`;
  const url = URL.createObjectURL(blob);
  const a = h("a", { download: name, class: "hidden" });
  a.href = url; // a blob: URL, which safeHref would (rightly) refuse for agent-supplied links
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function row(report: Report): HTMLElement {
  return h(
    "li",
    null,
    h(
      "a",
      { class: "row", href: href({ view: "report", id: report.id }), "data-id": report.id },
      h(
        "span",
        { class: "row-main" },
        h("span", { class: "row-title" }, report.what_i_needed),
        h(
          "span",
          { class: "row-meta" },
          h("span", { class: "row-server" }, report.server_name),
          report.tool_name ? h("span", null, report.tool_name) : null,
          report.client_type ? h("span", null, report.client_type) : null,
          h("time", { datetime: report.created_at, title: fullTime(report.created_at) }, when(report.created_at)),
          h("span", { class: "row-id" }, `#${report.id}`),
        ),
      ),
      h(
        "span",
        { class: "badges" },
        badge("gap", report.gap_type),
        badge("resolution", report.resolution),
        badge("status", report.status),
      ),
    ),
  );
}

export function createListView(): View {
  let filters: Filters = {};
  let controller: AbortController | undefined;

  const exportButtons = [
    h(
      "button",
      { type: "button", class: "secondary", id: "export-csv", onclick: () => runExport("csv") },
      "Export CSV",
    ),
    h(
      "button",
      { type: "button", class: "secondary", id: "export-json", onclick: () => runExport("json") },
      "Export JSON",
    ),
  ];
  const runExport = (format: "csv" | "json") => {
    download(filters, format).then(
      () => toast(`Exported ${format.toUpperCase()}.`),
      (err: unknown) => toast(`Export failed: ${errorMessage(err)}`, "error"),
    );
  };
  const bar = createFilterBar("list", exportButtons);
  const tileSlot = h("div", { class: "tile-slot" });
  const results = h("div", { id: "results", class: "results" });
  const pager = createCursorPager({
    ids: { back: "page-newer", forward: "page-older", where: "page-number" },
    labels: { back: "← Newer", forward: "Older →" },
    onPage: () => void load(false),
    top: () => el,
  });
  const el = h(
    "div",
    { class: "view view-list" },
    h("h1", { class: "sr-only" }, "Reports"),
    tileSlot,
    bar.el,
    results,
    pager.el,
  );

  const loadTiles = (signal: AbortSignal) => {
    const unfiltered = Object.keys(filters).length === 0;
    getJson<Stats>(withQuery("/api/stats", apiFilters(filters), { days: 1 }), { signal }).then(
      (stats) => {
        mount(tileSlot, tiles(stats, filters));
        bar.loadOptions(unfiltered ? stats : undefined);
      },
      (err: unknown) => {
        if (isAbort(err)) return;
        mount(tileSlot);
        bar.loadOptions();
      },
    );
  };

  const load = async (withTiles: boolean, quiet = false): Promise<void> => {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    results.setAttribute("aria-busy", "true");
    if (!quiet) mount(results, loading("reports"));
    let data: Page<Report>;
    try {
      data = await getJson<Page<Report>>(
        withQuery("/api/feedback", apiFilters(filters), { limit: PAGE_SIZE, cursor: pager.cursor }),
        { signal },
      );
    } catch (err) {
      showLoadFailure(results, err, quiet, () => void load(true));
      return;
    }
    // The tiles' stats query (slower at scale) goes out only once the page is in.
    if (withTiles) loadTiles(signal);
    results.setAttribute("aria-busy", "false");
    pager.loaded(data.nextCursor);
    if (data.items.length === 0) {
      const filtered = Object.keys(filters).length > 0;
      mount(
        results,
        filtered
          ? empty("No reports match these filters.", "Loosen a filter or press Reset.")
          : empty(
              "No reports yet.",
              "Reports appear here when an agent calls the feedback tool of a server wired to this sidecar.",
            ),
      );
      return;
    }
    mount(results, h("ul", { class: "rows", id: "report-list" }, data.items.map(row)));
  };

  return {
    el,
    update(route: Route) {
      if (route.view !== "list") return;
      filters = route.filters;
      bar.sync(filters);
      pager.filter(filters);
      void load(true);
    },
    refresh() {
      // Only the newest page changes when reports arrive; deeper pages stay put.
      if (pager.atFirst) void load(true, true);
    },
    dispose() {
      controller?.abort();
    },
  };
}

/** Move focus between report rows (j/k). */
export function moveRowFocus(delta: 1 | -1): void {
  moveFocus("#report-list a.row", delta);
}
