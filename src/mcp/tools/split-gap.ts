/** `split_gap` (admin): move some reports of a gap into a new gap; the two are never merged back automatically. */
import { z } from "zod";
import { SPLIT_MAX } from "../../store/index.js";
import { reportIdArg } from "./args.js";
import { gapIdArg } from "./gap-args.js";
import { defineTool } from "./types.js";

export const splitGapTool = defineTool({
  name: "split_gap",
  title: "Split a gap",
  description:
    "Move the given reports out of gap `id` into a new gap on the same server (at least one report must stay). " +
    "The reports are pinned: the automatic regroup never moves them back.",
  scope: "admin",
  input: z.object({
    id: gapIdArg,
    report_ids: z
      .array(reportIdArg, { error: "report_ids must be an array of report ids" })
      .min(1, { error: "report_ids must name at least one report" })
      .max(SPLIT_MAX, { error: `report_ids may name at most ${SPLIT_MAX} reports` }),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  run({ id, report_ids }, { store }) {
    const { from, to } = store.gaps.splitGap(id, report_ids, "mcp");
    return {
      text: `Split ${report_ids.length} report${report_ids.length === 1 ? "" : "s"} out of gap ${from.id} (now ${from.reports}) into new gap ${to.id}.`,
      structured: { from: from.id, to: to.id, from_reports: from.reports, to_reports: to.reports },
    };
  },
});
