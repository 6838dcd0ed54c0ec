/** `update_gap` (admin): status, fixed_in, title, and the note agents are shown when they hit this gap. */
import { z } from "zod";
import { AGENT_NOTE_MAX, GAP_TITLE_MAX, SETTABLE_GAP_STATUSES } from "../../store/index.js";
import { inlineCode } from "../markdown.js";
import { gapIdArg } from "./gap-args.js";
import { defineTool, ToolError } from "./types.js";

export const updateGapTool = defineTool({
  name: "update_gap",
  title: "Update a gap",
  description:
    `Change a gap: status (${SETTABLE_GAP_STATUSES.join(", ")}), fixed_in (the server version with the fix: a later ` +
    "report from that version or newer reopens the gap as regressed), title, or agent_note (a short instruction, " +
    "such as a workaround, that agents reporting this gap are shown; null clears it). Every change goes into the " +
    "gap's history, and the automatic regroup never moves this gap's reports afterwards.",
  scope: "admin",
  input: z
    .object({
      id: gapIdArg,
      status: z
        .enum(SETTABLE_GAP_STATUSES, { error: `status must be one of: ${SETTABLE_GAP_STATUSES.join(", ")}` })
        .optional(),
      fixed_in: z.string().trim().min(1).max(100).nullable().optional().describe("e.g. 1.4.0; null clears it."),
      title: z.string().trim().min(1).max(GAP_TITLE_MAX).optional(),
      agent_note: z
        .string()
        .trim()
        .min(1)
        .max(AGENT_NOTE_MAX)
        .nullable()
        .optional()
        .describe("Shown to every agent that reports this gap; null clears it."),
    })
    .refine((a) => [a.status, a.fixed_in, a.title, a.agent_note].some((v) => v !== undefined), {
      error: "send at least one of status, fixed_in, title, agent_note",
    }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
  run({ id, ...change }, { store }) {
    if (!store.gaps.getGap(id)) throw new ToolError(`There is no gap ${id}; nothing was changed.`);
    const g = store.gaps.updateGap(id, change, "mcp");
    return {
      text: `Gap ${id} is now ${g.status}${g.fixed_in ? ` (fixed in ${inlineCode(g.fixed_in)})` : ""}, title ${inlineCode(g.title)}${g.agent_note ? `, agent note ${inlineCode(g.agent_note)}` : ""}.`,
      structured: { id, status: g.status, fixed_in: g.fixed_in, title: g.title, agent_note: g.agent_note },
    };
  },
});
