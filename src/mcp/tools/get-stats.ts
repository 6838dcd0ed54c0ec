/** `get_stats`: counts by server, gap type, resolution, status, client and tool, plus reports per day. */
import { z } from "zod";
import { STATS_DAYS_DEFAULT, statsDaysArg, type CountRow, type Stats } from "../../store/index.js";
import { inlineCode } from "../markdown.js";
import { renderGapLine } from "../gap-markdown.js";
import { reportFilterArgs, toStoreFilter } from "./args.js";
import { defineTool } from "./types.js";

const input = z.object({
  ...reportFilterArgs,
  days: statsDaysArg,
});

const countRows = z.array(z.object({ key: z.string().nullable(), count: z.number().int() }));

const output = z.object({
  total: z.number().int(),
  unreviewed: z.number().int(),
  blocked: z.number().int(),
  servers: z.number().int(),
  by_server: countRows,
  by_gap_type: countRows,
  by_resolution: countRows,
  by_status: countRows,
  by_client: countRows,
  by_tool: countRows,
  per_day: z.array(z.object({ day: z.string(), count: z.number().int() })),
  top_gaps: z
    .array(
      z.object({
        id: z.number().int(),
        server_name: z.string(),
        title: z.string(),
        status: z.string(),
        reports: z.number().int(),
        score: z.number(),
        score_explain: z.string(),
      }),
    )
    .describe("The highest-scoring gaps (server filter applies); see list_gaps."),
});

const TOP_GAPS = 5;

function counts(label: string, rows: CountRow[]): string {
  const items = rows.map((r) => `${r.key === null ? "(none)" : inlineCode(r.key)} ${r.count}`);
  return `${label}: ${items.length > 0 ? items.join(", ") : "-"}`;
}

function renderStats(s: Stats, days: number): string {
  const active = s.per_day.filter((d) => d.count > 0);
  return [
    `${s.total} reports about ${s.servers} server${s.servers === 1 ? "" : "s"}; ${s.unreviewed} not yet reviewed; ${s.blocked} where the agent was blocked.`,
    counts("By server", s.by_server),
    counts("By gap type", s.by_gap_type),
    counts("By resolution", s.by_resolution),
    counts("By status", s.by_status),
    counts("By client", s.by_client),
    counts("By tool", s.by_tool),
    `Last ${days} days: ${s.per_day.reduce((n, d) => n + d.count, 0)} reports${active.length > 0 ? ` (${active.map((d) => `${d.day} ${d.count}`).join(", ")})` : ""}.`,
  ].join("\n");
}

export const getStatsTool = defineTool({
  name: "get_stats",
  title: "Feedback statistics",
  description:
    "Count feedback reports by server, gap type, resolution, status, client and tool, with reports per day " +
    `for the last ${STATS_DAYS_DEFAULT} days (or \`days\`). Takes the same filters as list_reports. ` +
    "Start here to see where agents get stuck most.",
  scope: "read",
  input,
  output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run({ days, ...filter }, { store }) {
    const window = days ?? STATS_DAYS_DEFAULT;
    const stats = store.stats(toStoreFilter(filter), window);
    const top = store.gaps.listGaps(
      { ...(filter.server_name !== undefined ? { server_name: filter.server_name } : {}) },
      { limit: TOP_GAPS },
    ).items;
    const top_gaps = top.map((g) => ({
      id: g.id,
      server_name: g.server_name,
      title: g.title,
      status: g.status,
      reports: g.reports,
      score: g.score,
      score_explain: g.score_explain,
    }));
    const text = [
      renderStats(stats, window),
      top.length > 0 ? `Top gaps by score:\n${top.map(renderGapLine).join("\n")}` : "Top gaps by score: -",
    ].join("\n");
    return { text, structured: { ...stats, top_gaps } };
  },
});
