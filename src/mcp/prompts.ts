/**
 * The `triage_feedback` prompt: walks an agent through EVERY open report
 * (whatever the resolution), paging list_reports to the end, and has it group
 * them by tool and need from the list pages instead of fetching reports one
 * by one. It is read-only unless the user passes `apply_changes: true`.
 * The prompt contains no report text itself (the agent reads reports through
 * the tools, whose output is marked as data).
 *
 * To extend it, add a step to TRIAGE_STEPS (steps are numbered when rendered)
 * and, if it needs one, an argument to TRIAGE_PROMPT.arguments and triageArgs.
 */
import type { GetPromptResult, Prompt } from "@modelcontextprotocol/server";
import { z } from "zod";
import { MAX_LIMIT } from "../store/index.js";
import { UNTRUSTED_DATA_RULE } from "./instructions.js";

export const TRIAGE_PROMPT: Prompt = {
  name: "triage_feedback",
  title: "Triage open feedback",
  description:
    "Read every open report (paging list_reports to the end), group them by tool and by what agents needed, " +
    "and propose what to build. Changes nothing unless apply_changes is true.",
  arguments: [
    { name: "server_name", description: "Only reports about this MCP server.", required: false },
    {
      name: "apply_changes",
      description:
        'true: also add a note to the triaged reports and set their status (needs an admin key). Default "false": read-only.',
      required: false,
    },
  ],
};

/** Prompt arguments arrive as strings. */
const yesNo = z
  .string()
  .trim()
  .toLowerCase()
  .refine((s) => ["true", "false", "yes", "no", "1", "0", ""].includes(s), { error: "must be true or false" })
  .transform((s) => ["true", "yes", "1"].includes(s));

const triageArgs = z.object({
  server_name: z.string().trim().min(1).max(200).optional(),
  apply_changes: yesNo.optional().transform((v) => v ?? false),
});
export type TriageArgs = z.output<typeof triageArgs>;

/** The exact list_reports arguments the prompt tells the agent to page with. */
export function triageListArguments(args: Pick<TriageArgs, "server_name">): Record<string, unknown> {
  return { status: "open", limit: MAX_LIMIT, ...(args.server_name ? { server_name: args.server_name } : {}) };
}

type Step = (args: TriageArgs) => string;

const json = (v: unknown) => JSON.stringify(v);

export const TRIAGE_STEPS: readonly Step[] = [
  (a) =>
    `Call get_stats with ${json({ status: "open", ...(a.server_name ? { server_name: a.server_name } : {}) })} for the overview: how many reports are open, by tool, gap type and resolution.`,
  (a) =>
    `Read every open report with list_reports, arguments ${json(triageListArguments(a))}. ` +
    'Each page ends with nextCursor: call list_reports again with the same arguments plus "cursor" set to it, ' +
    "and keep going until nextCursor is null. Do not stop after the first page and do not filter by resolution: " +
    "agents that worked around a gap ask for the same things as agents that were blocked.",
  () =>
    "Work from the list pages: each item has the tool, gap type, resolution and a summary of what the agent needed. " +
    "Do not call get_report for each report. Open one with get_report only when its summary is cut off and you cannot tell what it asks for.",
  () =>
    "Group the reports by tool and by the capability they ask for (one group = one thing to build: a new tool, " +
    "a parameter, a format change). For each group give what to build, how many reports ask for it (and how many " +
    "of those were blocked) and their report ids. Order the groups by size, largest first, and say how many open reports you read in total.",
  (a) =>
    a.apply_changes
      ? "Then record the outcome, since the user asked for changes: for each group, add_note to its reports with the group's conclusion, " +
        "and set_status reviewed (dismissed when the request is not actionable). Change only reports you triaged."
      : "This is a read-only review: do not call add_note, set_status or draft_pr. End with the groups so a reviewer can act on them.",
];

export function triagePrompt(args: unknown, canWrite: boolean): GetPromptResult {
  const parsed = triageArgs.safeParse(args ?? {});
  if (!parsed.success)
    throw new Error(
      `Invalid arguments for triage_feedback: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const a = parsed.data;
  if (a.apply_changes && !canWrite) {
    throw new Error(
      "apply_changes needs the feedback:admin scope, which this session does not have; leave it out for a read-only triage.",
    );
  }
  const text = [
    `Triage the open feedback that agents filed${a.server_name ? ` about the MCP server ${json(a.server_name)}` : ""}. Cover every open report, not a sample.`,
    "",
    ...TRIAGE_STEPS.map((step, i) => `${i + 1}. ${step(a)}`),
    "",
    UNTRUSTED_DATA_RULE,
  ].join("\n");
  return {
    description: TRIAGE_PROMPT.description,
    messages: [{ role: "user", content: { type: "text", text } }],
  };
}
