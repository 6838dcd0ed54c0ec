/**
 * Issue-tracker links (SQLite migration 9, PostgreSQL 3): the GitHub issue made
 * from a gap, one per gap, and the status it pulls back. This module only
 * stores; src/draft/issues.ts talks to GitHub.
 *
 * Never two issues for one gap: a creator first takes a claim (a row without a
 * number, holding a random token, valid for a lease). Every step is a
 * compare-and-set on that row, so two requests, two sidecars or a process that
 * died mid-way can never both create: the loser of a race sees the claim (busy)
 * or the link; a claim whose lease ran out is taken over, and the taker first
 * looks on GitHub for the issue the dead holder may have made.
 */
import type { SqlDb, Statement } from "./sql/db.js";
import type { GapStatus } from "./gap-filters.js";
import type { GapStore } from "./gaps.js";
import { StoreError } from "./store.js";

type Stmt = (sql: string) => Statement;

/** A gap's GitHub issue as every surface shows it. */
export interface GapIssue {
  repo: string;
  number: number;
  url: string;
  /** "open" | "closed" as GitHub last said. */
  state: string;
  /** GitHub's state_reason: completed, not_planned, duplicate, reopened, or null. */
  state_reason: string | null;
  /** When the link was stored. */
  linked_at: string;
  /** The last time a sync read the issue (null: never synced). */
  synced_at: string | null;
}

/** What GitHub says about an issue (the fields the link keeps). */
export interface IssueSnapshot {
  number: number;
  url: string;
  state: string;
  state_reason: string | null;
  /** When the issue last changed state (closed_at, or updated_at for an open one). */
  changed_at: string;
}

export type IssueClaim =
  | { kind: "linked"; issue: GapIssue }
  /** Ours to create; `since` is when the first attempt for this gap began (search GitHub from there). */
  | { kind: "claimed"; token: string; since: string; takenOver: boolean }
  /** Someone else holds a live claim. */
  | { kind: "busy"; claimedAt: string };

/** A linked issue, for a sync pass. */
export interface LinkedIssue {
  gap_id: number;
  server_name: string;
  gap_status: GapStatus;
  repo: string;
  number: number;
  state: string;
  state_reason: string | null;
}

interface IssueRow {
  gap_id: number;
  repo: string;
  number: number | null;
  url: string | null;
  state: string | null;
  state_reason: string | null;
  claim_token: string | null;
  claimed_at: string | null;
  first_claimed_at: string;
  linked_at: string | null;
  synced_at: string | null;
}

const COLUMNS =
  "gap_id, repo, number, url, state, state_reason, claim_token, claimed_at, first_claimed_at, linked_at, synced_at";

function toIssue(r: IssueRow): GapIssue {
  return {
    repo: r.repo,
    number: Number(r.number),
    url: r.url ?? "",
    state: r.state ?? "open",
    state_reason: r.state_reason,
    linked_at: r.linked_at ?? r.first_claimed_at,
    synced_at: r.synced_at,
  };
}

/** Status actions a human took (gap_history 'updated' rows whose change names the status). */
const HUMAN_ACTORS_EXCLUDED = ["auto", "autonomy"];

export class TrackerStore {
  constructor(
    private readonly db: SqlDb,
    private readonly stmt: Stmt,
    private readonly gaps: GapStore,
  ) {}

  private row(gapId: number): IssueRow | undefined {
    return this.stmt(`SELECT ${COLUMNS} FROM gap_issues WHERE gap_id = ?`).get(gapId) as IssueRow | undefined;
  }

  /** The gap's issue, or null when it has none (a claim in progress is not an issue yet). */
  get(gapId: number): GapIssue | null {
    const r = this.row(gapId);
    return r && r.number !== null ? toIssue(r) : null;
  }

  /** Issues for a page of gaps, in one statement. */
  forGaps(gapIds: number[]): Map<number, GapIssue> {
    const out = new Map<number, GapIssue>();
    if (gapIds.length === 0) return out;
    const rows = this.stmt(
      `SELECT ${COLUMNS} FROM gap_issues WHERE number IS NOT NULL AND gap_id IN (${gapIds.map(() => "?").join(", ")})`,
    ).all(...gapIds) as IssueRow[];
    for (const r of rows) out.set(Number(r.gap_id), toIssue(r));
    return out;
  }

  /**
   * Claim the right to create gap `gapId`'s issue in `repo`. `now` and `leaseMs` decide whether
   * an unfinished claim is still alive. Compare-and-set throughout, so it is safe across
   * connections without a transaction.
   */
  claim(gapId: number, repo: string, token: string, now: Date, leaseMs: number): IssueClaim {
    const at = now.toISOString();
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = this.stmt(
        `INSERT INTO gap_issues (gap_id, repo, claim_token, claimed_at, first_claimed_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (gap_id) DO NOTHING`,
      ).run(gapId, repo, token, at, at);
      if (inserted.changes === 1) return { kind: "claimed", token, since: at, takenOver: false };
      const r = this.row(gapId);
      if (!r) continue; // deleted in between: try the insert again
      if (r.number !== null) return { kind: "linked", issue: toIssue(r) };
      const claimedAt = r.claimed_at ? Date.parse(r.claimed_at) : Number.NaN;
      if (r.claim_token !== null && Number.isFinite(claimedAt) && claimedAt + leaseMs > now.getTime())
        return { kind: "busy", claimedAt: r.claimed_at! };
      // A dead or released claim: take it over (only if nobody else just did).
      const taken = this.stmt(
        `UPDATE gap_issues SET claim_token = ?, claimed_at = ?, repo = ?
         WHERE gap_id = ? AND number IS NULL AND claim_token IS NOT DISTINCT FROM ? AND claimed_at IS NOT DISTINCT FROM ?`,
      ).run(token, at, repo, gapId, r.claim_token, r.claimed_at);
      if (taken.changes === 1) return { kind: "claimed", token, since: r.first_claimed_at, takenOver: true };
    }
    const r = this.row(gapId);
    if (r?.number !== null && r?.number !== undefined) return { kind: "linked", issue: toIssue(r) };
    return { kind: "busy", claimedAt: r?.claimed_at ?? at };
  }

  /**
   * Give a claim up after a failure, keeping the row (and its first_claimed_at): whether or not
   * GitHub made the issue, the next attempt takes over at once and searches before it creates.
   */
  release(gapId: number, token: string): void {
    this.stmt("UPDATE gap_issues SET claim_token = NULL WHERE gap_id = ? AND number IS NULL AND claim_token = ?").run(
      gapId,
      token,
    );
  }

  /**
   * Store the issue made (or found) under claim `token`, with a history row. When the claim was
   * lost meanwhile (its lease ran out and another took it), whatever is stored now is returned.
   */
  link(
    gapId: number,
    token: string,
    issue: IssueSnapshot,
    history: { actor: string; action: string; details: Record<string, unknown> },
  ): { issue: GapIssue; stored: boolean } {
    return this.db.transaction(() => {
      const at = new Date().toISOString();
      const done = this.stmt(
        `UPDATE gap_issues SET number = ?, url = ?, state = ?, state_reason = ?, issue_changed_at = ?,
           claim_token = NULL, claimed_at = NULL, linked_at = ?
         WHERE gap_id = ? AND number IS NULL AND claim_token = ?`,
      ).run(issue.number, issue.url, issue.state, issue.state_reason, issue.changed_at, at, gapId, token);
      const row = this.row(gapId);
      if (done.changes === 1) this.gaps.history(gapId, history.actor, history.action, history.details);
      if (!row || row.number === null)
        throw new StoreError("issue_claim_lost", `The claim on gap ${gapId}'s issue was lost before it was stored.`);
      return { issue: toIssue(row), stored: done.changes === 1 };
    })();
  }

  /** Linked issues after gap `afterGapId`, in gap order (a sync pass pages through them). */
  linked(afterGapId: number, limit: number): LinkedIssue[] {
    const rows = this.stmt(
      `SELECT i.gap_id, g.server_name, g.status AS gap_status, i.repo, i.number, i.state, i.state_reason
       FROM gap_issues i JOIN gaps g ON g.id = i.gap_id
       WHERE i.number IS NOT NULL AND i.gap_id > ? ORDER BY i.gap_id LIMIT ?`,
    ).all(afterGapId, limit) as LinkedIssue[];
    return rows.map((r) => ({ ...r, gap_id: Number(r.gap_id), number: Number(r.number) }));
  }

  /** When a human last set the gap's status (a PATCH, the MCP tool, the CLI), or null. */
  lastHumanStatusAt(gapId: number): string | null {
    // details holds {from, to} with only the changed keys, JSON-encoded: `"status":` can only be a key.
    const row = this.stmt(
      `SELECT max(at) AS at FROM gap_history
       WHERE gap_id = ? AND action = 'updated' AND actor NOT IN (${HUMAN_ACTORS_EXCLUDED.map(() => "?").join(", ")})
         AND details LIKE '%"status":%'`,
    ).get(gapId, ...HUMAN_ACTORS_EXCLUDED) as { at: string | null } | undefined;
    return row?.at ?? null;
  }

  /**
   * Record what a sync read of the issue found. `expected` is the state this pass saw stored: the
   * write happens only if it is still that (another sidecar's pass may have been first), and then
   * `status` (when given) becomes the gap's status with one history row. Returns whether this
   * call made the change.
   */
  recordSync(input: {
    gapId: number;
    expected: { state: string; state_reason: string | null };
    seen: IssueSnapshot;
    status?: "open" | "fixed" | "wontfix" | undefined;
    history?: { actor: string; action: string; details: Record<string, unknown> } | undefined;
  }): boolean {
    const { gapId, expected, seen } = input;
    const at = new Date().toISOString();
    const changed = this.db
      .transaction(() => {
        const moved = this.stmt(
          `UPDATE gap_issues SET state = ?, state_reason = ?, url = ?, issue_changed_at = ?, synced_at = ?
           WHERE gap_id = ? AND number IS NOT NULL AND state IS NOT DISTINCT FROM ? AND state_reason IS NOT DISTINCT FROM ?`,
        ).run(
          seen.state,
          seen.state_reason,
          seen.url,
          seen.changed_at,
          at,
          gapId,
          expected.state,
          expected.state_reason,
        );
        if (moved.changes !== 1) return false;
        if (input.status !== undefined) {
          // A decision settles the flags the automatic pass raised, as a human edit does.
          const set = this.stmt(
            `UPDATE gaps SET status = ?, regressed = CASE WHEN ? = 'open' THEN regressed ELSE 0 END, needs_review = 0,
               updated_at = ?
             WHERE id = ? AND status <> 'duplicate' AND status <> ?`,
          ).run(input.status, input.status, at, gapId, input.status);
          if (set.changes === 1 && input.history)
            this.gaps.history(gapId, input.history.actor, input.history.action, input.history.details);
        }
        return true;
      })
      .immediate();
    if (changed && input.status !== undefined) this.gaps.forgetEchoable();
    return changed;
  }

  /** A sync read that found nothing new: just note when. */
  touch(gapId: number): void {
    this.stmt("UPDATE gap_issues SET synced_at = ? WHERE gap_id = ?").run(new Date().toISOString(), gapId);
  }
}
