/** What the pipeline needs from a repository, whether on GitHub or a local checkout. */
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

export interface RepoSource {
  /** For messages: "acme/tools (main)" or "/path/to/checkout (main)". */
  readonly label: string;
  readonly baseBranch: string;
  list(): Promise<RepoListing>;
  /** Whether a path is a file at the base commit (valid after list()). */
  exists(path: string): boolean;
  /** Full text of a file at the base commit, or undefined for binary/missing files. */
  read(path: string): Promise<string | undefined>;
}

/** Decode file bytes as text, or undefined for binary content. */
export function decodeText(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 8000).includes(0)) return undefined;
  return bytes.toString("utf8");
}
