/**
 * Typed progress events: the one vocabulary the pipeline speaks and every
 * front end (SSE, MCP progress notifications, the terminal) renders.
 */
import type { Draft } from "../store/index.js";

export const DRAFT_STEPS = [
  "settings",
  "read_repo",
  "select_files",
  "prompt",
  "model",
  "validate",
  "commit",
  "pull_request",
  "record",
] as const;
export type DraftStep = (typeof DRAFT_STEPS)[number];

export type ChangeAction = "create" | "edit" | "delete";

interface DraftResultBase {
  /** Unified diff of the change set. */
  diff: string;
  files: { path: string; action: ChangeAction }[];
  title: string;
  base_branch: string;
  provider: string;
  model: string;
}

/** How a run ended: callers switch on `kind` instead of probing optional fields. */
export type DraftResult =
  | (DraftResultBase & {
      kind: "dry_run";
      /** "owner/name" on GitHub; null in local mode. */
      repo: string | null;
    })
  | (DraftResultBase & {
      kind: "local_commit";
      /** The checkout's directory. */
      repo: string;
      branch: string;
      commit_sha: string;
      /** The history row recorded on the report. */
      draft: Draft;
    })
  | (DraftResultBase & {
      kind: "pull_request";
      repo: string;
      branch: string;
      commit_sha: string;
      url: string;
      number: number;
      draft: Draft;
    });

/** The flat wire shape of a result (SSE `done` data; stable API): every field present, null where it does not apply. */
export interface DraftResultPayload {
  url: string | null;
  draft: Draft | null;
  dry_run: boolean;
  kind: DraftResult["kind"];
  diff: string | null;
  files: { path: string; action: ChangeAction }[];
  title: string;
  repo: string | null;
  branch: string | null;
  base_branch: string | null;
  commit_sha: string | null;
  number: number | null;
  provider: string;
  model: string;
}

export function resultPayload(result: DraftResult): DraftResultPayload {
  const common = {
    kind: result.kind,
    dry_run: result.kind === "dry_run",
    diff: result.diff,
    files: result.files,
    title: result.title,
    repo: result.repo,
    base_branch: result.base_branch,
    provider: result.provider,
    model: result.model,
  };
  switch (result.kind) {
    case "dry_run":
      return { ...common, url: null, draft: null, branch: null, commit_sha: null, number: null };
    case "local_commit":
      return {
        ...common,
        url: null,
        draft: result.draft,
        branch: result.branch,
        commit_sha: result.commit_sha,
        number: null,
      };
    case "pull_request":
      return {
        ...common,
        url: result.url,
        draft: result.draft,
        branch: result.branch,
        commit_sha: result.commit_sha,
        number: result.number,
      };
  }
}

export type DraftEvent =
  | { type: "step"; step: DraftStep; message: string; index: number; total: number }
  | { type: "detail"; step: DraftStep; message: string }
  | { type: "error"; step: DraftStep | null; code: string; message: string }
  | { type: "done"; result: DraftResult };

/** A failure with a stable code and a sentence for humans. */
export class DraftError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly step: DraftStep | null = null,
  ) {
    super(message);
    this.name = "DraftError";
  }
}

/** The event without its `type`, as sent in SSE `data:` and MCP progress messages. */
export function eventPayload(event: DraftEvent): Record<string, unknown> {
  if (event.type === "done") return { ...resultPayload(event.result) };
  const { type: _type, ...rest } = event;
  return rest;
}
