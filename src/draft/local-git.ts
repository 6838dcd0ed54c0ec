/**
 * Local mode: read a git checkout at its base commit and write the draft as a
 * new branch with ONE commit, using git plumbing and a temporary index so the
 * working tree, the real index and the checked-out branch are never touched
 * (uncommitted work stays exactly as it was). Nothing is pushed.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DraftError } from "./events.js";
import {
  commitOnNewBranch,
  decodeText,
  PathIndex,
  type CommitRequest,
  type Published,
  type PublishHooks,
  type PublishRequest,
  type RepoListing,
  type RepoSource,
} from "./repo.js";

interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function runGit(
  cwd: string,
  args: string[],
  options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
): Promise<GitResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn("git", args, {
      cwd,
      env: { ...process.env, ...options.env, GIT_TERMINAL_PROMPT: "0" },
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let err = "";
    child.stdout!.on("data", (d: Buffer) => out.push(d));
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (d: string) => {
      err += d;
    });
    child.once("error", (e) =>
      reject(
        new DraftError(
          "git_missing",
          `Could not run git (${e.message}); local mode needs the git binary.`,
          "read_repo",
        ),
      ),
    );
    child.once("close", (code) => resolveRun({ code: code ?? 1, stdout: Buffer.concat(out), stderr: err.trim() }));
    if (child.stdin) {
      child.stdin.on("error", () => undefined); // git may exit before reading; its exit code tells the story
      child.stdin.end(options.input);
    }
  });
}

export class LocalGitRepo implements RepoSource {
  readonly label: string;
  readonly recordName: string;
  baseBranch = "";
  private baseCommit = "";
  private readonly blobs = new Map<string, { sha: string; mode: string }>();
  private readonly paths = new PathIndex();

  private constructor(private readonly dir: string) {
    this.label = dir;
    this.recordName = dir;
  }

  private async git(
    args: string[],
    options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
    step: "read_repo" | "commit" = "read_repo",
  ): Promise<Buffer> {
    const result = await runGit(this.dir, args, options);
    if (result.code !== 0)
      throw new DraftError(
        "git_failed",
        `git ${args[0]} failed in ${this.dir}: ${result.stderr || `exit ${result.code}`}`,
        step,
      );
    return result.stdout;
  }

  static async open(path: string, baseBranch?: string): Promise<LocalGitRepo> {
    const dir = resolve(path);
    const top = await runGit(dir, ["rev-parse", "--show-toplevel"]);
    if (top.code !== 0)
      throw new DraftError(
        "not_a_git_repo",
        `${dir} is not a git checkout (${top.stderr || "git rev-parse failed"}).`,
        "read_repo",
      );
    const repo = new LocalGitRepo(top.stdout.toString("utf8").trim());
    if (baseBranch) {
      repo.baseBranch = baseBranch;
    } else {
      const head = await runGit(repo.dir, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
      repo.baseBranch = head.code === 0 ? head.stdout.toString("utf8").trim() : "HEAD";
    }
    const commit = await runGit(repo.dir, ["rev-parse", "--verify", "--quiet", `${repo.baseBranch}^{commit}`]);
    if (commit.code !== 0)
      throw new DraftError(
        "git_branch_not_found",
        `${repo.dir} has no commit or branch "${repo.baseBranch}".`,
        "read_repo",
      );
    repo.baseCommit = commit.stdout.toString("utf8").trim();
    return repo;
  }

  async list(): Promise<RepoListing> {
    const out = (await this.git(["ls-tree", "-r", "-l", "-z", this.baseCommit])).toString("utf8");
    const entries = [];
    for (const record of out.split("\0")) {
      // "<mode> <type> <sha> <size>\t<path>"
      const m = /^(\d+) (\w+) ([0-9a-f]+)\s+(\S+)\t(.+)$/s.exec(record);
      if (!m) continue;
      const isFile = m[2] === "blob" && m[1] !== "120000";
      this.paths.add(m[5]!, isFile ? "file" : "other");
      if (!isFile) continue;
      this.blobs.set(m[5]!, { sha: m[3]!, mode: m[1]! });
      entries.push({ path: m[5]!, size: Number(m[4]) || 0 });
    }
    return { entries, complete: true, notes: [] };
  }

  exists(path: string): boolean {
    return this.blobs.has(path);
  }

  takenBecause(path: string): string | undefined {
    return this.paths.takenBecause(path);
  }

  async read(path: string): Promise<string | undefined> {
    const blob = this.blobs.get(path);
    if (!blob) return undefined;
    return decodeText(await this.git(["cat-file", "blob", blob.sha]));
  }

  /** A new local branch with one commit; nothing is pushed and no PR is opened. */
  async publish(request: PublishRequest, hooks: PublishHooks): Promise<Published> {
    const commitSha = await commitOnNewBranch(this, request, hooks);
    // The commit is the work product: keep the branch whatever happens next.
    hooks.onFailure(undefined);
    return { kind: "local_commit", branch: request.branch, commitSha };
  }

  /** One commit on a new branch, built in a temporary index. Returns the commit sha. */
  async commit(request: CommitRequest): Promise<string> {
    const exists = await runGit(this.dir, ["rev-parse", "--verify", "--quiet", `refs/heads/${request.branch}`]);
    if (exists.code === 0)
      throw new DraftError("branch_exists", `Branch ${request.branch} already exists in ${this.dir}.`, "commit");
    const tmp = mkdtempSync(join(tmpdir(), "pwm-index-"));
    const env: NodeJS.ProcessEnv = { GIT_INDEX_FILE: join(tmp, "index") };
    // Commit with the user's identity when git has one, otherwise as PatchworkMCP.
    const email = await runGit(this.dir, ["config", "user.email"]);
    if (email.code !== 0 || !email.stdout.toString().trim()) {
      Object.assign(env, {
        GIT_AUTHOR_NAME: "PatchworkMCP",
        GIT_AUTHOR_EMAIL: "patchworkmcp@localhost",
        GIT_COMMITTER_NAME: "PatchworkMCP",
        GIT_COMMITTER_EMAIL: "patchworkmcp@localhost",
      });
    }
    try {
      await this.git(["read-tree", this.baseCommit], { env }, "commit");
      for (const change of request.changes) {
        if (change.after === null) {
          await this.git(["update-index", "--force-remove", "--", change.path], { env }, "commit");
          continue;
        }
        const sha = (
          await this.git(["hash-object", "-w", "--stdin"], { input: Buffer.from(change.after, "utf8"), env }, "commit")
        )
          .toString()
          .trim();
        const mode = this.blobs.get(change.path)?.mode === "100755" ? "100755" : "100644";
        await this.git(["update-index", "--add", "--cacheinfo", `${mode},${sha},${change.path}`], { env }, "commit");
      }
      const tree = (await this.git(["write-tree"], { env }, "commit")).toString().trim();
      const commit = (
        await this.git(
          ["commit-tree", tree, "-p", this.baseCommit, "-F", "-"],
          { input: request.message, env },
          "commit",
        )
      )
        .toString()
        .trim();
      await this.git(["branch", request.branch, commit], {}, "commit");
      return commit;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** Best effort: remove a branch this run created. */
  async deleteBranch(branch: string): Promise<boolean> {
    return (await runGit(this.dir, ["branch", "-D", branch])).code === 0;
  }
}
