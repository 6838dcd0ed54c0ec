/**
 * The gap parts of the overview: a server → tool → gap breakdown of the
 * highest-scoring gaps, and the top gaps of this week next to last week's with
 * how their rank moved. A gap whose reports named no tool sits directly under
 * its server: there is no "(none)" tool.
 */
import { meterBar } from "../charts.js";
import { h } from "../dom.js";
import { count } from "../format.js";
import { href } from "../router.js";
import type { Gap, Trend, TrendRow } from "../types.js";
import { badge } from "./badges.js";

export const BREAKDOWN_GAPS = 200;

interface ToolGroup {
  tool: string;
  reports: number;
  gaps: Gap[];
}
interface ServerGroup {
  server: string;
  reports: number;
  gaps: number;
  tools: ToolGroup[];
  /** Gaps whose reports named no tool. */
  direct: Gap[];
}

export function groupByServer(gaps: readonly Gap[]): ServerGroup[] {
  const servers = new Map<string, ServerGroup>();
  for (const gap of gaps) {
    let s = servers.get(gap.server_name);
    if (!s) servers.set(gap.server_name, (s = { server: gap.server_name, reports: 0, gaps: 0, tools: [], direct: [] }));
    s.reports += gap.reports;
    s.gaps += 1;
    if (gap.tool_name === null) {
      s.direct.push(gap);
      continue;
    }
    let t = s.tools.find((x) => x.tool === gap.tool_name);
    if (!t) s.tools.push((t = { tool: gap.tool_name, reports: 0, gaps: [] }));
    t.reports += gap.reports;
    t.gaps.push(gap);
  }
  const out = [...servers.values()].sort((a, b) => b.reports - a.reports || (a.server < b.server ? -1 : 1));
  for (const s of out) s.tools.sort((a, b) => b.reports - a.reports || (a.tool < b.tool ? -1 : 1));
  return out;
}

const plural = (n: number, one: string) => `${count(n)} ${one}${n === 1 ? "" : "s"}`;

function gapLine(gap: Gap, max: number): HTMLElement {
  return h(
    "li",
    { class: "bd-gap", "data-gap-id": gap.id },
    h(
      "a",
      { class: "rank-row", href: href({ view: "gap", id: gap.id }), title: gap.title },
      h("span", { class: "rank-label" }, gap.title),
      meterBar(gap.reports, max),
      h("span", { class: "rank-count" }, count(gap.reports)),
    ),
  );
}

export function breakdownPanel(gaps: readonly Gap[], truncated: boolean): HTMLElement {
  const groups = groupByServer(gaps);
  const max = Math.max(1, ...gaps.map((g) => g.reports));
  return h(
    "section",
    { class: "panel", id: "gap-breakdown", "aria-label": "Gaps by server and tool" },
    h("h2", null, "Gaps by server → tool"),
    truncated ? h("p", { class: "muted" }, `The ${BREAKDOWN_GAPS} highest-scoring gaps.`) : null,
    groups.length === 0
      ? h("p", { class: "muted" }, "No gaps yet.")
      : h(
          "ul",
          { class: "breakdown" },
          groups.map((s) =>
            h(
              "li",
              { class: "bd-server", "data-server": s.server },
              h(
                "details",
                { open: true },
                h(
                  "summary",
                  null,
                  h("span", { class: "bd-name" }, s.server),
                  h("span", { class: "muted bd-counts" }, ` ${plural(s.gaps, "gap")} · ${plural(s.reports, "report")}`),
                ),
                h(
                  "ul",
                  { class: "bd-children" },
                  s.tools.map((t) =>
                    h(
                      "li",
                      { class: "bd-tool", "data-tool": t.tool },
                      h(
                        "details",
                        { open: true },
                        h(
                          "summary",
                          null,
                          h("code", { class: "bd-name" }, t.tool),
                          h(
                            "span",
                            { class: "muted bd-counts" },
                            ` ${plural(t.gaps.length, "gap")} · ${plural(t.reports, "report")}`,
                          ),
                        ),
                        h(
                          "ol",
                          { class: "rank bd-gaps" },
                          t.gaps.map((g) => gapLine(g, max)),
                        ),
                      ),
                    ),
                  ),
                  s.direct.length
                    ? h(
                        "li",
                        null,
                        h(
                          "ol",
                          { class: "rank bd-gaps bd-direct" },
                          s.direct.map((g) => gapLine(g, max)),
                        ),
                      )
                    : null,
                ),
              ),
            ),
          ),
        ),
  );
}

function move(row: TrendRow): HTMLElement {
  if (row.previous_rank === null)
    return h("span", { class: "trend-move trend-new", title: "No report last week" }, "new");
  const d = row.previous_rank - row.rank;
  if (d === 0) return h("span", { class: "trend-move trend-same", title: `Rank ${row.rank} both weeks` }, "=");
  return h(
    "span",
    { class: `trend-move ${d > 0 ? "trend-up" : "trend-down"}`, title: `Rank ${row.previous_rank} last week` },
    d > 0 ? `▲ ${d}` : `▼ ${-d}`,
    h("span", { class: "sr-only" }, d > 0 ? ` up from ${row.previous_rank}` : ` down from ${row.previous_rank}`),
  );
}

function trendList(id: string, rows: TrendRow[], which: "now" | "before"): HTMLElement {
  if (rows.length === 0)
    return h("p", { class: "muted", id }, which === "now" ? "No reports this week." : "No reports last week.");
  const max = Math.max(1, ...rows.map((r) => (which === "now" ? r.count : r.previous_count)));
  return h(
    "ol",
    { class: "rank trend-list", id },
    rows.map((r) => {
      const n = which === "now" ? r.count : r.previous_count;
      return h(
        "li",
        { class: "trend-row", "data-gap-id": r.gap.id },
        h("span", { class: "trend-rank" }, String(which === "now" ? r.rank : r.previous_rank)),
        h(
          "a",
          { class: "rank-row", href: href({ view: "gap", id: r.gap.id }), title: r.gap.title },
          h("span", { class: "rank-label" }, r.gap.title, h("span", { class: "muted" }, ` · ${r.gap.server_name}`)),
          meterBar(n, max),
          h("span", { class: "rank-count" }, count(n)),
        ),
        which === "now" ? move(r) : badge("gap-status", r.gap.status),
      );
    }),
  );
}

export function trendPanel(trend: Trend): HTMLElement {
  return h(
    "section",
    { class: "panel", id: "gap-trend", "aria-label": "Top gaps this week and last week" },
    h("h2", null, `Top gaps: the last ${trend.days} days vs the ${trend.days} before`),
    h(
      "div",
      { class: "chart-grid" },
      h(
        "div",
        null,
        h("h3", null, `This week (since ${trend.since})`),
        trendList("trend-now", trend.this_period, "now"),
      ),
      h(
        "div",
        null,
        h("h3", null, `Last week (${trend.previous_since} to ${trend.since})`),
        trendList("trend-before", trend.previous_period, "before"),
      ),
    ),
    trend.truncated
      ? h("p", { class: "muted" }, `Among the ${count(trend.considered)} highest-scoring gaps seen in these two weeks.`)
      : null,
  );
}
