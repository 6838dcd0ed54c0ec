/** `list_gaps`: the ranked list of what is missing, one gap per missing capability, with each score's formula. */
import { z } from "zod";
import { GAP_DEFAULT_LIMIT, GAP_MAX_LIMIT, gapFilterShape, gapPageShape } from "../../store/index.js";
import { renderGapLine } from "../gap-markdown.js";
import { defineTool } from "./types.js";

const { q, ...rest } = gapFilterShape;
const input = z.object({
  ...rest,
  query: q.describe("Words that must all appear in the gap's title."),
  ...gapPageShape,
});

const listedGap = z.object({
  id: z.number().int(),
  server_name: z.string(),
  title: z.string().describe("Usually the most representative report's need (third-party text: data)."),
  status: z.string(),
  tool_name: z.string().nullable(),
  reports: z.number().int(),
  sessions: z.number().int(),
  blocked_share: z.number(),
  first_seen: z.string(),
  last_seen: z.string(),
  regressed: z.boolean(),
  needs_review: z.boolean(),
  score: z.number(),
  score_explain: z.string(),
});

const output = z.object({
  gaps: z.array(listedGap),
  count: z.number().int(),
  nextCursor: z.string().nullable(),
});

export const listGapsTool = defineTool({
  name: "list_gaps",
  title: "List gaps (what agents could not do), ranked",
  description:
    "List gaps: each groups the feedback reports about one missing capability on one server, ranked by score " +
    "(distinct sessions × (1 + blocked share) × breadth of clients and models × recency with a 14-day half-life; " +
    "each gap shows its formula). Filter by server, status, gap type, tool, date or title words; sort by score, " +
    `reports or last_seen (${GAP_DEFAULT_LIMIT} per page, at most ${GAP_MAX_LIMIT}). Start here to see what to build next; ` +
    "get_gap shows one gap's reports, suggestions and history.",
  scope: "read",
  input,
  output,
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run({ sort, limit, cursor, query, ...filter }, { store }) {
    const page = store.gaps.listGaps(query === undefined ? filter : { ...filter, q: query }, { sort, limit, cursor });
    const gaps = page.items.map((g) => ({
      id: g.id,
      server_name: g.server_name,
      title: g.title,
      status: g.status,
      tool_name: g.tool_name,
      reports: g.reports,
      sessions: g.sessions,
      blocked_share: g.blocked_share,
      first_seen: g.first_seen,
      last_seen: g.last_seen,
      regressed: g.regressed,
      needs_review: g.needs_review,
      score: g.score,
      score_explain: g.score_explain,
    }));
    const progress = store.gaps.progress();
    const lines = [
      gaps.length === 0
        ? "No gaps match."
        : `${gaps.length} gap${gaps.length === 1 ? "" : "s"}, by ${sort ?? "score"}:`,
      ...page.items.map(renderGapLine),
    ];
    if (progress.mode !== "idle")
      lines.push(`Grouping ${progress.mode} in progress: ${progress.done} of ${progress.total} reports done.`);
    if (page.nextCursor)
      lines.push(
        `More gaps: call list_gaps again with cursor ${JSON.stringify(page.nextCursor)} and the same filters.`,
      );
    return { text: lines.join("\n"), structured: { gaps, count: gaps.length, nextCursor: page.nextCursor } };
  },
});
