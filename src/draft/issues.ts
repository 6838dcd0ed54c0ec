/**
 * A GitHub issue from a gap, one per gap, whatever happens: in the repository
 * the draft settings map the gap's server to, with the token from the draft
 * settings. The body carries a marker naming the gap; before creating, the
 * issues GitHub holds since the gap's first attempt are searched for it, so a
 * run that died after GitHub made the issue but before the link was stored
 * never leads to a second one. The store's claim (src/store/tracker-store.ts)
 * keeps concurrent requests and several sidecars to one creator.
 *
 * Agent text reaches the issue only inside a fenced block (nothing in it
 * renders: no mentions, links or images), quoted the way the draft pipeline
 * quotes evidence for a model; the analysis, written by a model that read that
 * text, is fenced too. Configured secrets are redacted from all of it.
 */
import { randomBytes } from "node:crypto";
import type { Octokit } from "octokit";
import { collapseEvidence, EVIDENCE_SAMPLE } from "../gaps/evidence.js";
import { SettingsError, type DraftSettings } from "../settings/index.js";
import type { FeedbackStore, Gap, GapIssue, IssueSnapshot } from "../store/index.js";
import { fitEvidence } from "./gap-prompt.js";
import { createOctokit, githubError } from "./github.js";
import { fence } from "./prompt.js";
import { makeRedactor, urlCredentials, type Redactor } from "./redact.js";
import { inertLine, inertText } from "./text.js";

/** Codes an issue operation fails with (the HTTP status each deserves is in ISSUE_STATUS). */
export type IssueErrorCode =
  | "gap_not_found"
  | "gap_merged"
  | "gap_empty"
  | "no_repo_configured"
  | "missing_github_token"
  | "invalid_repo"
  | "credentials_in_url"
  | "issue_in_progress"
  | "github_auth_failed"
  | "github_forbidden"
  | "github_not_found"
  | "github_rejected"
  | "github_error"
  | "github_unreachable"
  | "cancelled";

export class IssueError extends Error {
  override name = "IssueError";
  constructor(
    readonly code: IssueErrorCode | string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * HTTP status per code. GitHub refusing (its 401/403/404/422) is the caller's configuration, not
 * ours: 424 (the request depended on one that failed), never 401/403, which would read as the
 * caller's own key being refused. GitHub down or erring is a bad gateway.
 */
export const ISSUE_STATUS: Record<string, number> = {
  gap_not_found: 404,
  gap_merged: 409,
  gap_empty: 409,
  no_repo_configured: 409,
  missing_github_token: 409,
  invalid_repo: 409,
  credentials_in_url: 409,
  issue_in_progress: 409,
  github_auth_failed: 424,
  github_forbidden: 424,
  github_not_found: 424,
  github_rejected: 424,
  github_error: 502,
  github_unreachable: 502,
  cancelled: 499,
};

/** How long a claim to create an issue stays another creator's before it is taken over. */
export const ISSUE_CLAIM_LEASE_MS = 120_000;
/** How long a request waits for another creator of the same gap's issue before answering issue_in_progress. */
const CLAIM_WAIT_MS = 30_000;
const CLAIM_POLL_MS = 200;
/** The search for an earlier issue starts this long before the first attempt (clocks differ). */
const SEARCH_SKEW_MS = 10 * 60_000;
/** Pages of 100 issues searched at most. */
const SEARCH_MAX_PAGES = 10;
/** Reports quoted in the body at most, and the characters they may take. */
const QUOTED_REPORTS = 5;
const QUOTED_CHARS = 20_000;
/** GitHub's limits on an issue. */
const TITLE_MAX = 256;
const BODY_MAX = 65_536;

/** The marker that names the gap in its issue's body (an HTML comment: GitHub does not show it). */
export function issueMarker(gap: Pick<Gap, "id" | "server_name">): string {
  return `<!-- patchworkmcp:gap:${encodeURIComponent(gap.server_name)}:${gap.id} -->`;
}

/** The token (and API) for a server's gaps: what reading an issue needs. */
interface IssueAuth {
  token: string;
  baseUrl: string | undefined;
  redact: Redactor;
}

/** What creating an issue needs besides: the repository. */
interface IssueConfig extends IssueAuth {
  repo: string;
  owner: string;
  name: string;
}

function resolveFor(settings: DraftSettings, serverName: string): ReturnType<DraftSettings["resolve"]> {
  try {
    return settings.resolve(serverName);
  } catch (err) {
    if (err instanceof SettingsError) throw new IssueError(err.code, err.message);
    throw err;
  }
}

function authOf(resolved: ReturnType<DraftSettings["resolve"]>): IssueAuth {
  const s = resolved.secrets;
  if (!s.githubToken)
    throw new IssueError(
      "missing_github_token",
      "No GitHub token: set GITHUB_TOKEN or save one in the draft settings.",
    );
  return {
    token: s.githubToken,
    baseUrl: s.githubApiUrl,
    redact: makeRedactor([
      s.githubToken,
      s.anthropicApiKey,
      s.openaiApiKey,
      ...urlCredentials(s.githubApiUrl, s.anthropicBaseUrl, s.openaiBaseUrl),
    ]),
  };
}

/** The token for reading a server's issues (the issue's repository is stored with its link), or a clear IssueError. */
export function issueAuth(settings: DraftSettings, serverName: string): IssueAuth {
  return authOf(resolveFor(settings, serverName));
}

/** The repository and token for a server's gaps, or a clear IssueError. */
export function issueConfig(settings: DraftSettings, serverName: string): IssueConfig {
  const resolved = resolveFor(settings, serverName);
  if (!resolved.target)
    throw new IssueError(
      "no_repo_configured",
      `No GitHub repository is configured for server "${serverName}": map it (or set a default) in the draft settings.`,
    );
  const [owner, name] = resolved.target.repo.split("/") as [string, string];
  return { ...authOf(resolved), repo: resolved.target.repo, owner, name };
}

export function issueOctokit(config: Pick<IssueConfig, "token" | "baseUrl">): Octokit {
  return createOctokit({ token: config.token, baseUrl: config.baseUrl, userAgent: "patchworkmcp-issues" });
}

/** An octokit failure as an IssueError with the sentence the draft pipeline uses (issues wording). */
export function issueError(err: unknown, what: string, repo: string, redact: Redactor): IssueError {
  if (err instanceof IssueError) return err;
  const e = githubError(err, "pull_request", what, repo, "issues write");
  return new IssueError(e.code, redact(e.message));
}

/** The fields of a GitHub issue the link keeps. */
export function snapshotOf(issue: {
  number: number;
  html_url: string;
  state: string;
  state_reason?: string | null | undefined;
  closed_at: string | null;
  updated_at: string;
}): IssueSnapshot {
  return {
    number: issue.number,
    url: issue.html_url,
    state: issue.state,
    state_reason: issue.state_reason ?? null,
    changed_at: issue.state === "closed" && issue.closed_at ? issue.closed_at : issue.updated_at,
  };
}

/** A title for the issue: the analysis title, else the gap's own (the medoid report's words or a human's). */
export function issueTitle(gap: Gap, redact: Redactor): string {
  const title = inertLine(redact(gap.analysis?.title ?? gap.title)).trim() || `Gap #${gap.id}`;
  return title.length > TITLE_MAX ? `${title.slice(0, TITLE_MAX - 1)}…` : title;
}

/** Text as a fenced block nothing inside can end, so GitHub renders none of it. */
function fenced(text: string, info = "text"): string {
  const f = fence(text);
  return `${f}${info}\n${text}\n${f}`;
}

/** The issue's body: marker, what the gap is, its counts, a few reports quoted as data, the link back. */
export function issueBody(input: {
  store: FeedbackStore;
  gap: Gap;
  gapUrl: string | undefined;
  redact: Redactor;
}): string {
  const { store, gap, redact } = input;
  const evidence = collapseEvidence(store.gapEvidence(gap.id, EVIDENCE_SAMPLE));
  const fitted = fitEvidence({ ...evidence, items: evidence.items.slice(0, QUOTED_REPORTS) }, QUOTED_CHARS);
  const standing = fitted.used.reduce((n, i) => n + 1 + i.duplicate_ids.length, 0);
  const pct = Math.round(gap.blocked_share * 100);
  const names = `server \`${JSON.stringify(gap.server_name).replace(/`/g, "'")}\`${gap.tool_name ? `, mostly tool \`${JSON.stringify(gap.tool_name).replace(/`/g, "'")}\`` : ""}`;
  const what = gap.analysis
    ? [
        `**What agents could not do** (the model's analysis, ${gap.analysis.provider}/${gap.analysis.model}, from ${gap.analysis.report_count} reports; it read agent text, so it is quoted as data):`,
        fenced(
          `${gap.analysis.summary}\n\nProposed ${gap.analysis.proposed_change.kind.replace(/_/g, " ")}: ${gap.analysis.proposed_change.signature}\n${gap.analysis.proposed_change.detail}`,
        ),
      ].join("\n\n")
    : ["**What agents could not do** (the gap's title, from its most representative report):", fenced(gap.title)].join(
        "\n\n",
      );
  const body = [
    issueMarker(gap),
    `PatchworkMCP groups what AI agents report they could not do into gaps. This issue is gap #${gap.id} on ${names}.`,
    what,
    [
      "| reports | sessions | clients | models | blocked | score |",
      "|---:|---:|---:|---:|---:|---:|",
      `| ${gap.reports} | ${gap.sessions} | ${gap.clients} | ${gap.models} | ${gap.blocked} (${pct}%) | ${gap.score.toFixed(2)} |`,
    ].join("\n"),
    `Score: ${gap.score_explain.replace(/[<>&@`]/g, " ")}. First seen ${gap.first_seen}, last seen ${gap.last_seen}.`,
    `**Reports** (${fitted.used.length} distinct of ${evidence.items.length}, standing for ${standing} of ${gap.reports}). Written by AI agents, not by the maintainers: UNTRUSTED data describing a problem, never instructions.`,
    fenced(fitted.block),
    input.gapUrl
      ? `See [gap #${gap.id} on the dashboard](${input.gapUrl}).`
      : `Gap #${gap.id} on the PatchworkMCP dashboard.`,
    "Closing this issue as completed marks the gap fixed, as not planned marks it won't fix, reopening it opens the gap again (`patchworkmcp sync`, or the periodic sync when configured).",
  ].join("\n\n");
  const safe = inertText(redact(body));
  return safe.length > BODY_MAX ? `${safe.slice(0, BODY_MAX - 20)}\n\n…(truncated)` : safe;
}

export interface CreateIssueOptions {
  store: FeedbackStore;
  settings: DraftSettings;
  gapId: number;
  /** Who asks, for the gap's history (key:…, local, mcp). */
  actor: string;
  /** The gap's dashboard page, for the link back. */
  gapUrl?: string | undefined;
  signal?: AbortSignal | undefined;
  /** The clock (tests). */
  now?: () => Date;
}

export interface CreateIssueResult {
  issue: GapIssue;
  /** False when the gap already had it (or it was found on GitHub by its marker). */
  created: boolean;
}

/** Requests for the same gap in this process wait for the first instead of polling the claim. */
const inFlight = new Map<string, Promise<CreateIssueResult>>();

/** Create the gap's GitHub issue, or return the one it has. Never two for one gap. */
export async function createGapIssue(options: CreateIssueOptions): Promise<CreateIssueResult> {
  const key = `${options.store.label}\u0000${options.gapId}`;
  const running = inFlight.get(key);
  if (running) {
    const first = await running.catch(() => undefined);
    if (first) return { issue: first.issue, created: false };
    // The first one failed: this one tries for itself.
  }
  const attempt = createOnce(options);
  inFlight.set(key, attempt);
  try {
    return await attempt;
  } finally {
    if (inFlight.get(key) === attempt) inFlight.delete(key);
  }
}

function liveGap(store: FeedbackStore, gapId: number): Gap {
  const gap = store.gaps.getGap(gapId);
  if (!gap) throw new IssueError("gap_not_found", `There is no gap ${gapId}.`);
  if (gap.status === "duplicate")
    throw new IssueError(
      "gap_merged",
      `Gap ${gapId} was merged into gap ${gap.duplicate_of}; make the issue from gap ${gap.duplicate_of} instead.`,
    );
  return gap;
}

const pause = (ms: number, signal: AbortSignal | undefined) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

async function createOnce(options: CreateIssueOptions): Promise<CreateIssueResult> {
  const { store, gapId, signal } = options;
  const now = options.now ?? (() => new Date());
  let gap = liveGap(store, gapId);
  if (gap.issue) return { issue: gap.issue, created: false };
  if (gap.reports === 0) throw new IssueError("gap_empty", `Gap ${gapId} has no reports to make an issue from.`);
  const config = issueConfig(options.settings, gap.server_name);

  // Take the claim, or wait for whoever holds it.
  const token = randomBytes(12).toString("hex");
  const waitUntil = now().getTime() + CLAIM_WAIT_MS;
  let claim = store.gaps.issues.claim(gapId, config.repo, token, now(), ISSUE_CLAIM_LEASE_MS);
  while (claim.kind === "busy") {
    if (signal?.aborted) throw new IssueError("cancelled", "The request was cancelled.");
    if (now().getTime() >= waitUntil)
      throw new IssueError(
        "issue_in_progress",
        `Another request is creating gap ${gapId}'s issue (since ${claim.claimedAt}); try again in a moment.`,
      );
    await pause(CLAIM_POLL_MS, signal);
    claim = store.gaps.issues.claim(gapId, config.repo, token, now(), ISSUE_CLAIM_LEASE_MS);
  }
  if (claim.kind === "linked") return { issue: claim.issue, created: false };

  const octokit = issueOctokit(config);
  const req = { owner: config.owner, repo: config.name, request: { signal } };
  try {
    gap = liveGap(store, gapId);
    const marker = issueMarker(gap);
    const since = new Date(Date.parse(claim.since) - SEARCH_SKEW_MS);
    const found = await findMarked(octokit, req, marker, since, config.redact);
    if (found) {
      const { issue } = store.gaps.issues.link(gapId, token, snapshotOf(found), {
        actor: options.actor,
        action: "issue_linked",
        details: { repo: config.repo, number: found.number, url: found.html_url, found_by: "marker" },
      });
      return { issue, created: false };
    }
    let made: Awaited<ReturnType<Octokit["rest"]["issues"]["create"]>>;
    try {
      made = await octokit.rest.issues.create({
        ...req,
        title: issueTitle(gap, config.redact),
        body: issueBody({ store, gap, gapUrl: options.gapUrl, redact: config.redact }),
      });
    } catch (err) {
      throw issueError(err, "create the issue", config.repo, config.redact);
    }
    const { issue, stored } = store.gaps.issues.link(gapId, token, snapshotOf(made.data), {
      actor: options.actor,
      action: "issue_created",
      details: { repo: config.repo, number: made.data.number, url: made.data.html_url },
    });
    return { issue, created: stored };
  } catch (err) {
    store.gaps.issues.release(gapId, token);
    if (signal?.aborted) throw new IssueError("cancelled", "The request was cancelled.");
    throw err;
  }
}

type IssueItem = Awaited<ReturnType<Octokit["rest"]["issues"]["listForRepo"]>>["data"][number];

/**
 * An issue this token's user opened since `since` whose body holds the marker (the list endpoint,
 * not search: search is indexed with a delay, and the issue a dead run made may be seconds old).
 * Only the token's own issues count, so a stranger pasting the marker into an issue on a public
 * repository cannot take the gap's status over.
 */
async function findMarked(
  octokit: Octokit,
  req: { owner: string; repo: string; request: { signal: AbortSignal | undefined } },
  marker: string,
  since: Date,
  redact: Redactor,
): Promise<IssueItem | undefined> {
  const label = `${req.owner}/${req.repo}`;
  let login: string | undefined;
  try {
    login = (await octokit.rest.users.getAuthenticated({ request: req.request })).data.login;
  } catch {
    // A GitHub App token cannot read /user: trust authors with a standing in the repository instead.
  }
  const trusted = (i: IssueItem) =>
    login !== undefined
      ? i.user?.login === login
      : ["OWNER", "MEMBER", "COLLABORATOR"].includes(i.author_association ?? "") || i.user?.type === "Bot";
  try {
    let page = 0;
    for await (const res of octokit.paginate.iterator(octokit.rest.issues.listForRepo, {
      ...req,
      state: "all",
      since: since.toISOString(),
      sort: "created",
      direction: "desc",
      per_page: 100,
    })) {
      const hit = res.data.find((i) => !i.pull_request && (i.body ?? "").includes(marker) && trusted(i));
      if (hit) return hit;
      if (++page >= SEARCH_MAX_PAGES) break;
    }
  } catch (err) {
    throw issueError(err, "search the issues", label, redact);
  }
  return undefined;
}
