/** What the pipeline needs from a repository, whether on GitHub or a local checkout. */
import type { DraftStep } from "./events.js";
import type { ValidatedChange } from "./validate.js";

export interface RepoEntry {
  path: string;
  size: number;
}

export interface RepoListing {
  entries: RepoEntry[];
  /** False when the listing could not be completed (a huge truncated tree): the model is told. */
  complete: boolean;
  notes: string[];
}

export interface CommitRequest {
  branch: string;
  message: string;
  changes: ValidatedChange[];
}

/**
 * Every path a listing saw, of any kind, so a "create" can be refused when its
 * path is already taken: by a file, a directory (a blob there would replace the
 * whole directory in a Git tree), a symlink or submodule, or when a parent is a
 * file, or when it lies in a directory the listing did not read.
 */
export class PathIndex {
  private readonly kinds = new Map<string, "file" | "dir" | "other">();
  private readonly unread: string[] = [];

  add(path: string, kind: "file" | "dir" | "other"): void {
    this.kinds.set(path, kind);
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      if (!this.kinds.has(dir)) this.kinds.set(dir, "dir");
    }
  }

  /** A directory whose contents were not listed (skipped, or beyond the listing limit). */
  addUnread(dir: string): void {
    this.unread.push(dir.endsWith("/") ? dir : `${dir}/`);
  }

  /** Why a new file may not be created at `path`, or undefined when it is free. */
  takenBecause(path: string): string | undefined {
    const kind = this.kinds.get(path);
    if (kind === "file") return "a file already exists there";
    if (kind === "dir") return "it is a directory in the repository";
    if (kind === "other") return "a symlink or submodule is there";
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const k = this.kinds.get(parent);
      if (k === "file" || k === "other") return `its parent ${parent} is not a directory`;
    }
    if (this.unread.some((d) => path.startsWith(d)))
      return "it lies in a directory that was not listed, so it cannot be checked";
    return undefined;
  }
}

/** Everything a source needs to publish a validated draft (texts already redacted and made inert). */
export interface PublishRequest extends CommitRequest {
  /** Pull request title and body (used by sources that open one). */
  title: string;
  body: string;
}

/** What publishing made. */
export type Published =
  | { kind: "local_commit"; branch: string; commitSha: string }
  | { kind: "pull_request"; branch: string; commitSha: string; url: string; number: number };

/** How a source reports its progress, and what to undo if a later step fails. */
export interface PublishHooks {
  step(step: Extract<DraftStep, "commit" | "pull_request">, message: string): void;
  detail(step: Extract<DraftStep, "commit" | "pull_request">, message: string): void;
  /** Registers what to undo if the run fails from here on; undefined = keep everything. */
  onFailure(undo: (() => Promise<void>) | undefined): void;
}

/**
 * The shared first half of publishing: one commit on a new branch, with the
 * branch removed again if anything after this fails. The undo is registered
 * BEFORE the commit: a failure or cancel after the ref was made but before we
 * heard back must still remove it (deleting a branch never made is harmless).
 */
export async function commitOnNewBranch(
  source: { commit(request: CommitRequest): Promise<string>; deleteBranch(branch: string): Promise<boolean> },
  request: CommitRequest,
  hooks: PublishHooks,
): Promise<string> {
  hooks.step("commit", `Creating branch ${request.branch} with one commit`);
  hooks.onFailure(async () => {
    const removed = await source.deleteBranch(request.branch);
    hooks.detail(
      "commit",
      removed
        ? `Deleted branch ${request.branch} after the failure`
        : `Could not delete branch ${request.branch}; remove it by hand`,
    );
  });
  const sha = await source.commit(request);
  hooks.detail("commit", `Commit ${sha.slice(0, 12)} on ${request.branch}`);
  return sha;
}

export interface RepoSource {
  /** For messages: "acme/tools (main)" or "/path/to/checkout (main)". */
  readonly label: string;
  /** What the draft history records as its repository: "owner/name", or the checkout's directory. */
  readonly recordName: string;
  readonly baseBranch: string;
  list(): Promise<RepoListing>;
  /** Whether a path is a file at the base commit (valid after list()). */
  exists(path: string): boolean;
  /** Why a new file may not be created at this path (valid after list()). */
  takenBecause(path: string): string | undefined;
  /** Full text of a file at the base commit, or undefined for binary/missing files. */
  read(path: string): Promise<string | undefined>;
  /**
   * Publish the draft the way this source does (a branch + commit + draft PR on
   * GitHub; a local branch + commit, never pushed). Whatever it made is undone
   * through `hooks.onFailure` until the work is safe to keep.
   */
  publish(request: PublishRequest, hooks: PublishHooks): Promise<Published>;
}

/** Decode file bytes as text, or undefined for binary content. */
export function decodeText(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 8000).includes(0)) return undefined;
  return bytes.toString("utf8");
}
