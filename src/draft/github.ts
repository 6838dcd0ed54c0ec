/**
 * GitHub through octokit: read the base commit's tree and files, then write
 * ONE commit with every change through the Git Data API (blobs, tree with
 * base_tree, commit, ref) and open a draft PR. A branch this run created is
 * deleted again if a later step fails.
 */
import { Octokit, RequestError } from "octokit";
import { DraftError, type DraftStep } from "./events.js";
import {
  commitOnNewBranch,
  decodeText,
  PathIndex,
  type CommitRequest,
  type Published,
  type PublishHooks,
  type PublishRequest,
  type RepoEntry,
  type RepoListing,
  type RepoSource,
} from "./repo.js";
import { SKIP_DIRS } from "./select.js";

const MAX_TREE_WALK_REQUESTS = 300;

export interface GitHubOptions {
  token: string;
  /** API base URL (GitHub Enterprise: https://ghe.example.com/api/v3). */
  baseUrl?: string | undefined;
  owner: string;
  repo: string;
  /** Branch to base the PR on; undefined = the repository's default branch. */
  baseBranch?: string | undefined;
  signal?: AbortSignal | undefined;
}

function isLoopback(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const host = new URL(url).hostname;
    return host === "localhost" || host === "::1" || host === "[::1]" || host.startsWith("127.");
  } catch {
    return false;
  }
}

/** Turn an octokit failure into a sentence; never includes request headers (the token). */
export function githubError(err: unknown, step: DraftStep, what: string, repo: string): DraftError {
  if (err instanceof DraftError) return err;
  if (err instanceof Error && err.name === "AbortError")
    return new DraftError("cancelled", "The draft was cancelled.", step);
  if (err instanceof RequestError) {
    const body = err.response?.data as { message?: unknown } | undefined;
    const detail = typeof body?.message === "string" ? body.message : err.message;
    if (err.status === 401)
      return new DraftError(
        "github_auth_failed",
        `GitHub rejected the token (401 ${detail}). Check GITHUB_TOKEN in the draft settings.`,
        step,
      );
    if (err.status === 403)
      return new DraftError(
        "github_forbidden",
        `GitHub refused to ${what} in ${repo} (403 ${detail}). The token may lack the contents/pull-requests write permission.`,
        step,
      );
    if (err.status === 404)
      return new DraftError(
        "github_not_found",
        `GitHub could not ${what}: ${repo} was not found, or the token cannot see it (404).`,
        step,
      );
    if (err.status === 422)
      return new DraftError(
        "github_rejected",
        `GitHub rejected the request to ${what} in ${repo} (422 ${detail}).`,
        step,
      );
    return new DraftError("github_error", `GitHub failed to ${what} in ${repo} (${err.status} ${detail}).`, step);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new DraftError("github_unreachable", `Could not reach GitHub to ${what} (${message}).`, step);
}

/** The one way octokit is configured here (the draft pipeline, rollbacks, CI polling). */
export function githubClient(options: { token: string; baseUrl?: string | undefined }): Octokit {
  const local = isLoopback(options.baseUrl);
  return new Octokit({
    auth: options.token,
    ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, "") } : {}),
    userAgent: "patchworkmcp-draft",
    // GitHub asks for pauses between writes; a loopback endpoint (a test double or a local proxy) does not need them.
    throttle: {
      enabled: !local,
      onRateLimit: (_after: number, _opts: object, _o: Octokit, retryCount: number) => retryCount < 1,
      onSecondaryRateLimit: (_after: number, _opts: object, _o: Octokit, retryCount: number) => retryCount < 1,
    },
    retry: { enabled: !local },
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
  });
}

export class GitHubRepo implements RepoSource {
  readonly label: string;
  readonly recordName: string;
  baseBranch = "";
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly name: string;
  private baseCommit = "";
  private baseTree = "";
  private readonly shas = new Map<string, string>();
  private readonly paths = new PathIndex();
  private readonly modes = new Map<string, string>();

  private constructor(private readonly options: GitHubOptions) {
    this.owner = options.owner;
    this.name = options.repo;
    this.label = `${options.owner}/${options.repo}`;
    this.recordName = this.label;
    this.octokit = githubClient(options);
  }

  private get req() {
    return { owner: this.owner, repo: this.name, request: { signal: this.options.signal } };
  }

  /** Resolve the base branch and commit. */
  static async open(options: GitHubOptions): Promise<GitHubRepo> {
    const gh = new GitHubRepo(options);
    const label = gh.label;
    try {
      const repo = await gh.octokit.rest.repos.get(gh.req);
      gh.baseBranch = options.baseBranch ?? repo.data.default_branch;
    } catch (err) {
      throw githubError(err, "read_repo", "read the repository", label);
    }
    try {
      const ref = await gh.octokit.rest.git.getRef({ ...gh.req, ref: `heads/${gh.baseBranch}` });
      gh.baseCommit = ref.data.object.sha;
      const commit = await gh.octokit.rest.git.getCommit({ ...gh.req, commit_sha: gh.baseCommit });
      gh.baseTree = commit.data.tree.sha;
    } catch (err) {
      if (err instanceof RequestError && err.status === 404) {
        throw new DraftError("github_branch_not_found", `${label} has no branch "${gh.baseBranch}".`, "read_repo");
      }
      throw githubError(err, "read_repo", `read branch ${gh.baseBranch}`, label);
    }
    return gh;
  }

  async list(): Promise<RepoListing> {
    const notes: string[] = [];
    let entries: RepoEntry[];
    let complete = true;
    try {
      const tree = await this.octokit.rest.git.getTree({ ...this.req, tree_sha: this.baseTree, recursive: "1" });
      if (!tree.data.truncated) {
        entries = this.collect(tree.data.tree, "");
      } else {
        // GitHub cuts recursive listings of huge trees: walk the directories one by one instead.
        notes.push("GitHub truncated the recursive tree listing; walking directories one by one.");
        const walked = await this.walk();
        entries = walked.entries;
        complete = walked.complete;
        if (!complete)
          notes.push(
            `The tree is too large to list completely (stopped after ${MAX_TREE_WALK_REQUESTS} directory requests).`,
          );
      }
    } catch (err) {
      throw githubError(err, "read_repo", "list the files", this.label);
    }
    return { entries, complete, notes };
  }

  private collect(
    tree: { path?: string; type?: string; sha?: string; size?: number; mode?: string }[],
    prefix: string,
  ): RepoEntry[] {
    const out: RepoEntry[] = [];
    for (const e of tree) {
      if (!e.path) continue;
      const isFile = e.type === "blob" && e.mode !== "120000" && e.mode !== "160000";
      this.paths.add(`${prefix}${e.path}`, isFile ? "file" : e.type === "tree" ? "dir" : "other");
      if (!isFile || !e.sha) continue; // symlinks and submodules are not editable files
      const path = `${prefix}${e.path}`;
      this.shas.set(path, e.sha);
      this.modes.set(path, e.mode ?? "100644");
      out.push({ path, size: e.size ?? 0 });
    }
    return out;
  }

  private async walk(): Promise<{ entries: RepoEntry[]; complete: boolean }> {
    const entries: RepoEntry[] = [];
    const queue: { sha: string; prefix: string }[] = [{ sha: this.baseTree, prefix: "" }];
    let requests = 0;
    while (queue.length > 0) {
      if (requests >= MAX_TREE_WALK_REQUESTS) {
        for (const rest of queue) this.paths.addUnread(rest.prefix);
        return { entries, complete: false };
      }
      const { sha, prefix } = queue.shift()!;
      requests++;
      const tree = await this.octokit.rest.git.getTree({ ...this.req, tree_sha: sha });
      entries.push(...this.collect(tree.data.tree, prefix));
      for (const e of tree.data.tree) {
        if (e.type !== "tree" || !e.sha || !e.path) continue;
        if (SKIP_DIRS.has(e.path)) this.paths.addUnread(`${prefix}${e.path}/`);
        else queue.push({ sha: e.sha, prefix: `${prefix}${e.path}/` });
      }
    }
    return { entries, complete: true };
  }

  async read(path: string): Promise<string | undefined> {
    const sha = this.shas.get(path);
    if (!sha) return undefined;
    try {
      const blob = await this.octokit.rest.git.getBlob({ ...this.req, file_sha: sha });
      const bytes =
        blob.data.encoding === "base64"
          ? Buffer.from(blob.data.content, "base64")
          : Buffer.from(blob.data.content, "utf8");
      return decodeText(bytes);
    } catch (err) {
      throw githubError(err, "select_files", `read ${path}`, this.label);
    }
  }

  exists(path: string): boolean {
    return this.shas.has(path);
  }

  takenBecause(path: string): string | undefined {
    return this.paths.takenBecause(path);
  }

  /** Blobs, one tree on top of the base tree, one commit, then the branch ref. Returns the commit sha. */
  async commit(request: CommitRequest): Promise<string> {
    let commitSha: string;
    try {
      const tree: { path: string; mode: "100644" | "100755"; type: "blob"; sha: string | null }[] = [];
      for (const change of request.changes) {
        if (change.after === null) {
          tree.push({ path: change.path, mode: "100644", type: "blob", sha: null });
          continue;
        }
        const blob = await this.octokit.rest.git.createBlob({
          ...this.req,
          content: Buffer.from(change.after, "utf8").toString("base64"),
          encoding: "base64",
        });
        const mode = this.modes.get(change.path) === "100755" ? "100755" : "100644";
        tree.push({ path: change.path, mode, type: "blob", sha: blob.data.sha });
      }
      const newTree = await this.octokit.rest.git.createTree({ ...this.req, base_tree: this.baseTree, tree });
      const commit = await this.octokit.rest.git.createCommit({
        ...this.req,
        message: request.message,
        tree: newTree.data.sha,
        parents: [this.baseCommit],
      });
      commitSha = commit.data.sha;
    } catch (err) {
      throw githubError(err, "commit", "write the commit", this.label);
    }
    try {
      await this.octokit.rest.git.createRef({ ...this.req, ref: `refs/heads/${request.branch}`, sha: commitSha });
    } catch (err) {
      throw githubError(err, "commit", `create branch ${request.branch}`, this.label);
    }
    return commitSha;
  }

  /** Branch + one commit, then a draft PR; the branch is deleted again if the PR cannot be opened. */
  async publish(request: PublishRequest, hooks: PublishHooks): Promise<Published> {
    const commitSha = await commitOnNewBranch(this, request, hooks);
    hooks.step("pull_request", `Opening a draft pull request against ${this.baseBranch}`);
    const pr = await this.openDraftPull({ branch: request.branch, title: request.title, body: request.body });
    hooks.detail("pull_request", `Draft PR #${pr.number}: ${pr.url}`);
    // From here on the branch carries an open PR: never delete it.
    hooks.onFailure(undefined);
    return { kind: "pull_request", branch: request.branch, commitSha, url: pr.url, number: pr.number };
  }

  async openDraftPull(input: {
    branch: string;
    title: string;
    body: string;
  }): Promise<{ url: string; number: number }> {
    try {
      const pr = await this.octokit.rest.pulls.create({
        ...this.req,
        head: input.branch,
        base: this.baseBranch,
        title: input.title,
        body: input.body,
        draft: true,
      });
      return { url: pr.data.html_url, number: pr.data.number };
    } catch (err) {
      throw githubError(err, "pull_request", "open the draft pull request", this.label);
    }
  }

  /** Best effort: delete a branch this run created. Runs even after an abort (no signal). */
  async deleteBranch(branch: string): Promise<boolean> {
    try {
      await this.octokit.rest.git.deleteRef({ owner: this.owner, repo: this.name, ref: `heads/${branch}` });
      return true;
    } catch {
      return false;
    }
  }
}
