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

export interface DraftResult {
  /** The PR URL (null for local commits and dry runs). */
  url: string | null;
  /** The history row recorded on the report (null for dry runs). */
  draft: Draft | null;
  dry_run: boolean;
  kind: "pull_request" | "local_commit" | "dry_run";
  /** Unified diff of the change set (always for dry runs and local commits). */
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
  if (event.type === "done") return { ...event.result };
  const { type: _type, ...rest } = event;
  return rest;
}
