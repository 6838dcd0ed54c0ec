/** `merge_gaps` (admin): fold one gap into another on the same server; never undone by the automatic regroup. */
import { z } from "zod";
import { gapIdArg } from "./gap-args.js";
import { defineTool } from "./types.js";

export const mergeGapsTool = defineTool({
  name: "merge_gaps",
  title: "Merge two gaps",
  description:
    "Merge gap `id` into gap `into` (same server): its reports move, it becomes a duplicate pointing at `into`, and " +
    "both histories record it. The automatic regroup never splits them again.",
  scope: "admin",
  input: z.object({ id: gapIdArg, into: gapIdArg.describe("The gap that absorbs the other.") }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  run({ id, into }, { store }) {
    const g = store.gaps.mergeGaps(id, into, "mcp");
    return {
      text: `Merged gap ${id} into gap ${into}; it now has ${g.reports} reports (${g.score_explain}).`,
      structured: { id, into, reports: g.reports, score: g.score },
    };
  },
});
