/**
 * Hash routes, so the server only ever serves one page:
 *   #/?server_name=…&sort=…   gaps, ranked (the home view)
 *   #/g/7                    one gap
 *   #/reports?q=…            reports list with filters
 *   #/r/42                   one report
 *   #/overview?…           charts for the same filters
 *   #/tools?server_name=…   tool calls per server: calls, errors, latency, feedback coverage
 *   #/tool?server_name=…&tool_name=…   one tool: by client, trend, gaps, silent failures
 *   #/settings             API key, theme, draft-PR configuration
 */
import {
  FILTER_KEYS,
  GAP_FILTER_KEYS,
  TOOL_FILTER_KEYS,
  type Filters,
  type GapFilters,
  type ToolFilters,
} from "./types.js";

export type Route =
  | { view: "gaps"; filters: GapFilters }
  | { view: "gap"; id: number }
  | { view: "list"; filters: Filters }
  | { view: "report"; id: number }
  | { view: "overview"; filters: Filters }
  | { view: "tools"; filters: ToolFilters }
  | { view: "tool"; server_name: string; tool_name: string; filters: ToolFilters }
  | { view: "settings" };

function parseKeys<K extends string>(query: string, keys: readonly K[]): Partial<Record<K, string>> {
  const params = new URLSearchParams(query);
  const filters: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = params.get(key);
    if (value !== null && value.trim() !== "") filters[key] = value;
  }
  return filters;
}

export const parseFilters = (query: string): Filters => parseKeys(query, FILTER_KEYS);
export const parseGapFilters = (query: string): GapFilters => parseKeys(query, GAP_FILTER_KEYS);

export const parseToolFilters = (query: string): ToolFilters => parseKeys(query, TOOL_FILTER_KEYS);

export const filtersQuery = (filters: Filters): string => keysQuery(filters, FILTER_KEYS);
export const toolFiltersQuery = (filters: ToolFilters): string => keysQuery(filters, TOOL_FILTER_KEYS);
export const gapFiltersQuery = (filters: GapFilters): string => keysQuery(filters, GAP_FILTER_KEYS);

function keysQuery<K extends string>(filters: Partial<Record<K, string>>, keys: readonly K[]): string {
  const params = new URLSearchParams();
  for (const key of keys) {
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
  const gap = /^\/g\/(\d{1,15})$/.exec(path);
  if (gap) return { view: "gap", id: Number(gap[1]) };
  if (path === "/reports") return { view: "list", filters: parseFilters(query) };
  if (path === "/overview") return { view: "overview", filters: parseFilters(query) };
  if (path === "/tools") return { view: "tools", filters: parseToolFilters(query) };
  if (path === "/tool") {
    const params = new URLSearchParams(query);
    const server = params.get("server_name");
    const tool = params.get("tool_name");
    const { server_name: _s, ...filters } = parseToolFilters(query);
    if (server && tool) return { view: "tool", server_name: server, tool_name: tool, filters };
    return { view: "tools", filters: parseToolFilters(query) };
  }
  if (path === "/settings") return { view: "settings" };
  return { view: "gaps", filters: path === "/" ? parseGapFilters(query) : {} };
}

export function href(route: Route): string {
  switch (route.view) {
    case "gaps":
      return `#/${gapFiltersQuery(route.filters)}`;
    case "gap":
      return `#/g/${route.id}`;
    case "list":
      return `#/reports${filtersQuery(route.filters)}`;
    case "overview":
      return `#/overview${filtersQuery(route.filters)}`;
    case "report":
      return `#/r/${route.id}`;
    case "tools":
      return `#/tools${toolFiltersQuery(route.filters)}`;
    case "tool": {
      const params = new URLSearchParams({ server_name: route.server_name, tool_name: route.tool_name });
      const rest = toolFiltersQuery({ ...route.filters, server_name: undefined });
      return `#/tool?${params.toString()}${rest ? `&${rest.slice(1)}` : ""}`;
    }
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
export function apiFilters<F extends { until?: string }>(filters: F): F {
  const out: F = { ...filters };
  if (out.until && /^\d{4}-\d{2}-\d{2}$/.test(out.until)) {
    const next = new Date(`${out.until}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    out.until = next.toISOString().slice(0, 10);
  }
  return out;
}
