/**
 * A gap's score, with its formula written out. Pure: the store keeps the
 * time-independent part (`base`) and a rank key that orders gaps exactly as
 * the current score does, so listing by score needs no per-read computation.
 *
 *   score = sessions × (1 + blocked share) × breadth × recency
 *   breadth = 1 + ½·log2(clients) + ½·log2(models)     (unknown counts as 1)
 *   recency = 0.5 ^ (days since last seen / 14)        (half-life 14 days)
 */

export const SCORE_HALF_LIFE_DAYS = 14;
const DAY_MS = 86_400_000;

export interface ScoreInput {
  /** Distinct session ids, plus one for every report that named no session. */
  sessions: number;
  reports: number;
  blocked: number;
  clients: number;
  models: number;
  /** ISO time of the newest report. */
  last_seen: string;
}

export interface Score {
  score: number;
  score_explain: string;
}

const breadthOf = (clients: number, models: number): number =>
  1 + 0.5 * Math.log2(Math.max(1, clients)) + 0.5 * Math.log2(Math.max(1, models));

/** The part of the score that does not change with time. */
export function baseScore(g: Omit<ScoreInput, "last_seen">): number {
  if (g.reports <= 0) return 0;
  return Math.max(1, g.sessions) * (1 + g.blocked / g.reports) * breadthOf(g.clients, g.models);
}

/**
 * log2(score) + now/half-life, which does not depend on now: sorting by it is
 * sorting by the current score. Null for an empty gap (it has no score).
 */
export function rankKey(g: Omit<ScoreInput, "last_seen">, lastSeen: string): number | null {
  const base = baseScore(g);
  if (base <= 0) return null;
  return Math.log2(base) + Date.parse(lastSeen) / DAY_MS / SCORE_HALF_LIFE_DAYS;
}

/** n to `digits` places without trailing zeros (and without a bare point): 1.50 → "1.5", 2.00 → "2". */
function fmt(n: number, digits = 2): string {
  // By hand rather than with a regular expression: this runs a few times per gap in every list page.
  const s = n.toFixed(digits);
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 48) end--;
  if (end === s.length) return s;
  if (end > 0 && s.charCodeAt(end - 1) === 46) end--;
  return end === 0 ? "0" : s.slice(0, end);
}
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

export function scoreOf(g: ScoreInput, now: number = Date.now()): Score {
  if (g.reports <= 0) return { score: 0, score_explain: "score 0: the gap has no reports" };
  const sessions = Math.max(1, g.sessions);
  const share = g.blocked / g.reports;
  const breadth = breadthOf(g.clients, g.models);
  const ageDays = Math.max(0, (now - Date.parse(g.last_seen)) / DAY_MS);
  const recency = 0.5 ** (ageDays / SCORE_HALF_LIFE_DAYS);
  const score = Math.round(sessions * (1 + share) * breadth * recency * 100) / 100;
  return {
    score,
    score_explain:
      `score ${fmt(score)} = ${plural(sessions, "session")} × (1 + ${fmt(share)} blocked share, ${g.blocked} of ${plural(g.reports, "report")})` +
      ` × breadth ${fmt(breadth)} (1 + ½·log2 ${plural(Math.max(1, g.clients), "client")} + ½·log2 ${plural(Math.max(1, g.models), "model")})` +
      ` × recency ${fmt(recency)} (last seen ${fmt(ageDays, 1)} days ago, half-life ${SCORE_HALF_LIFE_DAYS} days)`,
  };
}
