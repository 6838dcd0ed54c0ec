/** `set_status`: move a report through open → reviewed → resolved/dismissed (or reopen it). */
import { z } from "zod";
import { REPORT_STATUSES } from "../../store/index.js";
import { reportIdArg } from "./args.js";
import { defineTool, ToolError } from "./types.js";

export const setStatusTool = defineTool({
  name: "set_status",
  title: "Set a report's status",
  description:
    `Set a feedback report's status: ${REPORT_STATUSES.join(", ")}. ` +
    "Or pass reviewed: true to mark an open report reviewed, reviewed: false to reopen it. " +
    "Add a note with add_note to record why.",
  scope: "admin",
  input: z
    .object({
      id: reportIdArg,
      status: z
        .enum(REPORT_STATUSES, { error: `status must be one of: ${REPORT_STATUSES.join(", ")}` })
        .optional()
        .describe("The new status."),
      reviewed: z
        .boolean({ error: "reviewed must be true or false" })
        .optional()
        .describe("Shortcut: true marks reviewed, false reopens."),
    })
    .refine((a) => a.status !== undefined || a.reviewed !== undefined, { error: "send status and/or reviewed" }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run({ id, status, reviewed }, { store }) {
    const before = store.getReport(id);
    if (!before) throw new ToolError(`There is no report ${id}; nothing was changed.`);
    const after = store.updateStatus(id, { status, reviewed })!;
    const text =
      after.status === before.status
        ? `Report ${id} was already ${after.status}.`
        : `Report ${id} is now ${after.status} (was ${before.status}).`;
    return { text, structured: { id, status: after.status, previous_status: before.status } };
  },
});
