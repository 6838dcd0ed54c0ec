/**
 * Automatic gap analysis in `serve`: only when the settings say so
 * (`gap_analysis.enabled` and `gap_analysis.auto_at_reports`), every tick
 * analyses the largest few gaps that reached that many reports and have no
 * fresh analysis. Settings are read on every tick, so turning it off in the
 * dashboard stops the spending at once. A gap whose analysis failed is not
 * retried until its report count changes (no loop of paid failures).
 */
import { DraftSettings } from "../settings/index.js";
import type { FeedbackStore } from "../store/index.js";
import { errorMessage, startPeriodic } from "../net/periodic.js";

export const DEFAULT_AUTO_ANALYSIS_INTERVAL_MS = 60_000;
/** Gaps analysed per tick at most (one after another). */
const PER_TICK = 3;

export interface AutoAnalysis {
  stop(): void;
  /** One tick now (tests and the first tick after start). Resolves when its analyses are done. */
  tick(): Promise<void>;
}

export function startAutoAnalysis(
  store: FeedbackStore,
  options: { intervalMs?: number; log?: (line: string) => void } = {},
): AutoAnalysis {
  const settings = new DraftSettings(store);
  const failed = new Map<number, number>();
  const controller = new AbortController();

  const once = async (): Promise<void> => {
    if (!store.db.open) return;
    const config = settings.gapAnalysis();
    if (!config.enabled || config.auto_at_reports === null) return;
    const ids = store.gaps.analyses.needingAnalysis(config.auto_at_reports, PER_TICK + failed.size);
    const { analyzeGap, GapAnalysisError } = await import("./gap-analysis.js");
    let done = 0;
    for (const id of ids) {
      if (done >= PER_TICK || controller.signal.aborted || !store.db.open) break;
      const reports = store.gaps.getGap(id)?.reports;
      if (reports === undefined || failed.get(id) === reports) continue;
      // Several sidecars on one database: one analysis per gap, by whoever claims it first.
      const release = store.gaps.analyses.claimForAnalysis(id);
      if (release === null) continue;
      try {
        if (!store.gaps.analyses.stillNeeds(id, config.auto_at_reports)) continue;
        done++;
        const { analysis } = await analyzeGap({ store, settings, gapId: id, actor: "auto", signal: controller.signal });
        failed.delete(id);
        options.log?.(`patchworkmcp: analysed gap ${id} (${analysis.report_count} reports, ${analysis.model})`);
      } catch (err) {
        failed.set(id, reports);
        const code = err instanceof GapAnalysisError ? err.code : "internal_error";
        options.log?.(
          `patchworkmcp: automatic analysis of gap ${id} failed (${code}): ${err instanceof Error ? err.message : String(err)}`,
        );
        // Nothing will work until the configuration changes: stop this tick.
        if (code === "gap_analysis_off" || code === "llm_not_configured" || code === "llm_auth_failed") break;
      } finally {
        release();
      }
    }
  };

  return startPeriodic(once, {
    controller,
    intervalMs: options.intervalMs ?? DEFAULT_AUTO_ANALYSIS_INTERVAL_MS,
    onError: (err) => options.log?.(`patchworkmcp: automatic analysis stopped a tick: ${errorMessage(err)}`),
  });
}
