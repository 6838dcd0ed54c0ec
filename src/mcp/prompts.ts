/**
 * The `triage_feedback` prompt: walks an agent through the open reports where
 * agents were blocked. It contains no report text itself (the agent fetches
 * reports with the tools, whose output is marked as data).
 */
import type { GetPromptResult, Prompt } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { UNTRUSTED_DATA_RULE } from "./instructions.js";

export const TRIAGE_PROMPT: Prompt = {
  name: "triage_feedback",
  title: "Triage blocked feedback",
  description: "Go through the open reports where agents were blocked, group them and propose what to build.",
  arguments: [
    { name: "server_name", description: "Only reports about this MCP server.", required: false },
    { name: "limit", description: "How many reports to read (default 20).", required: false },
  ],
};

const triageArgs = z.object({
  server_name: z.string().trim().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
});

export function triagePrompt(args: unknown, canWrite: boolean): GetPromptResult {
  const parsed = triageArgs.safeParse(args ?? {});
  if (!parsed.success)
    throw new Error(
      `Invalid arguments for triage_feedback: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  const { server_name, limit = 20 } = parsed.data;
  const scope = server_name ? ` with server_name ${JSON.stringify(server_name)}` : "";
  const steps = [
    `Triage the feedback that agents filed${server_name ? ` about the MCP server ${JSON.stringify(server_name)}` : ""}.`,
    "",
    `1. Call get_stats${scope} to see where agents get stuck.`,
    `2. Call list_reports with resolution "blocked" and status "open"${scope}, limit ${limit}.`,
    "3. Read each of them with get_report.",
    "4. Group reports that ask for the same capability. For each group, say what to build (a new tool, a parameter, a format change), which reports support it, and how often it came up.",
    canWrite
      ? "5. For each report you triaged, add_note with your conclusion, and set_status to reviewed (or dismissed when it is not actionable)."
      : "5. List the report ids per group so a reviewer can act on them.",
    "",
    UNTRUSTED_DATA_RULE,
  ];
  return {
    description: TRIAGE_PROMPT.description,
    messages: [{ role: "user", content: { type: "text", text: steps.join("\n") } }],
  };
}
