/**
 * The cached LLM analysis of a gap (migration 5): one row per gap, replaced
 * when re-run. The draft layer validates the model's answer with zod before
 * it gets here; this module only stores and reads it. An analysis is stale
 * once the gap's report count has moved by `refresh_after` since it was made.
 */
import type { SqlDb, Statement } from "./sql/db.js";
import type { GapAnalysis, NewGapAnalysis, ProposedChange } from "./gap-types.js";
import type { GapStore } from "./gaps.js";
import { StoreError } from "./store.js";
import type { Report } from "./types.js";

type Stmt = (sql: string) => Statement;

/** Advisory lock class of the per-gap analysis claim (the gap id is the second key). */
const ANALYSIS_LOCK_CLASS = 0x70776d33; // "pwm3"

interface AnalysisRow {
  gap_id: number;
  title: string;
  summary: string;
  proposed_change: string;
  provider: string;
  model: string;
  report_count: number;
  refresh_after: number;
  generated_at: string;
}

const COLUMNS = "gap_id, title, summary, proposed_change, provider, model, report_count, refresh_after, generated_at";

function toAnalysis(row: AnalysisRow, reports: number): GapAnalysis {
  return {
    title: row.title,
    summary: row.summary,
    proposed_change: JSON.parse(row.proposed_change) as ProposedChange,
    provider: row.provider,
    model: row.model,
    generated_at: row.generated_at,
    report_count: row.report_count,
    refresh_after: row.refresh_after,
    stale: Math.abs(reports - row.report_count) >= row.refresh_after,
  };
}

/** A report with the grouping signature's duplicate key and terms, for evidence selection. */
export interface EvidenceRow {
  report: Report;
  fingerprint: string | null;
  terms: readonly (readonly [string, number])[];
}

export class GapAnalysisStore {
  constructor(
    private readonly db: SqlDb,
    private readonly stmt: Stmt,
    private readonly gaps: GapStore,
  ) {}

  get(gapId: number, reports: number): GapAnalysis | null {
    const row = this.stmt(`SELECT ${COLUMNS} FROM gap_analyses WHERE gap_id = ?`).get(gapId) as AnalysisRow | undefined;
    return row ? toAnalysis(row, reports) : null;
  }

  /** Analyses for a page of gaps (one primary-key lookup each, in one statement). */
  forGaps(gaps: { id: number; reports: number }[]): Map<number, GapAnalysis> {
    const out = new Map<number, GapAnalysis>();
    if (gaps.length === 0) return out;
    const rows = this.stmt(
      `SELECT ${COLUMNS} FROM gap_analyses WHERE gap_id IN (${gaps.map(() => "?").join(", ")})`,
    ).all(...gaps.map((g) => g.id)) as AnalysisRow[];
    const reports = new Map(gaps.map((g) => [g.id, g.reports]));
    for (const r of rows) out.set(r.gap_id, toAnalysis(r, reports.get(r.gap_id) ?? r.report_count));
    return out;
  }

  /**
   * Store (or replace) a gap's analysis. The gap's title becomes the analysis
   * title unless a human renamed the gap; both go into the history (without
   * the text: it derives from agent reports).
   */
  save(gapId: number, analysis: NewGapAnalysis, actor: string): GapAnalysis {
    return this.db.transaction(() => {
      const gap = this.gaps.getGap(gapId);
      if (!gap) throw new StoreError("gap_not_found", `There is no gap ${gapId}.`);
      const at = new Date().toISOString();
      this.stmt(
        `INSERT INTO gap_analyses (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (gap_id) DO UPDATE SET title = excluded.title, summary = excluded.summary,
           proposed_change = excluded.proposed_change, provider = excluded.provider, model = excluded.model,
           report_count = excluded.report_count, refresh_after = excluded.refresh_after, generated_at = excluded.generated_at`,
      ).run(
        gapId,
        analysis.title,
        analysis.summary,
        JSON.stringify(analysis.proposed_change),
        analysis.provider,
        analysis.model,
        analysis.report_count,
        analysis.refresh_after,
        at,
      );
      this.gaps.history(gapId, actor, "analysed", {
        provider: analysis.provider,
        model: analysis.model,
        report_count: analysis.report_count,
      });
      this.gaps.retitleFromAnalysis(gapId, analysis.title, actor, analysis.model);
      return this.get(gapId, gap.reports)!;
    })();
  }

  /** Apply a changed refresh setting to every cached analysis. */
  setRefreshAfter(n: number): void {
    this.stmt("UPDATE gap_analyses SET refresh_after = ? WHERE refresh_after <> ?").run(n, n);
  }

  /**
   * Live gaps with at least `minReports` reports whose analysis is missing or
   * stale, largest first (for automatic analysis). Walks the reports index.
   */
  needingAnalysis(minReports: number, limit: number): number[] {
    const rows = this.stmt(
      `SELECT g.id FROM gaps g LEFT JOIN gap_analyses a ON a.gap_id = g.id
       WHERE g.reports > 0 AND g.reports >= ? AND g.status <> 'duplicate'
         AND (a.gap_id IS NULL OR abs(g.reports - a.report_count) >= a.refresh_after)
       ORDER BY g.reports DESC, g.id DESC LIMIT ?`,
    ).all(Math.max(1, minReports), limit) as { id: number }[];
    return rows.map((r) => r.id);
  }

  /** True while the gap still needs an automatic analysis (another sidecar may have just made it). */
  stillNeeds(gapId: number, minReports: number): boolean {
    return (
      this.stmt(
        `SELECT 1 AS yes FROM gaps g LEFT JOIN gap_analyses a ON a.gap_id = g.id
         WHERE g.id = ? AND g.reports > 0 AND g.reports >= ? AND g.status <> 'duplicate'
           AND (a.gap_id IS NULL OR abs(g.reports - a.report_count) >= a.refresh_after)`,
      ).get(gapId, Math.max(1, minReports)) !== undefined
    );
  }

  /**
   * Claim gap `gapId` for an automatic analysis, so two sidecars on one PostgreSQL database never
   * pay for the same one: a session advisory lock, released by the returned function (or by the
   * server if the process dies). Null when another sidecar holds it. On SQLite the process's own
   * one-tick-at-a-time rule is the claim (one sidecar per file).
   */
  claimForAnalysis(gapId: number): (() => void) | null {
    if (this.db.dialect !== "postgres") return () => undefined;
    const got = this.stmt(`SELECT pg_try_advisory_lock(${ANALYSIS_LOCK_CLASS}, ?) AS ok`).get(gapId) as {
      ok: boolean;
    };
    if (!got.ok) return null;
    return () => {
      if (this.db.open) this.stmt(`SELECT pg_advisory_unlock(${ANALYSIS_LOCK_CLASS}, ?) AS ok`).get(gapId);
    };
  }

  /** The gap's newest `limit` reports with their grouping signatures (the evidence a prompt chooses from). */
  evidence(gapId: number, limit: number, toReport: (row: never) => Report, columns: string): EvidenceRow[] {
    const rows = this.stmt(
      `SELECT ${columns}, s.signature AS _signature FROM reports r LEFT JOIN report_signatures s ON s.report_id = r.id
       WHERE r.gap_id = ? ORDER BY r.id DESC LIMIT ?`,
    ).all(gapId, limit) as (Record<string, unknown> & { _signature: string | null })[];
    return rows.map(({ _signature, ...row }) => {
      const sig = _signature ? (JSON.parse(_signature) as { fingerprint?: string; terms?: [string, number][] }) : {};
      return { report: toReport(row as never), fingerprint: sig.fingerprint ?? null, terms: sig.terms ?? [] };
    });
  }
}
