/**
 * Rule evaluation, off the ingest path: each step reads what happened since the engine's
 * watermarks — reports the grouping has placed (id up to grouping_state.assigned_upto) and gap
 * history rows — in bounded batches, decides which rules fire, and queues deliveries, moving the
 * watermarks in the same transaction (a kill loses nothing and repeats nothing). Ingestion
 * never waits on it: it runs on a thread of its own in `serve` (src/alerts/engine-thread.ts).
 *
 * A step evaluates holding no lock, and then writes what it decided in one short
 * transaction: the cooldowns it takes, the deliveries, the digests' next runs and the watermarks.
 * When another engine (another sidecar on the database) moved the watermarks in between, the
 * step writes nothing and the next one starts from where that one ended.
 *
 * - new_gap: a gap created by the live grouping (not by a backfill or regroup of old reports);
 * - sessions: a gap crossing `threshold` distinct sessions within `window`;
 * - regression: a fixed gap reopened by a report from a version at or above fixed_in;
 * - blocked_share: a gap with at least min_reports reports crossing `threshold`% blocked;
 * - digest: the top gaps, daily or weekly;
 * - automatic_action: a gap_history row by the actor "autonomy", sent once to every destination
 *   with a rule covering the gap's server, with no cooldown.
 * Threshold rules fire on the crossing, and a cooldown per rule and gap holds back repeats, so an
 * agent retrying one report cannot send a message per retry.
 */
import { gapUrl } from "../net/report-url.js";
import {
  type AlertRule,
  type AlertStore,
  alertStore,
  type FeedbackStore,
  type HistoryEvent,
  type NewDelivery,
  type ReportEvent,
} from "../store/index.js";
import { DAY_S } from "./input.js";
import { type AlertGap, type AlertKind, type AlertPayload, truncateTitle } from "./message.js";

export const DEFAULT_SESSIONS_WINDOW_S = DAY_S;
export const DEFAULT_MIN_REPORTS = 5;
export const DEFAULT_DIGEST_SIZE = 10;
export const ENGINE_BATCH = 1000;

export interface StepResult {
  reports: number;
  history: number;
  queued: number;
  /** More is waiting past this step's batch. */
  more: boolean;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const covers = (rule: AlertRule, server: string): boolean => rule.server_name === null || rule.server_name === server;

/** The queue's row for an alert to one destination. */
const delivery = (
  p: AlertPayload,
  destination_id: number,
  rule_id: number | null,
  gap_id: number | null = p.gap?.id ?? null,
): NewDelivery => ({
  event_id: p.id,
  destination_id,
  rule_id,
  kind: p.type,
  gap_id,
  payload: p as unknown as Record<string, unknown>,
});

/** A delivery the rules decided on, and what the write phase must still take or move for it. */
interface Candidate {
  delivery: NewDelivery;
  /** The rule's cooldown on the gap, taken when the delivery is queued (none: automatic actions). */
  cooldown?: { ruleId: number; gapId: number; seconds: number };
  /** A digest's next run, moved from what the evaluation read (no delivery when it had moved). */
  nextRun?: { ruleId: number; from: string | null; at: string };
}

/** What one step's evaluation decided, to be written in one transaction. */
interface Plan {
  from: { reports_upto: number; history_upto: number };
  reportsUpto: number;
  historyUpto: number;
  history: number;
  candidates: Candidate[];
  /** Digests whose run came with nothing to send: their next run moves all the same. */
  nextRuns: NonNullable<Candidate["nextRun"]>[];
  more: boolean;
}

export class AlertEngine {
  private readonly alerts: AlertStore;
  private readonly now: () => number;
  private readonly batch: number;

  constructor(
    private readonly store: FeedbackStore,
    private readonly options: { publicUrl: string | (() => string); now?: () => number; batch?: number },
  ) {
    this.alerts = alertStore(store);
    this.now = options.now ?? Date.now;
    this.batch = options.batch ?? ENGINE_BATCH;
  }

  /** The gap as an alert shows it (null when it no longer exists). */
  gap(id: number): AlertGap | null {
    const g = this.store.gaps.getGap(id);
    if (!g) return null;
    return {
      id: g.id,
      server_name: g.server_name,
      title: truncateTitle(g.title),
      status: g.status,
      reports: g.reports,
      sessions: g.sessions,
      blocked_share: g.blocked_share,
      score: Math.round(g.score * 100) / 100,
      url: gapUrl(typeof this.options.publicUrl === "string" ? this.options.publicUrl : this.options.publicUrl(), g.id),
    };
  }

  private payload(
    type: AlertKind,
    id: string,
    rule: AlertRule | null,
    summary: string,
    gap: AlertGap | null,
    facts?: Record<string, number | string>,
  ): AlertPayload {
    return {
      type,
      id,
      rule_id: rule?.id ?? null,
      created_at: iso(this.now()),
      summary,
      gap,
      ...(facts ? { facts } : {}),
    };
  }

  /** A delivery for `rule` that takes the rule's cooldown on `gapId`. */
  private queue(out: Candidate[], rule: AlertRule, gapId: number, p: AlertPayload): void {
    out.push({
      delivery: delivery(p, rule.destination_id, rule.id),
      cooldown: { ruleId: rule.id, gapId, seconds: rule.cooldown_s },
    });
  }

  /** One step: evaluate a batch of what happened since the watermarks, then write what it decided. */
  step(): StepResult {
    const now = this.now();
    // Outside any transaction: each read sees the latest commit (reports up to the grouping's
    // watermark and history up to its latest id are final), and no read transaction stays open
    // for the whole evaluation, which on SQLite would keep every checkpoint from finishing.
    const plan = this.evaluate(now);
    const idle = { reports: 0, history: 0, queued: 0, more: plan.more };
    const moved = plan.reportsUpto !== plan.from.reports_upto || plan.historyUpto !== plan.from.history_upto;
    if (!moved && plan.candidates.length === 0 && plan.nextRuns.length === 0) return idle;
    return this.alerts.exclusive((): StepResult => {
      const st = this.alerts.state();
      // Another engine wrote this batch's outcome meanwhile: nothing to add.
      if (st.reports_upto !== plan.from.reports_upto || st.history_upto !== plan.from.history_upto)
        return { ...idle, more: true };
      // A rule or destination deleted since the evaluation takes its deliveries with it.
      const rules = this.alerts.rules();
      const ruleIds = new Set(rules.map((r) => r.id));
      const destinations = new Set(rules.map((r) => r.destination_id));
      const out: NewDelivery[] = [];
      for (const c of plan.candidates) {
        const d = c.delivery;
        if ((d.rule_id !== null && !ruleIds.has(d.rule_id)) || !destinations.has(d.destination_id)) continue;
        if (c.nextRun && !this.alerts.moveNextRun(c.nextRun.ruleId, c.nextRun.from, c.nextRun.at)) continue;
        if (c.cooldown && !this.alerts.takeCooldown(c.cooldown.ruleId, c.cooldown.gapId, now, c.cooldown.seconds))
          continue;
        out.push(c.delivery);
      }
      for (const n of plan.nextRuns) this.alerts.moveNextRun(n.ruleId, n.from, n.at);
      const queued = out.length > 0 ? this.alerts.enqueue(out, now) : 0;
      if (moved) this.alerts.setState(plan.reportsUpto, plan.historyUpto);
      return {
        reports: plan.reportsUpto - plan.from.reports_upto,
        history: plan.history,
        queued,
        more: plan.more,
      };
    });
  }

  /** The reads of a step: which deliveries the batch past the watermarks calls for. */
  private evaluate(now: number): Plan {
    const st = this.alerts.state();
    const rules = this.alerts.rules();
    const candidates: Candidate[] = [];
    const nextRuns: Plan["nextRuns"] = [];

    // Reports: only threshold rules read them; otherwise the watermark just follows the grouping.
    const assigned = this.alerts.assignedUpTo();
    let reportsUpto = st.reports_upto;
    if (assigned > st.reports_upto) {
      if (rules.some((r) => r.kind === "sessions" || r.kind === "blocked_share")) {
        const reports = this.alerts.reportsAfter(st.reports_upto, assigned, this.batch);
        reportsUpto = reports.length === this.batch ? reports[reports.length - 1]!.id : assigned;
        this.thresholds(rules, reports, st.reports_upto, reportsUpto, now, candidates);
      } else reportsUpto = assigned;
    }

    // History: gaps created and regressed, automatic actions.
    const latest = this.alerts.latestHistoryId();
    let historyUpto = st.history_upto;
    let history = 0;
    if (latest > st.history_upto) {
      const h = this.alerts.historyAfter(st.history_upto, latest, this.batch);
      historyUpto = h.last;
      history = h.rows.length;
      if (rules.length > 0) this.historyRules(rules, h.rows, now, candidates);
    }

    for (const rule of rules) if (rule.kind === "digest") this.digest(rule, now, candidates, nextRuns);
    return {
      from: st,
      reportsUpto,
      historyUpto,
      history,
      candidates,
      nextRuns,
      more: reportsUpto < assigned || historyUpto < latest,
    };
  }

  private thresholds(
    rules: AlertRule[],
    reports: ReportEvent[],
    before: number,
    upto: number,
    now: number,
    out: Candidate[],
  ): void {
    const touched = new Map<number, { n: number; blocked: number; server: string }>();
    for (const r of reports) {
      if (r.gap_id === null) continue;
      const t = touched.get(r.gap_id) ?? { n: 0, blocked: 0, server: r.server_name };
      t.n++;
      if (r.blocked) t.blocked++;
      touched.set(r.gap_id, t);
    }
    const active = rules.filter((r) => r.kind === "sessions" || r.kind === "blocked_share");
    for (const [gapId, t] of touched) {
      const mine = active.filter((r) => covers(r, t.server));
      if (mine.length === 0) continue;
      const facts = this.alerts.gapFacts(gapId);
      if (!facts || facts.status === "duplicate") continue;
      for (const rule of mine) {
        if (rule.kind === "sessions") {
          const n = rule.threshold!;
          if (facts.sessions < n) continue; // the all-time count bounds the window's
          const window = rule.window_s ?? DEFAULT_SESSIONS_WINDOW_S;
          const s = this.alerts.sessionsInWindow(gapId, iso(now - window * 1000), before, upto);
          if (!(s.before < n && s.after >= n)) continue;
          if (this.alerts.coolingDown(rule.id, gapId, now)) continue;
          const gap = this.gap(gapId);
          this.queue(
            out,
            rule,
            gapId,
            this.payload(
              "sessions",
              `msg_sessions_${rule.id}_${gapId}_${upto}`,
              rule,
              `A gap on ${facts.server_name} reached ${s.after} distinct sessions within ${window / 3600} h`,
              gap,
              { sessions_in_window: s.after, threshold: n, window_s: window },
            ),
          );
        } else {
          const x = rule.threshold!;
          const min = rule.min_reports ?? DEFAULT_MIN_REPORTS;
          const R = facts.reports;
          const B = facts.blocked;
          const after = R > 0 ? (B / R) * 100 : 0;
          const rBefore = R - t.n;
          const wasOver = rBefore >= min && ((B - t.blocked) / rBefore) * 100 >= x;
          if (R < min || after < x || wasOver) continue;
          if (this.alerts.coolingDown(rule.id, gapId, now)) continue;
          this.queue(
            out,
            rule,
            gapId,
            this.payload(
              "blocked_share",
              `msg_blocked_${rule.id}_${gapId}_${upto}`,
              rule,
              `A gap on ${facts.server_name} has ${Math.round(after)}% of its reports blocked (threshold ${x}%)`,
              this.gap(gapId),
              { blocked_percent: Math.round(after * 10) / 10, threshold: x, reports: R },
            ),
          );
        }
      }
    }
  }

  private historyRules(rules: AlertRule[], rows: HistoryEvent[], now: number, out: Candidate[]): void {
    let liveFrom: number | undefined;
    for (const h of rows) {
      const facts = this.alerts.gapFacts(h.gap_id);
      if (!facts) continue;
      const mine = rules.filter((r) => covers(r, facts.server_name));
      if (mine.length === 0) continue;
      if (h.actor === "autonomy") {
        const gap = this.gap(h.gap_id);
        const destinations = new Set(mine.map((r) => r.destination_id));
        for (const destination_id of destinations) {
          const p = this.payload(
            "automatic_action",
            `msg_auto_${h.id}`,
            null,
            `Automatic action on a gap on ${facts.server_name}: ${h.action.replace(/[^a-z0-9_]/gi, "")}`,
            gap,
            { action: h.action.replace(/[^a-z0-9_]/gi, "").slice(0, 64), history_id: h.id },
          );
          out.push({ delivery: delivery(p, destination_id, null, h.gap_id) });
        }
        continue;
      }
      if (h.action === "created") {
        // A backfill or regroup re-creates gaps for reports stored before: those are not new.
        liveFrom ??= this.alerts.groupingUpto();
        const reportId = typeof h.details.report_id === "number" ? h.details.report_id : 0;
        if (reportId <= liveFrom) continue;
      }
      const kind = h.action === "created" ? "new_gap" : "regression";
      for (const rule of mine) {
        if (rule.kind !== kind) continue;
        if (this.alerts.coolingDown(rule.id, h.gap_id, now)) continue;
        const gap = this.gap(h.gap_id);
        const summary =
          kind === "new_gap"
            ? `New gap on ${facts.server_name}`
            : `A fixed gap on ${facts.server_name} came back${typeof h.details.server_version === "string" ? ` in version ${h.details.server_version.slice(0, 40)}` : ""}`;
        this.queue(out, rule, h.gap_id, this.payload(kind, `msg_${kind}_${rule.id}_${h.id}`, rule, summary, gap));
      }
    }
  }

  private digest(rule: AlertRule, now: number, out: Candidate[], nextRuns: Plan["nextRuns"]): void {
    const period = (rule.window_s ?? DAY_S) * 1000;
    const due = rule.next_run_at === null ? now : Date.parse(rule.next_run_at);
    if (due > now) return;
    const ids = this.alerts.topGapIds(rule.server_name, rule.threshold ?? DEFAULT_DIGEST_SIZE);
    const gaps = ids.map((id) => this.gap(id)).filter((g): g is AlertGap => g !== null);
    const label = period === 7 * DAY_S * 1000 ? "Weekly" : "Daily";
    const p: AlertPayload = {
      ...this.payload(
        "digest",
        `msg_digest_${rule.id}_${iso(due)}`,
        rule,
        `${label} digest: the top ${gaps.length} gaps${rule.server_name ? ` on ${rule.server_name}` : ""}`,
        null,
      ),
      gaps,
    };
    // The next one is a period after this one was due (skipping periods a stopped sidecar missed).
    let next = due + period;
    while (next <= now) next += period;
    const nextRun = { ruleId: rule.id, from: rule.next_run_at, at: iso(next) };
    if (gaps.length === 0) nextRuns.push(nextRun);
    else out.push({ delivery: delivery(p, rule.destination_id, rule.id), nextRun });
  }
}
