/**
 * `create_issue` (admin): the gap's GitHub issue, in the repository the draft
 * settings map its server to. Idempotent: a gap has one issue, and calling
 * again returns it.
 */
import { z } from "zod";
import { gapUrl } from "../../net/report-url.js";
import { DraftSettings } from "../../settings/index.js";
import { gapIdArg } from "./gap-args.js";
import { defineTool, ToolError } from "./types.js";

export const createIssueTool = defineTool({
  name: "create_issue",
  title: "Create a GitHub issue for a gap",
  description:
    "Open a GitHub issue for a gap (id) in the repository the draft settings map its server to: its analysis or " +
    "title, counts, a few reports quoted as data and a link back. A gap has at most one issue: calling again returns " +
    "the existing one (created: false). Closing the issue on GitHub can later set the gap's status (patchworkmcp sync).",
  scope: "admin",
  input: z.object({ id: gapIdArg }),
  output: z.object({
    url: z.string(),
    number: z.number(),
    repo: z.string(),
    state: z.string(),
    created: z.boolean(),
  }),
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async run({ id }, { store, extra }) {
    const { createGapIssue, IssueError } = await import("../../draft/issues.js");
    const publicUrl = process.env.FEEDBACK_PUBLIC_URL?.trim();
    try {
      const { issue, created } = await createGapIssue({
        store,
        settings: new DraftSettings(store),
        gapId: id,
        actor: "mcp",
        gapUrl: publicUrl ? gapUrl(publicUrl, id) : undefined,
        signal: extra.signal,
      });
      return {
        text: `${created ? "Created" : "Gap already has"} issue ${issue.url} (${issue.repo}#${issue.number}, ${issue.state}) for gap ${id}.`,
        structured: { url: issue.url, number: issue.number, repo: issue.repo, state: issue.state, created },
      };
    } catch (err) {
      if (err instanceof IssueError) throw new ToolError(`Creating the issue failed (${err.code}): ${err.message}`);
      throw err;
    }
  },
});
