/**
 * Gaps, the home view: one row per missing capability, ranked by score (or
 * reports, or last seen), like an issue tracker's grouped list. Filters and
 * sort live in the address; pages use the API's keyset cursors. Sparklines
 * are fetched for the page on screen after the rows are in.
 */
import { getJson, withQuery } from "../api.js";
import { sparkline } from "../charts.js";
import { h, mount, moveFocus } from "../dom.js";
import { ensureOption, filterOptions, searchBox } from "../filterbar.js";
import { count, fullTime, when } from "../format.js";
import { apiFilters, href, navigate, type Route } from "../router.js";
import {
  GAP_SORTS,
  GAP_STATUSES,
  GAP_TYPES,
  type Gap,
  type GapFilterKey,
  type GapFilters,
  type GroupingProgress,
  label,
  type Page,
  type Sparklines,
} from "../types.js";
import { badge } from "./badges.js";
import { scoreButton } from "./score.js";
import { createCursorPager } from "./pager.js";
import { empty, loading, showLoadFailure } from "./states.js";
import type { View } from "./view.js";

export const GAP_PAGE_SIZE = 50;

type GapPage = Page<Gap> & { grouping?: GroupingProgress };

export const percent = (share: number): string => `${Math.round(share * 100)}%`;

/** A number cell: the value, and a label that is visible on phones and read by screen readers everywhere. */
const cell = (cls: string, value: string, unit: string, title?: string) =>
  h(
    "span",
    { class: `gap-cell ${cls}`, title: title ?? null },
    h("span", { class: "cell-value" }, value),
    h("span", { class: "cell-label" }, ` ${unit}`),
  );

function gapRow(gap: Gap, isNew: boolean): HTMLElement {
  return h(
    "li",
    { class: `gap-row${isNew ? " gap-row-new" : ""}`, "data-id": gap.id },
    h("span", { class: "gap-cell gap-score" }, scoreButton(gap)),
    h(
      "span",
      { class: "gap-main" },
      h("a", { class: "gap-title", href: href({ view: "gap", id: gap.id }) }, gap.title),
      h(
        "span",
        { class: "row-meta" },
        h("span", { class: "row-server" }, gap.server_name),
        gap.tool_name ? h("span", { class: "gap-tool" }, gap.tool_name) : null,
        h(
          "span",
          { class: "gap-seen" },
          "first ",
          h("time", { datetime: gap.first_seen, title: fullTime(gap.first_seen) }, when(gap.first_seen)),
          " · last ",
          h("time", { datetime: gap.last_seen, title: fullTime(gap.last_seen) }, when(gap.last_seen)),
        ),
        h("span", { class: "row-id" }, `#${gap.id}`),
      ),
    ),
    cell("gap-reports", count(gap.reports), gap.reports === 1 ? "report" : "reports"),
    cell("gap-sessions", count(gap.sessions), gap.sessions === 1 ? "session" : "sessions"),
    cell(
      "gap-blocked",
      percent(gap.blocked_share),
      "blocked",
      `${count(gap.blocked)} of ${count(gap.reports)} reports blocked`,
    ),
    h("span", { class: "gap-cell gap-spark", "data-spark": gap.id }),
    h(
      "span",
      { class: "gap-cell gap-status badges" },
      badge("gap-status", gap.status),
      gap.regressed ? h("span", { class: "badge badge-regressed" }, "Regressed") : null,
      gap.needs_review ? h("span", { class: "badge badge-review" }, "Needs review") : null,
    ),
  );
}

const header = () =>
  h(
    "div",
    { class: "gap-row gap-head", "aria-hidden": "true" },
    h("span", { class: "gap-cell gap-score" }, "Score"),
    h("span", { class: "gap-main" }, "Gap"),
    h("span", { class: "gap-cell gap-reports" }, "Reports"),
    h("span", { class: "gap-cell gap-sessions" }, "Sessions"),
    h("span", { class: "gap-cell gap-blocked" }, "Blocked"),
    h("span", { class: "gap-cell gap-spark" }, "30 days"),
    h("span", { class: "gap-cell gap-status" }, "Status"),
  );

function groupingNote(p: GroupingProgress | undefined): HTMLElement | null {
  if (!p || p.mode === "idle") return null;
  return h(
    "p",
    { class: "muted grouping-note", role: "status" },
    `Grouping reports (${p.mode}): ${count(p.done)} of ${count(p.total)} done. The list fills in as it goes.`,
  );
}

function gapFilterBar(): { el: HTMLElement; sync(filters: GapFilters): void } {
  let current: GapFilters = {};
  const set = (key: GapFilterKey, value: string, replace = false) => {
    const next: GapFilters = { ...current };
    if (value) next[key] = value;
    else delete next[key];
    navigate({ view: "gaps", filters: next }, { replace });
  };
  const search = searchBox(
    { id: "gap-filter-q", placeholder: "Search gap titles…  ( / )", "aria-label": "Search gap titles" },
    (text) => set("q", text, true),
  );
  const selects = new Map<GapFilterKey, HTMLSelectElement>();
  const select = (key: GapFilterKey, title: string, values: readonly string[], all = `${title}: all`) => {
    const el = h(
      "select",
      { id: `gap-filter-${key}`, "aria-label": title, onchange: () => set(key, el.value) },
      h("option", { value: "" }, all),
      values.map((v) => h("option", { value: v }, label(v))),
    );
    selects.set(key, el);
    return el;
  };
  const sort = h(
    "select",
    { id: "gap-sort", "aria-label": "Sort by", onchange: () => set("sort", sort.value === "score" ? "" : sort.value) },
    GAP_SORTS.map((v) => h("option", { value: v }, `Sort: ${label(v).toLowerCase()}`)),
  );
  const server = select("server_name", "Server", []);
  const tool = select("tool_name", "Tool", []);
  const date = (key: "since" | "until", title: string) => {
    const el = h("input", { type: "date", id: `gap-filter-${key}`, "aria-label": title, title });
    el.addEventListener("change", () => set(key, el.value));
    return el;
  };
  const since = date("since", "Seen on or after (UTC day)");
  const until = date("until", "First seen on or before (UTC day)");
  const summary = h("summary", null, "Filters");
  const el = h(
    "form",
    { class: "filters", role: "search", onsubmit: (e) => e.preventDefault() },
    h("div", { class: "filters-row" }, search, sort),
    h(
      "details",
      { class: "filters-more", open: !matchMedia("(max-width: 760px)").matches },
      summary,
      h(
        "div",
        { class: "filters-row" },
        server,
        select("status", "Status", GAP_STATUSES, "Status: all but duplicates"),
        select("gap_type", "Gap", GAP_TYPES),
        tool,
        h(
          "span",
          { class: "dates" },
          h("span", { class: "muted", "aria-hidden": "true" }, "Seen"),
          since,
          h("span", { class: "muted", "aria-hidden": "true" }, "to"),
          until,
        ),
        h(
          "button",
          {
            type: "button",
            class: "secondary",
            id: "gap-filter-reset",
            onclick: () => navigate({ view: "gaps", filters: {} }),
          },
          "Reset",
        ),
      ),
    ),
  );
  filterOptions().then(
    (o) => {
      for (const [sel, values, key] of [
        [server, o.servers, "server_name"],
        [tool, o.tools, "tool_name"],
      ] as const) {
        sel.replaceChildren(sel.options[0]!, ...values.map((v) => h("option", { value: v }, v)));
        ensureOption(sel, current[key]);
      }
    },
    () => undefined,
  );
  return {
    el,
    sync(filters) {
      current = filters;
      if (document.activeElement !== search) search.value = filters.q ?? "";
      for (const [key, sel] of selects) ensureOption(sel, filters[key]);
      sort.value = filters.sort ?? "score";
      since.value = filters.since ?? "";
      until.value = filters.until ?? "";
      const active = Object.keys(filters).filter((k) => k !== "q" && k !== "sort").length;
      summary.textContent = active ? `Filters (${active} active)` : "Filters";
    },
  };
}

export function createGapsView(): View {
  let filters: GapFilters = {};
  let controller: AbortController | undefined;
  /** Report counts of the rows on screen, and the gaps that changed in live refreshes since the last load. */
  let seen = new Map<number, number>();
  let fresh = new Set<number>();

  const bar = gapFilterBar();
  const note = h("div", { class: "grouping-slot" });
  const results = h("div", { id: "gap-results", class: "results" });
  const live = h("p", { class: "sr-only", id: "gaps-live", "aria-live": "polite" });
  const pager = createCursorPager({
    ids: { back: "gaps-newer", forward: "gaps-older", where: "gaps-page-number" },
    labels: { back: "← Previous", forward: "Next →" },
    onPage: () => void load(false),
    top: () => el,
  });
  const el = h(
    "div",
    { class: "view view-gaps" },
    h("h1", { class: "sr-only" }, "Gaps"),
    bar.el,
    note,
    results,
    live,
    pager.el,
  );

  const fillSparklines = (ids: number[], signal: AbortSignal) => {
    if (ids.length === 0) return;
    getJson<Sparklines>(`/api/gaps/sparklines?ids=${ids.join(",")}`, { signal }).then(
      (data) => {
        for (const slot of results.querySelectorAll<HTMLElement>("[data-spark]")) {
          const series = data.series[slot.dataset.spark ?? ""];
          if (series) mount(slot, sparkline(data.days, series));
        }
      },
      () => undefined, // rows stay useful without them
    );
  };

  const load = async (quiet: boolean): Promise<void> => {
    controller?.abort();
    controller = new AbortController();
    const { signal } = controller;
    results.setAttribute("aria-busy", "true");
    if (!quiet) mount(results, loading("gaps"));
    let data: GapPage;
    try {
      const { sort, ...rest } = filters;
      data = await getJson<GapPage>(
        withQuery("/api/gaps", apiFilters(rest), { sort, limit: GAP_PAGE_SIZE, cursor: pager.cursor }),
        {
          signal,
        },
      );
    } catch (err) {
      showLoadFailure(results, err, quiet, () => void load(false));
      return;
    }
    results.setAttribute("aria-busy", "false");
    pager.loaded(data.nextCursor);
    mount(note, groupingNote(data.grouping));
    if (data.items.length === 0) {
      seen = new Map();
      const filtered = Object.keys(filters).some((k) => k !== "sort");
      mount(
        results,
        filtered
          ? empty("No gaps match these filters.", "Loosen a filter or press Reset.")
          : empty(
              "No gaps yet.",
              "Each report an agent files joins a gap: one missing capability on one server. They appear here, most pressing first.",
            ),
      );
      return;
    }
    const changed = quiet ? data.items.filter((g) => seen.get(g.id) !== g.reports) : [];
    if (!quiet) fresh = new Set();
    for (const g of changed) fresh.add(g.id);
    seen = new Map(data.items.map((g) => [g.id, g.reports]));
    mount(
      results,
      h(
        "div",
        { class: "gap-table" },
        header(),
        h(
          "ol",
          { class: "gap-rows", id: "gap-list" },
          data.items.map((g) => gapRow(g, fresh.has(g.id))),
        ),
      ),
    );
    if (changed.length) live.textContent = `${changed.length} gap${changed.length === 1 ? "" : "s"} updated.`;
    fillSparklines(
      data.items.map((g) => g.id),
      signal,
    );
  };

  return {
    el,
    update(route: Route) {
      if (route.view !== "gaps") return;
      filters = route.filters;
      bar.sync(filters);
      pager.filter(filters);
      void load(false);
    },
    refresh() {
      void load(true);
    },
    dispose() {
      controller?.abort();
    },
  };
}

/** Move focus between gap rows (j/k). */
export function moveGapFocus(delta: 1 | -1): void {
  moveFocus("#gap-list a.gap-title", delta);
}
