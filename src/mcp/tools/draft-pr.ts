/**
 * `draft_pr` (admin): run the draft-PR pipeline for one report. Progress
 * events become MCP progress notifications (when the caller sent a
 * progressToken); cancellation aborts the run and removes any branch it made.
 */
import { z } from "zod";
import { type DraftEvent, resultPayload } from "../../draft/events.js";
import { gapUrl, reportUrl } from "../../net/report-url.js";
import { DraftSettings } from "../../settings/index.js";
import { fencedBlock, inlineCode } from "../markdown.js";
import { reportIdArg } from "./args.js";
import { gapIdArg } from "./gap-args.js";
import { defineTool, ToolError, type RequestExtra } from "./types.js";

/** Maps pipeline events to strictly increasing progress values: the step index, plus a tenth per detail. */
function progressReporter(extra: RequestExtra): (event: DraftEvent) => void {
  const token = extra.progressToken;
  if (token === undefined) return () => undefined;
  let step = 0;
  let total: number | undefined;
  let details = 0;
  let last = 0;
  return (event) => {
    if (event.type === "done" || event.type === "error") return;
    if (event.type === "step") {
      step = event.index;
      total = event.total;
      details = 0;
    } else if (details < 9) details++;
    const progress = Math.max(step + details / 10, last + 0.001);
    last = progress;
    void extra
      .notify({
        method: "notifications/progress",
        params: { progressToken: token, progress, ...(total ? { total } : {}), message: event.message },
      })
      .catch(() => undefined);
  };
}

export const draftPrTool = defineTool({
  name: "draft_pr",
  title: "Draft a pull request for a report or a gap",
  description:
    "Turn a feedback report (id), or a whole gap (gap_id: all its reports as evidence, near-duplicates collapsed, " +
    "plus the notes on the gap and its reports), and the developer notes into a draft pull request against the MCP server's " +
    "GitHub repository, using the LLM configured in the draft settings. Returns the PR URL. With dry_run: true, " +
    "stops after validating the change and returns the unified diff without touching GitHub. Re-running makes a new " +
    "draft and keeps the earlier ones in the report's history. Sends progress notifications when given a progressToken.",
  scope: "admin",
  input: z
    .object({
      id: reportIdArg.optional(),
      gap_id: gapIdArg.optional().describe("Draft from this gap instead of one report (give id or gap_id, not both)."),
      dry_run: z
        .boolean({ error: "dry_run must be true or false" })
        .optional()
        .describe("Return the diff instead of opening a PR."),
    })
    .refine((a) => (a.id === undefined) !== (a.gap_id === undefined), {
      error: "give exactly one of id (a report) and gap_id (a gap)",
      path: ["id"],
    }),
  output: z.object({
    url: z.string().nullable(),
    dry_run: z.boolean(),
    kind: z.enum(["pull_request", "local_commit", "dry_run"]),
    branch: z.string().nullable(),
    number: z.number().nullable(),
    draft_id: z.number().nullable(),
    files: z.array(z.object({ path: z.string(), action: z.enum(["create", "edit", "delete"]) })),
    title: z.string(),
    diff: z.string().nullable(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  async run({ id, gap_id, dry_run }, { store, extra }) {
    // Loaded on first use so starting the MCP server does not pay for the LLM and GitHub SDKs.
    const { runDraft } = await import("../../draft/pipeline.js");
    const publicUrl = process.env.FEEDBACK_PUBLIC_URL?.trim();
    const outcome = await runDraft({
      store,
      settings: new DraftSettings(store),
      reportId: id,
      gapId: gap_id,
      dryRun: dry_run ?? false,
      signal: extra.signal,
      reportUrl: publicUrl ? (gap_id !== undefined ? gapUrl(publicUrl, gap_id) : reportUrl(publicUrl, id!)) : undefined,
      onEvent: progressReporter(extra),
    });
    if (!outcome.ok) throw new ToolError(`Drafting failed (${outcome.error.code}): ${outcome.error.message}`);
    const r = outcome.result;
    const subject = gap_id !== undefined ? `gap ${gap_id}` : `report ${id}`;
    // The title and paths were written by a model that read untrusted report text: keep them inert.
    const files = r.files.map((f) => `${f.action} ${inlineCode(f.path)}`).join(", ");
    let text: string;
    switch (r.kind) {
      case "dry_run":
        text = `Dry run for ${subject}: ${inlineCode(r.title)} would change ${files}.\n\n${fencedBlock(r.diff, "diff")}`;
        break;
      case "local_commit":
        text = `Committed a draft for ${subject}: ${inlineCode(r.title)} (${files}) on local branch ${inlineCode(r.branch)} in ${inlineCode(r.repo)}.`;
        break;
      case "pull_request":
        text = `Opened draft PR ${r.url} for ${subject}: ${inlineCode(r.title)} (${files}) on branch ${inlineCode(r.branch)}.`;
        break;
    }
    const wire = resultPayload(r);
    return {
      text,
      structured: {
        url: wire.url,
        dry_run: wire.dry_run,
        kind: wire.kind,
        branch: wire.branch,
        number: wire.number,
        draft_id: wire.draft?.id ?? null,
        files: wire.files,
        title: wire.title,
        diff: wire.diff,
      },
    };
  },
});
