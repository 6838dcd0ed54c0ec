/**
 * THE registry of report tools. Each tool is one module in this folder that
 * exports a `ReportTool` (see types.ts; `defineTool` builds one from zod
 * schemas). To add a tool:
 *   1. write `src/mcp/tools/<name>.ts` exporting it (scope, definition, call);
 *   2. add one line to REPORT_TOOLS below.
 * Nothing else changes: stdio and HTTP both build their tools/list from this
 * list, sessions see only the tools their key's scope allows (ingest <
 * read < admin), and HTTP refuses calls above the key's scope with a 403.
 * A handler gets `ctx.extra` for progress notifications
 * (`ctx.extra.progressToken` + `ctx.extra.notify`) and
 * cancellation (`ctx.extra.signal`).
 */
import { type KeyScope, scopeAllows } from "../../auth/index.js";
import { addNoteTool } from "./add-note.js";
import { analyzeGapTool } from "./analyze-gap.js";
import { createIssueTool } from "./create-issue.js";
import { draftPrTool } from "./draft-pr.js";
import { feedbackTool } from "./feedback.js";
import { getGapTool } from "./get-gap.js";
import { listGapsTool } from "./list-gaps.js";
import { mergeGapsTool } from "./merge-gaps.js";
import { splitGapTool } from "./split-gap.js";
import { updateGapTool } from "./update-gap.js";
import { getReportTool } from "./get-report.js";
import { getStatsTool } from "./get-stats.js";
import { getToolStatsTool } from "./get-tool-stats.js";
import { listReportsTool } from "./list-reports.js";
import { setStatusTool } from "./set-status.js";
import type { ReportTool } from "./types.js";

export const REPORT_TOOLS: readonly ReportTool[] = [
  feedbackTool, // ingest
  listReportsTool, // read
  getReportTool, // read
  getStatsTool, // read
  addNoteTool, // admin
  setStatusTool, // admin
  draftPrTool, // admin
  listGapsTool, // read
  getGapTool, // read
  getToolStatsTool, // read
  updateGapTool, // admin
  mergeGapsTool, // admin
  splitGapTool, // admin
  analyzeGapTool, // admin
  createIssueTool, // admin
];

/** The tools a session with `scope` may see and call, in registry order. */
export function toolsForScope(scope: KeyScope, options: { feedbackOnly?: boolean } = {}): ReportTool[] {
  return REPORT_TOOLS.filter(
    (t) => scopeAllows(scope, t.scope) && (!options.feedbackOnly || t.definition.name === "feedback"),
  );
}

/** The scope a tool needs, or undefined for a name no tool has. */
export function scopeForTool(name: string): KeyScope | undefined {
  return REPORT_TOOLS.find((t) => t.definition.name === name)?.scope;
}

export type { ReportTool, ToolContext, ToolOutput } from "./types.js";
export { defineTool, ToolError } from "./types.js";
