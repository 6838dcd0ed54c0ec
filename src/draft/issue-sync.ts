/**
 * Status pulled back from GitHub: each linked issue is read, and a change of
 * its state since the last read becomes the gap's status — closed as
 * completed → fixed, closed as not planned → wontfix, reopened → open (closed
 * as a duplicate changes nothing: another issue tracks the work).
 *
 * A human decision wins over an older issue event: when someone set the
 * gap's status (dashboard, REST, MCP, CLI) at or after the moment the issue
 * last changed state (closed_at; for a reopen, the issue's updated_at), the
 * new issue state is recorded but the gap keeps the human's status. GitHub
 * stamps whole seconds, so a tie goes to the human.
 *
 * Several sidecars may sync one database: each change is a compare-and-set
 * on the stored issue state, so only one of them writes it (and its history).
 */
import type { Octokit } from "octokit";
import type { DraftSettings } from "../settings/index.js";
import type { FeedbackStore, LinkedIssue } from "../store/index.js";
import { IssueError, issueAuth, issueError, issueOctokit, snapshotOf } from "./issues.js";
import { errorMessage, type PeriodicWorker, startPeriodic } from "../net/periodic.js";

export type SyncOutcome =
  /** The gap's status was set from the issue. */
  | "changed"
  /** The issue changed but a human set the gap's status later: kept. */
  | "kept"
  /** The issue changed; the gap already had that status, or the state maps to none (duplicate), or it was merged. */
  | "recorded"
  /** Another sidecar recorded this change first. */
  | "raced"
  | "unchanged"
  | "error";

export interface SyncItem {
  gap_id: number;
  repo: string;
  number: number;
  outcome: SyncOutcome;
  /** The issue's state as read (state, or state/state_reason). */
  state?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  error?: { code: string; message: string } | undefined;
}

export interface SyncResult {
  checked: number;
  items: SyncItem[];
}

/** The gap status an issue state means, or undefined for none. */
export function statusForIssue(state: string, reason: string | null): "open" | "fixed" | "wontfix" | undefined {
  if (state === "open") return "open";
  if (state !== "closed") return undefined;
  if (reason === "not_planned") return "wontfix";
  if (reason === "duplicate") return undefined;
  return "fixed"; // completed, or a close from before GitHub recorded reasons
}

const PAGE = 100;

export interface SyncOptions {
  store: FeedbackStore;
  settings: DraftSettings;
  /** Who the history names: "autonomy" for serve's periodic check, "local" for the CLI. */
  actor: string;
  signal?: AbortSignal | undefined;
}

/** Read every linked issue once and pull its state back. Never throws for one issue's failure. */
export async function syncIssues(options: SyncOptions): Promise<SyncResult> {
  const { store, settings, actor, signal } = options;
  const clients = new Map<string, Octokit>();
  /** Per server: its token and API (or why it has none), resolved once per pass. */
  const auths = new Map<string, ReturnType<typeof issueAuth> | IssueError>();
  const items: SyncItem[] = [];
  let after = 0;
  let checked = 0;
  for (;;) {
    const page = store.gaps.issues.linked(after, PAGE);
    if (page.length === 0) break;
    for (const link of page) {
      after = link.gap_id;
      if (signal?.aborted || !store.db.open) return { checked, items };
      checked++;
      const item = await syncOne(link);
      if (item.outcome !== "unchanged") items.push(item);
    }
  }
  return { checked, items };

  async function syncOne(link: LinkedIssue): Promise<SyncItem> {
    const base = { gap_id: link.gap_id, repo: link.repo, number: link.number };
    let auth = auths.get(link.server_name);
    if (!auth) {
      try {
        auth = issueAuth(settings, link.server_name);
      } catch (err) {
        if (!(err instanceof IssueError)) throw err;
        auth = err;
      }
      auths.set(link.server_name, auth);
    }
    if (auth instanceof IssueError)
      return { ...base, outcome: "error", error: { code: auth.code, message: auth.message } };
    const clientKey = `${auth.baseUrl ?? ""}\u0000${auth.token}`;
    let octokit = clients.get(clientKey);
    if (!octokit) {
      octokit = issueOctokit(auth);
      clients.set(clientKey, octokit);
    }
    const [owner, repo] = link.repo.split("/") as [string, string];
    let seen: ReturnType<typeof snapshotOf>;
    try {
      const res = await octokit.rest.issues.get({ owner, repo, issue_number: link.number, request: { signal } });
      seen = snapshotOf(res.data);
    } catch (err) {
      const e = issueError(err, `read issue #${link.number}`, link.repo, auth.redact);
      return { ...base, outcome: "error", error: { code: e.code, message: e.message } };
    }
    const state = seen.state_reason ? `${seen.state}/${seen.state_reason}` : seen.state;
    const expected = { state: link.state, state_reason: link.state_reason };
    if (seen.state === link.state && seen.state_reason === link.state_reason) {
      store.gaps.issues.touch(link.gap_id);
      return { ...base, outcome: "unchanged", state };
    }
    const target = statusForIssue(seen.state, seen.state_reason);
    const stateChanged = seen.state !== link.state;
    const human = store.gaps.issues.lastHumanStatusAt(link.gap_id);
    const humanLater = human !== null && Date.parse(human) >= Date.parse(seen.changed_at);
    const apply =
      stateChanged &&
      target !== undefined &&
      !humanLater &&
      link.gap_status !== "duplicate" &&
      link.gap_status !== target;
    const wrote = store.gaps.issues.recordSync({
      gapId: link.gap_id,
      expected,
      seen,
      status: apply ? target : undefined,
      history: apply
        ? {
            actor,
            action: seen.state === "closed" ? "issue_synced_closed" : "issue_synced_reopened",
            details: {
              repo: link.repo,
              number: link.number,
              url: seen.url,
              state: seen.state,
              state_reason: seen.state_reason,
              from: link.gap_status,
              to: target,
            },
          }
        : undefined,
    });
    if (!wrote) return { ...base, outcome: "raced", state };
    if (apply) return { ...base, outcome: "changed", state, from: link.gap_status, to: target };
    if (stateChanged && target !== undefined && humanLater && link.gap_status !== target)
      return { ...base, outcome: "kept", state, from: link.gap_status, to: link.gap_status };
    return { ...base, outcome: "recorded", state };
  }
}

export type IssueSyncWorker = PeriodicWorker<SyncResult>;

/** serve's periodic sync (only when an interval is configured): one pass at a time, history actor "autonomy". */
export function startIssueSync(
  store: FeedbackStore,
  settings: DraftSettings,
  options: { intervalMs: number; log?: (line: string) => void },
): IssueSyncWorker {
  const controller = new AbortController();
  const pass = async (): Promise<SyncResult> => {
    const result = await syncIssues({ store, settings, actor: "autonomy", signal: controller.signal });
    for (const item of result.items) {
      if (item.outcome === "changed")
        options.log?.(`patchworkmcp: gap ${item.gap_id} is now ${item.to} (${item.repo}#${item.number} ${item.state})`);
      else if (item.outcome === "error")
        options.log?.(
          `patchworkmcp: issue sync of gap ${item.gap_id} failed (${item.error?.code}): ${item.error?.message}`,
        );
    }
    return result;
  };
  return startPeriodic(pass, {
    controller,
    intervalMs: options.intervalMs,
    onError: (err) => options.log?.(`patchworkmcp: issue sync stopped a pass: ${errorMessage(err)}`),
  });
}
