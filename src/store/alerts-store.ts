/**
 * Alerts (migration 8 on SQLite, 2 on PostgreSQL): destinations, rules, the delivery queue,
 * per-rule-and-gap cooldowns and the engine's watermarks. Only SQL lives here; what a rule means
 * and how a delivery is sent are src/alerts'. Secrets never reach these tables (they live in
 * .env): a destination row holds what may be shown and its non-secret settings.
 */
import { randomUUID } from "node:crypto";
import { type SqlDb, statementCache } from "./sql/db.js";
import { StoreError, type FeedbackStore } from "./store.js";

export const ALERT_RULE_KINDS = ["new_gap", "sessions", "regression", "blocked_share", "digest"] as const;
export type AlertRuleKind = (typeof ALERT_RULE_KINDS)[number];
export const DESTINATION_KINDS = ["webhook", "slack", "email"] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];
export const DELIVERY_STATES = ["pending", "delivered", "dead"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface AlertDestination {
  id: number;
  kind: DestinationKind;
  name: string | null;
  /** What may be shown: a masked URL, or an email's recipients. */
  target: string;
  config: Record<string, unknown>;
  previous_secret_until: string | null;
  created_at: string;
}

export interface AlertRule {
  id: number;
  kind: AlertRuleKind;
  destination_id: number;
  server_name: string | null;
  threshold: number | null;
  window_s: number | null;
  min_reports: number | null;
  cooldown_s: number;
  next_run_at: string | null;
  created_at: string;
}

export interface AlertDelivery {
  id: number;
  event_id: string;
  destination_id: number;
  rule_id: number | null;
  kind: string;
  gap_id: number | null;
  payload: Record<string, unknown>;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

/** A delivery claimed for sending: only the holder of lease_token may settle it. */
export interface ClaimedDelivery extends AlertDelivery {
  lease_token: string;
}

export interface NewDelivery {
  event_id: string;
  destination_id: number;
  rule_id: number | null;
  kind: string;
  gap_id: number | null;
  payload: Record<string, unknown>;
}

/** A report past the engine's watermark, with what rules look at. */
export interface ReportEvent {
  id: number;
  gap_id: number | null;
  server_name: string;
  blocked: boolean;
}

/** A gap_history row past the engine's watermark that can raise an alert. */
export interface HistoryEvent {
  id: number;
  gap_id: number;
  actor: string;
  action: string;
  details: Record<string, unknown>;
}

export interface GapFacts {
  id: number;
  server_name: string;
  title: string;
  status: string;
  reports: number;
  sessions: number;
  blocked: number;
}

const DESTINATION_COLUMNS = "id, kind, name, target, config, previous_secret_until, created_at";
const RULE_COLUMNS =
  "id, kind, destination_id, server_name, threshold, window_s, min_reports, cooldown_s, next_run_at, created_at";
const DELIVERY_COLUMNS =
  "id, event_id, destination_id, rule_id, kind, gap_id, payload, state, attempts, next_attempt_at, last_error, created_at, delivered_at";

type Row = Record<string, unknown>;

const toDestination = (r: Row): AlertDestination => ({
  ...(r as unknown as AlertDestination),
  config: JSON.parse(r.config as string) as Record<string, unknown>,
});
const toDelivery = (r: Row): AlertDelivery => ({
  ...(r as unknown as AlertDelivery),
  payload: JSON.parse(r.payload as string) as Record<string, unknown>,
});

const iso = (ms: number): string => new Date(ms).toISOString();

const stores = new WeakMap<FeedbackStore, AlertStore>();

/** The alert tables of a store (one instance per store, so its statements are prepared once). */
export function alertStore(store: FeedbackStore): AlertStore {
  let s = stores.get(store);
  if (!s) {
    s = new AlertStore(store.db);
    stores.set(store, s);
  }
  return s;
}

export class AlertStore {
  private readonly stmt = statementCache(() => this.db);

  constructor(readonly db: SqlDb) {}

  // ---- destinations ----------------------------------------------------

  addDestination(d: { kind: DestinationKind; name: string | null; target: string; config: Record<string, unknown> }) {
    const row = this.stmt(
      `INSERT INTO alert_destinations (kind, name, target, config, created_at) VALUES (?, ?, ?, ?, ?) RETURNING ${DESTINATION_COLUMNS}`,
    ).get(d.kind, d.name, d.target, JSON.stringify(d.config), iso(Date.now())) as Row;
    return toDestination(row);
  }

  destination(id: number): AlertDestination | undefined {
    const row = this.stmt(`SELECT ${DESTINATION_COLUMNS} FROM alert_destinations WHERE id = ?`).get(id) as
      | Row
      | undefined;
    return row && toDestination(row);
  }

  destinations(): AlertDestination[] {
    return (this.stmt(`SELECT ${DESTINATION_COLUMNS} FROM alert_destinations ORDER BY id`).all() as Row[]).map(
      toDestination,
    );
  }

  setPreviousSecretUntil(id: number, until: string | null): void {
    this.stmt("UPDATE alert_destinations SET previous_secret_until = ? WHERE id = ?").run(until, id);
  }

  /** Delete a destination, its rules, and give up its pending deliveries (kept as dead letters). */
  deleteDestination(id: number): boolean {
    return this.db.transaction(() => {
      this.stmt(
        "DELETE FROM alert_cooldowns WHERE rule_id IN (SELECT id FROM alert_rules WHERE destination_id = ?)",
      ).run(id);
      this.stmt("DELETE FROM alert_rules WHERE destination_id = ?").run(id);
      this.stmt(
        "UPDATE alert_deliveries SET state = 'dead', last_error = ?, lease_until = NULL, lease_token = NULL WHERE destination_id = ? AND state = 'pending'",
      ).run("destination_deleted: the destination was deleted before this alert was delivered.", id);
      return this.stmt("DELETE FROM alert_destinations WHERE id = ?").run(id).changes === 1;
    })();
  }

  // ---- rules -----------------------------------------------------------

  addRule(r: Omit<AlertRule, "id" | "created_at">): AlertRule {
    if (!this.destination(r.destination_id))
      throw new StoreError("unknown_destination", `There is no alert destination ${r.destination_id}.`);
    return this.stmt(
      `INSERT INTO alert_rules (kind, destination_id, server_name, threshold, window_s, min_reports, cooldown_s, next_run_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${RULE_COLUMNS}`,
    ).get(
      r.kind,
      r.destination_id,
      r.server_name,
      r.threshold,
      r.window_s,
      r.min_reports,
      r.cooldown_s,
      r.next_run_at,
      iso(Date.now()),
    ) as AlertRule;
  }

  rules(): AlertRule[] {
    return this.stmt(`SELECT ${RULE_COLUMNS} FROM alert_rules ORDER BY id`).all() as AlertRule[];
  }

  deleteRule(id: number): boolean {
    return this.db.transaction(() => {
      this.stmt("DELETE FROM alert_cooldowns WHERE rule_id = ?").run(id);
      return this.stmt("DELETE FROM alert_rules WHERE id = ?").run(id).changes === 1;
    })();
  }

  setNextRun(ruleId: number, at: string): void {
    this.stmt("UPDATE alert_rules SET next_run_at = ? WHERE id = ?").run(at, ruleId);
  }

  /** Move a digest's next run from `from` (as the engine read it) to `at`; false when it had moved meanwhile. */
  moveNextRun(ruleId: number, from: string | null, at: string): boolean {
    return (
      this.stmt("UPDATE alert_rules SET next_run_at = ? WHERE id = ? AND next_run_at IS NOT DISTINCT FROM ?").run(
        at,
        ruleId,
        from,
      ).changes === 1
    );
  }

  // ---- the engine's reads and writes ----------------------------------

  /** Run `fn` holding the write lock (SQLite BEGIN IMMEDIATE; PostgreSQL the store's write lock). */
  exclusive<R>(fn: () => R): R {
    return this.db.transaction(fn).immediate();
  }

  state(): { reports_upto: number; history_upto: number } {
    return this.stmt("SELECT reports_upto, history_upto FROM alert_state WHERE id = 1").get() as {
      reports_upto: number;
      history_upto: number;
    };
  }

  /** Where the engine may read reports up to: those the grouping has placed in their gaps. */
  assignedUpTo(): number {
    return (this.stmt("SELECT assigned_upto FROM grouping_state WHERE id = 1").get() as { assigned_upto: number })
      .assigned_upto;
  }

  /** The newest gap_history id (history rows are written under the write lock, so all below it are final). */
  latestHistoryId(): number {
    return (this.stmt("SELECT coalesce(max(id), 0) AS m FROM gap_history").get() as { m: number }).m;
  }

  /** The upper bound of report ids a regroup or backfill covers: gaps created for them are not new. */
  groupingUpto(): number {
    return (this.stmt("SELECT upto FROM grouping_state WHERE id = 1").get() as { upto: number }).upto;
  }

  setState(reportsUpto: number, historyUpto: number): void {
    this.stmt("UPDATE alert_state SET reports_upto = ?, history_upto = ?, updated_at = ? WHERE id = 1").run(
      reportsUpto,
      historyUpto,
      iso(Date.now()),
    );
  }

  reportsAfter(after: number, upto: number, limit: number): ReportEvent[] {
    const rows = this.stmt(
      `SELECT id, gap_id, server_name, resolution FROM reports WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`,
    )
      .raw(true)
      .all(after, upto, limit) as [number, number | null, string, string | null][];
    return rows.map(([id, gap_id, server_name, resolution]) => ({
      id,
      gap_id,
      server_name,
      blocked: resolution === "blocked",
    }));
  }

  /** History rows past `after` that alert: a gap created or regressed, or an automatic action. */
  historyAfter(after: number, upto: number, limit: number): { rows: HistoryEvent[]; last: number } {
    const rows = this.stmt(
      `SELECT id, gap_id, actor, action, details FROM gap_history WHERE id > ? AND id <= ? ORDER BY id LIMIT ?`,
    ).all(after, upto, limit) as Row[];
    const last = rows.length === limit ? (rows[rows.length - 1]!.id as number) : upto;
    return {
      last,
      rows: rows
        .filter((r) => r.actor === "autonomy" || r.action === "created" || r.action === "regressed")
        .map((r) => ({ ...(r as unknown as HistoryEvent), details: JSON.parse(r.details as string) })),
    };
  }

  gapFacts(id: number): GapFacts | undefined {
    return this.stmt("SELECT id, server_name, title, status, reports, sessions, blocked FROM gaps WHERE id = ?").get(
      id,
    ) as GapFacts | undefined;
  }

  /**
   * Distinct sessions among a gap's reports since `since` (a report without a session counts as
   * its own, as the gap's count does): up to `before` and up to `upto`.
   */
  sessionsInWindow(gapId: number, since: string, before: number, upto: number): { before: number; after: number } {
    return this.stmt(
      `SELECT count(DISTINCT CASE WHEN id <= ? THEN coalesce(session_id, '#' || id) END) AS before,
              count(DISTINCT coalesce(session_id, '#' || id)) AS after
       FROM reports WHERE gap_id = ? AND id <= ? AND created_at >= ?`,
    ).get(before, gapId, upto, since) as { before: number; after: number };
  }

  /** The top live gaps by rank (the score's order), optionally of one server. */
  topGapIds(serverName: string | null, limit: number): number[] {
    const rows = (
      serverName === null
        ? this.stmt(
            "SELECT id FROM gaps WHERE reports > 0 AND status IN ('open', 'planned') ORDER BY rank_key DESC, id DESC LIMIT ?",
          ).all(limit)
        : this.stmt(
            "SELECT id FROM gaps WHERE reports > 0 AND server_name = ? AND status IN ('open', 'planned') ORDER BY rank_key DESC, id DESC LIMIT ?",
          ).all(serverName, limit)
    ) as { id: number }[];
    return rows.map((r) => r.id);
  }

  /** True while the rule's last alert about this gap holds back another (read only; takeCooldown decides). */
  coolingDown(ruleId: number, gapId: number, now: number): boolean {
    const row = this.stmt("SELECT until FROM alert_cooldowns WHERE rule_id = ? AND gap_id = ?").get(ruleId, gapId) as
      | { until: string }
      | undefined;
    return row !== undefined && row.until > iso(now);
  }

  /** True (and the cooldown set until `until`) when the rule may alert about this gap now. */
  takeCooldown(ruleId: number, gapId: number, now: number, cooldownS: number): boolean {
    const row = this.stmt("SELECT until FROM alert_cooldowns WHERE rule_id = ? AND gap_id = ?").get(ruleId, gapId) as
      | { until: string }
      | undefined;
    if (row && row.until > iso(now)) return false;
    this.stmt(
      "INSERT INTO alert_cooldowns (rule_id, gap_id, until) VALUES (?, ?, ?) ON CONFLICT (rule_id, gap_id) DO UPDATE SET until = excluded.until",
    ).run(ruleId, gapId, iso(now + cooldownS * 1000));
    return true;
  }

  /** Queue deliveries; one already queued with the same event id for the destination is kept as it is. */
  enqueue(items: NewDelivery[], now = Date.now()): number {
    let added = 0;
    const insert = this.stmt(
      `INSERT INTO alert_deliveries (event_id, destination_id, rule_id, kind, gap_id, payload, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (destination_id, event_id) DO NOTHING`,
    );
    for (const d of items)
      added += insert.run(
        d.event_id,
        d.destination_id,
        d.rule_id,
        d.kind,
        d.gap_id,
        JSON.stringify(d.payload),
        iso(now),
        iso(now),
      ).changes;
    return added;
  }

  // ---- the queue ---------------------------------------------------------

  /**
   * Claim up to `limit` due deliveries for `leaseMs`: a pending row whose lease is free or has
   * expired (its claimer died). On PostgreSQL FOR UPDATE SKIP LOCKED lets several sidecars claim
   * at once without ever taking one row twice; the attempt is counted at the claim, so a process
   * killed mid-send still moves a delivery towards its dead letter.
   */
  claim(now: number, limit: number, leaseMs: number): ClaimedDelivery[] {
    const token = randomUUID();
    const t = iso(now);
    const lock = this.db.dialect === "postgres" ? "FOR UPDATE SKIP LOCKED" : "";
    const rows = this.stmt(
      `UPDATE alert_deliveries SET lease_until = ?, lease_token = ?, attempts = attempts + 1
       WHERE id IN (SELECT id FROM alert_deliveries
                    WHERE state = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
                    ORDER BY next_attempt_at, id LIMIT ? ${lock})
         AND state = 'pending' AND (lease_until IS NULL OR lease_until <= ?)
       RETURNING ${DELIVERY_COLUMNS}`,
    ).all(iso(now + leaseMs), token, t, t, limit, t) as Row[];
    return rows.map((r) => ({ ...toDelivery(r), lease_token: token })).sort((a, b) => a.id - b.id);
  }

  /** The claimer reports success. False when its lease was lost (another process owns the row now). */
  delivered(id: number, token: string, now = Date.now()): boolean {
    return (
      this.stmt(
        "UPDATE alert_deliveries SET state = 'delivered', delivered_at = ?, last_error = NULL, lease_until = NULL, lease_token = NULL WHERE id = ? AND lease_token = ?",
      ).run(iso(now), id, token).changes === 1
    );
  }

  /** The claimer reports failure: retry at `nextAt`, or a dead letter when `dead`. */
  failed(id: number, token: string, error: string, next: { dead: boolean; at: number }): boolean {
    return (
      this.stmt(
        "UPDATE alert_deliveries SET state = ?, next_attempt_at = ?, last_error = ?, lease_until = NULL, lease_token = NULL WHERE id = ? AND lease_token = ?",
      ).run(next.dead ? "dead" : "pending", iso(next.at), error, id, token).changes === 1
    );
  }

  delivery(id: number): AlertDelivery | undefined {
    const row = this.stmt(`SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries WHERE id = ?`).get(id) as Row | undefined;
    return row && toDelivery(row);
  }

  deliveries(filter: {
    state?: DeliveryState | undefined;
    limit: number;
    before?: number | undefined;
  }): AlertDelivery[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.state) {
      where.push("state = ?");
      params.push(filter.state);
    }
    if (filter.before !== undefined) {
      where.push("id < ?");
      params.push(filter.before);
    }
    const sql = `SELECT ${DELIVERY_COLUMNS} FROM alert_deliveries ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT ?`;
    return (this.stmt(sql).all(...params, filter.limit) as Row[]).map(toDelivery);
  }

  /** Send a dead (or pending) delivery again now, with a fresh count of attempts. */
  retry(id: number, now = Date.now()): AlertDelivery {
    const d = this.delivery(id);
    if (!d) throw new StoreError("delivery_not_found", `There is no delivery ${id}.`);
    if (d.state === "delivered")
      throw new StoreError("already_delivered", `Delivery ${id} was already delivered; there is nothing to retry.`);
    if (!this.destination(d.destination_id))
      throw new StoreError(
        "unknown_destination",
        `Delivery ${id}'s destination ${d.destination_id} was deleted; it cannot be sent again.`,
      );
    this.stmt(
      "UPDATE alert_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, lease_until = NULL, lease_token = NULL WHERE id = ?",
    ).run(iso(now), id);
    return this.delivery(id)!;
  }

  counts(): Record<DeliveryState, number> {
    const rows = this.stmt("SELECT state, count(*) AS n FROM alert_deliveries GROUP BY state").all() as {
      state: DeliveryState;
      n: number;
    }[];
    const out: Record<DeliveryState, number> = { pending: 0, delivered: 0, dead: 0 };
    for (const r of rows) out[r.state] = r.n;
    return out;
  }
}
