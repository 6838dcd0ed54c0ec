/**
 * What happens to a draft PR after it is opened: rollback (close the PR and
 * delete its branch, one action, recorded on the gap) and its CI verdict
 * (check runs and commit statuses of the head commit, through octokit).
 */
import { RequestError } from "octokit";
import type { DraftSettings } from "../settings/index.js";
import { AUTONOMY_ACTIONS, AUTONOMY_ACTOR, autonomyOf, type Draft, type FeedbackStore } from "../store/index.js";
import { createOctokit, githubError } from "./github.js";
import { DraftError } from "./events.js";

export interface RollbackResult {
  draft_id: number;
  url: string | null;
  pull_closed: boolean;
  branch_deleted: boolean;
}

function client(settings: DraftSettings, server: string, repo: string) {
  const config = settings.resolve(server);
  const token = config.secrets.githubToken;
  if (!token)
    throw new DraftError(
      "missing_github_token",
      "No GitHub token: set GITHUB_TOKEN or save one in the draft settings.",
    );
  const [owner, name] = repo.split("/") as [string, string];
  if (!owner || !name) throw new DraftError("invalid_repo", `The draft's repository "${repo}" is not owner/name.`);
  return {
    octokit: createOctokit({ token, baseUrl: config.secrets.githubApiUrl, userAgent: "patchworkmcp-autonomy" }),
    owner,
    repo: name,
  };
}

/**
 * Close a gap's draft PR and delete its branch; the draft stops counting as the
 * gap's open draft. A PR already closed or a branch already gone on GitHub is
 * not an error (the rollback finishes what is left). History: the automatic
 * rollback writes `auto_draft_rolled_back` (actor "autonomy"), a person's `draft_rolled_back`.
 */
export async function rollbackDraft(options: {
  store: FeedbackStore;
  settings: DraftSettings;
  gapId: number;
  draft: Draft;
  actor: string;
  reason: string;
}): Promise<RollbackResult> {
  const { store, draft } = options;
  if (draft.kind !== "pull_request" || draft.number === null || !draft.repo)
    throw new DraftError("not_a_pull_request", `Draft ${draft.id} is a local commit, not a pull request.`);
  const gap = store.gaps.getGap(options.gapId);
  if (!gap) throw new DraftError("gap_not_found", `There is no gap ${options.gapId}.`);
  const gh = client(options.settings, gap.server_name, draft.repo);
  const req = { owner: gh.owner, repo: gh.repo };
  let pullClosed = false;
  try {
    const pr = await gh.octokit.rest.pulls.get({ ...req, pull_number: draft.number });
    if (pr.data.state !== "closed") {
      await gh.octokit.rest.pulls.update({ ...req, pull_number: draft.number, state: "closed" });
      pullClosed = true;
    }
  } catch (err) {
    throw githubError(err, "pull_request", `close pull request #${draft.number}`, draft.repo);
  }
  let branchDeleted = false;
  try {
    await gh.octokit.rest.git.deleteRef({ ...req, ref: `heads/${draft.branch}` });
    branchDeleted = true;
  } catch (err) {
    // Already deleted (GitHub answers 422 "Reference does not exist", or 404): nothing left to do.
    if (!(err instanceof RequestError && (err.status === 422 || err.status === 404)))
      throw githubError(err, "pull_request", `delete branch ${draft.branch}`, draft.repo);
  }
  const automatic = options.actor === AUTONOMY_ACTOR;
  store.db.transaction(() => {
    autonomyOf(store).closeDraft(draft.id, options.actor, options.reason);
    store.gaps.history(options.gapId, options.actor, automatic ? AUTONOMY_ACTIONS.rolledBack : "draft_rolled_back", {
      draft_id: draft.id,
      url: draft.url,
      branch: draft.branch,
      reason: options.reason,
      pull_closed: pullClosed,
      branch_deleted: branchDeleted,
    });
  })();
  return { draft_id: draft.id, url: draft.url, pull_closed: pullClosed, branch_deleted: branchDeleted };
}

export type CiVerdict = "pending" | "success" | "failure";

const FAILED_CONCLUSIONS = new Set(["failure", "timed_out", "cancelled", "action_required", "startup_failure"]);

/**
 * The CI verdict on a draft's head commit: failure as soon as one check run
 * or commit status failed; success when at least one exists and all finished
 * well; pending otherwise (nothing reported yet, or still running).
 */
export async function ciVerdict(options: {
  settings: DraftSettings;
  server: string;
  draft: Draft;
}): Promise<CiVerdict> {
  const { draft } = options;
  if (!draft.repo || !draft.commit_sha) return "pending";
  const gh = client(options.settings, options.server, draft.repo);
  const req = { owner: gh.owner, repo: gh.repo, ref: draft.commit_sha };
  try {
    const [checks, status] = await Promise.all([
      gh.octokit.rest.checks.listForRef({ ...req, per_page: 100 }),
      gh.octokit.rest.repos.getCombinedStatusForRef(req),
    ]);
    const runs = checks.data.check_runs;
    const statuses = status.data.statuses;
    if (runs.some((r) => r.conclusion && FAILED_CONCLUSIONS.has(r.conclusion))) return "failure";
    if (statuses.some((s) => s.state === "failure" || s.state === "error")) return "failure";
    if (runs.length + statuses.length === 0) return "pending";
    const runsDone = runs.every((r) => r.status === "completed");
    const statusesDone = statuses.every((s) => s.state === "success");
    return runsDone && statusesDone ? "success" : "pending";
  } catch (err) {
    throw githubError(err, "pull_request", `read the CI status of ${draft.commit_sha.slice(0, 12)}`, draft.repo);
  }
}
