/**
 * What the dashboard draws beside the gap list: 30-day sparklines for a page
 * of gaps, and "top gaps this week vs last week". Both are built from the
 * store's per-gap timeline (an indexed `gap_id` lookup), so the cost is one
 * small query per gap asked about, never a scan of every report.
 */
import type { FeedbackStore, Gap, GapFilter } from "../store/index.js";

/** At most this many gaps in one sparklines request (a dashboard page is 50). */
export const SPARKLINE_MAX_IDS = 200;
export const SPARKLINE_DAYS = 30;
/** The trend ranks the highest-scoring gaps seen in the last two periods, at most this many. */
export const TREND_CANDIDATES = 200;

export interface Sparklines {
  /** The UTC days, oldest first. */
  days: string[];
  /** Gap id → reports per day (same order as `days`). Unknown ids are left out. */
  series: Record<string, number[]>;
}

export function gapSparklines(store: FeedbackStore, ids: readonly number[], days = SPARKLINE_DAYS): Sparklines {
  const series: Record<string, number[]> = {};
  for (const id of new Set(ids)) {
    if (!store.gaps.getGap(id)) continue;
    series[String(id)] = store.gaps.timeline(id, days).map((d) => d.count);
  }
  return { days: utcDays(days), series };
}

/** The last `days` UTC days, oldest first (the same days the store's timeline uses). */
function utcDays(days: number): string[] {
  const today = new Date();
  const start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (days - 1));
  return Array.from({ length: days }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
}

export interface TrendRow {
  gap: Gap;
  /** Reports in this period and the one before. */
  count: number;
  previous_count: number;
  /** 1-based rank in this period. */
  rank: number;
  /** Rank in the previous period, null when the gap had no report then. */
  previous_rank: number | null;
}

export interface Trend {
  days: number;
  /** Start of this period and of the previous one (UTC days, inclusive). */
  since: string;
  previous_since: string;
  this_period: TrendRow[];
  /** The previous period's top gaps, for the side-by-side view. */
  previous_period: TrendRow[];
  /** How many gaps were considered (the highest-scoring ones seen in both periods, at most TREND_CANDIDATES). */
  considered: number;
  /** True when more gaps were seen than were considered. */
  truncated: boolean;
}

interface Counted {
  gap: Gap;
  count: number;
  previous_count: number;
}

/** Rank by count (then score, then id) in each period; a gap with no report in a period has no rank there. */
export function rankPeriods(rows: readonly Counted[], limit: number): Pick<Trend, "this_period" | "previous_period"> {
  const order = (key: "count" | "previous_count") =>
    rows.filter((r) => r[key] > 0).sort((a, b) => b[key] - a[key] || b.gap.score - a.gap.score || a.gap.id - b.gap.id);
  const now = order("count");
  const before = order("previous_count");
  const rankNow = new Map(now.map((r, i) => [r.gap.id, i + 1]));
  const rankBefore = new Map(before.map((r, i) => [r.gap.id, i + 1]));
  const row = (r: Counted): TrendRow => ({
    ...r,
    rank: rankNow.get(r.gap.id) ?? 0,
    previous_rank: rankBefore.get(r.gap.id) ?? null,
  });
  return { this_period: now.slice(0, limit).map(row), previous_period: before.slice(0, limit).map(row) };
}

export function gapTrend(
  store: FeedbackStore,
  options: { days?: number; limit?: number; filter?: Omit<GapFilter, "since"> } = {},
): Trend {
  const days = options.days ?? 7;
  const limit = options.limit ?? 10;
  const timelineDays = days * 2;
  const window = utcDays(timelineDays);
  const page = store.gaps.listGaps(
    { ...options.filter, since: `${window[0]}T00:00:00.000Z` },
    { sort: "score", limit: TREND_CANDIDATES },
  );
  const counted = page.items.map((gap): Counted => {
    const timeline = store.gaps.timeline(gap.id, timelineDays);
    const sum = (from: number, to: number) => timeline.slice(from, to).reduce((n, d) => n + d.count, 0);
    return { gap, previous_count: sum(0, days), count: sum(days, timelineDays) };
  });
  return {
    days,
    since: window[days]!,
    previous_since: window[0]!,
    ...rankPeriods(counted, limit),
    considered: counted.length,
    truncated: page.nextCursor !== null,
  };
}
