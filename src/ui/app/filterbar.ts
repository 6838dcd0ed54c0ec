/**
 * The filter form shared by the reports list and the overview. Control values
 * live in the URL hash; the form is built once per view and synced on every
 * route change so focus (e.g. in the search box) survives re-renders.
 */
import { getJson } from "./api.js";
import { h, type Props } from "./dom.js";
import { navigate, type Route } from "./router.js";
import { GAP_TYPES, label, REPORT_STATUSES, RESOLUTIONS, type FilterKey, type Filters, type Stats } from "./types.js";

interface Options {
  servers: string[];
  tools: string[];
  clients: string[];
}

let optionsPromise: Promise<Options> | undefined;

const keys = (rows: Stats["by_server"]) => rows.map((r) => r.key).filter((k): k is string => k !== null);
const optionsFrom = (s: Stats): Options => ({
  servers: keys(s.by_server),
  tools: keys(s.by_tool),
  clients: keys(s.by_client),
});

/** Distinct servers/tools/clients for the selects (top 50 of each), from an unfiltered stats call. */
export function filterOptions(): Promise<Options> {
  if (!optionsPromise) {
    optionsPromise = getJson<Stats>("/api/stats?days=1").then(optionsFrom);
    optionsPromise.catch(() => {
      optionsPromise = undefined;
    });
  }
  return optionsPromise;
}

/**
 * A search box that hands its trimmed text to `onSearch` once typing pauses
 * (300 ms), or at once on Enter. `attrs` are the input's own (id, placeholder, label).
 */
export function searchBox(attrs: Props, onSearch: (text: string) => void): HTMLInputElement {
  const search = h("input", { type: "search", autocomplete: "off", ...attrs });
  let debounce: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener("input", () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => onSearch(search.value.trim()), 300);
  });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      clearTimeout(debounce);
      onSearch(search.value.trim());
    }
  });
  return search;
}

/** Select `value`, adding it as an option first when the list lacks it (a value from the URL). */
export function ensureOption(sel: HTMLSelectElement, value: string | undefined): void {
  if (value && ![...sel.options].some((o) => o.value === value)) sel.appendChild(h("option", { value }, value));
  sel.value = value ?? "";
}

export interface FilterBar {
  el: HTMLElement;
  sync(filters: Filters): void;
  /**
   * Fill the server/tool/client selects. Views call this after their own data
   * arrived (so the list is never queued behind a stats query) and pass their
   * stats when they are unfiltered, which saves a second identical query.
   */
  loadOptions(unfiltered?: Stats): void;
}

export function createFilterBar(view: "list" | "overview", extra: Node[] = []): FilterBar {
  let current: Filters = {};
  const go = (filters: Filters, replace = false) => {
    const route: Route = { view, filters };
    navigate(route, { replace });
  };
  const set = (key: FilterKey, value: string, replace = false) => {
    const next: Filters = { ...current };
    if (value) next[key] = value;
    else delete next[key];
    go(next, replace);
  };

  const search = searchBox(
    { id: "filter-q", name: "q", placeholder: "Search reports…  ( / )", "aria-label": "Search reports" },
    (text) => set("q", text, true),
  );

  const selects = new Map<FilterKey, HTMLSelectElement>();
  const select = (key: FilterKey, title: string, values: readonly string[]) => {
    const el = h(
      "select",
      { id: `filter-${key}`, name: key, "aria-label": title, onchange: () => set(key, el.value) },
      h("option", { value: "" }, `${title}: all`),
      values.map((v) => h("option", { value: v }, label(v))),
    );
    selects.set(key, el);
    return el;
  };
  const serverSel = select("server_name", "Server", []);
  const toolSel = select("tool_name", "Tool", []);
  const clientSel = select("client_type", "Client", []);

  const date = (key: "since" | "until", title: string) => {
    const el = h("input", { type: "date", id: `filter-${key}`, name: key, "aria-label": title, title });
    el.addEventListener("change", () => set(key, el.value));
    return el;
  };
  const since = date("since", "From (UTC day)");
  const until = date("until", "To (UTC day, inclusive)");
  const chips = h("div", { class: "chips" });
  // On phones the selects fold away behind this summary (open by default on wider screens).
  const summary = h("summary", null, "Filters");

  const dates = h(
    "span",
    { class: "dates" },
    h("span", { class: "muted", "aria-hidden": "true" }, "From"),
    since,
    h("span", { class: "muted", "aria-hidden": "true" }, "to"),
    until,
  );
  const el = h(
    "form",
    { class: "filters", role: "search", onsubmit: (e) => e.preventDefault() },
    h("div", { class: "filters-row" }, search, ...extra),
    h(
      "details",
      { class: "filters-more", id: "filters-more", open: !matchMedia("(max-width: 760px)").matches },
      summary,
      h(
        "div",
        { class: "filters-row" },
        serverSel,
        select("gap_type", "Gap", GAP_TYPES),
        select("resolution", "Resolution", RESOLUTIONS),
        select("status", "Status", REPORT_STATUSES),
        clientSel,
        toolSel,
        dates,
        h("button", { type: "button", class: "secondary", id: "filter-reset", onclick: () => go({}) }, "Reset"),
      ),
    ),
    chips,
  );

  const fill = (sel: HTMLSelectElement, values: string[]) => {
    const keep = sel.value;
    const first = sel.options[0];
    sel.replaceChildren(...(first ? [first] : []), ...values.map((v) => h("option", { value: v }, v)));
    sel.value = keep;
  };

  let filled = false;
  const apply = (o: Options) => {
    filled = true;
    fill(serverSel, o.servers);
    fill(toolSel, o.tools);
    fill(clientSel, o.clients);
    for (const [key, sel] of selects) ensureOption(sel, current[key]);
  };

  return {
    el,
    loadOptions(unfiltered) {
      if (unfiltered) {
        optionsPromise = Promise.resolve(optionsFrom(unfiltered));
        apply(optionsFrom(unfiltered));
      } else if (!filled) {
        filterOptions().then(apply, () => {
          // The view shows its own error; the selects still work for values in the URL.
        });
      }
    },
    sync(filters) {
      current = filters;
      if (document.activeElement !== search) search.value = filters.q ?? "";
      for (const [key, sel] of selects) ensureOption(sel, filters[key]);
      const active = Object.keys(filters).filter((k) => k !== "q").length;
      summary.textContent = active ? `Filters (${active} active)` : "Filters";
      since.value = filters.since ?? "";
      until.value = filters.until ?? "";
      // Filters without a control (session, model) show as removable chips.
      chips.replaceChildren(
        ...(["session_id", "agent_model"] as const)
          .filter((k) => filters[k])
          .map((k) =>
            h(
              "span",
              { class: "chip" },
              `${k === "session_id" ? "Session" : "Model"}: ${filters[k] ?? ""}`,
              h(
                "button",
                { type: "button", class: "chip-x", "aria-label": `Clear ${k}`, onclick: () => set(k, "") },
                "×",
              ),
            ),
          ),
      );
    },
  };
}
