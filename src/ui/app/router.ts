/**
 * Hash routes, so the server only ever serves one page:
 *   #/?q=…&server_name=…   reports list with filters
 *   #/r/42                 one report
 *   #/overview?…           charts for the same filters
 *   #/settings             API key, theme, draft-PR configuration
 */
import { FILTER_KEYS, type Filters } from "./types.js";

export type Route =
  | { view: "list"; filters: Filters }
  | { view: "report"; id: number }
  | { view: "overview"; filters: Filters }
  | { view: "settings" };

export function parseFilters(query: string): Filters {
  const params = new URLSearchParams(query);
  const filters: Filters = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value !== null && value.trim() !== "") filters[key] = value;
  }
  return filters;
}

export function filtersQuery(filters: Filters): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = filters[key];
    if (value !== undefined && value !== "") params.set(key, value);
  }
  const qs = params.toString();
  return qs ? `?${qs}` : "";
}

export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, "") || "/";
  const [path = "/", query = ""] = raw.split("?", 2);
  const report = /^\/r\/(\d{1,15})$/.exec(path);
  if (report) return { view: "report", id: Number(report[1]) };
  if (path === "/overview") return { view: "overview", filters: parseFilters(query) };
  if (path === "/settings") return { view: "settings" };
  return { view: "list", filters: parseFilters(query) };
}

export function href(route: Route): string {
  switch (route.view) {
    case "list":
      return `#/${filtersQuery(route.filters)}`;
    case "overview":
      return `#/overview${filtersQuery(route.filters)}`;
    case "report":
      return `#/r/${route.id}`;
    case "settings":
      return "#/settings";
  }
}

/** Go to a route; `replace` rewrites the current history entry (used while typing a search). */
export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const target = href(route);
  if (options.replace || location.hash === target) {
    if (location.hash !== target) history.replaceState(history.state, "", target);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = target;
  }
}

/** The filters as the API wants them: the "until" day is inclusive in the UI, exclusive in the API. */
export function apiFilters(filters: Filters): Filters {
  const out: Filters = { ...filters };
  if (out.until && /^\d{4}-\d{2}-\d{2}$/.test(out.until)) {
    const next = new Date(`${out.until}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    out.until = next.toISOString().slice(0, 10);
  }
  return out;
}
