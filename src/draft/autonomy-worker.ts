/**
 * The autonomy worker in `serve` (off the ingest path: a periodic tick that
 * reads the gaps' cached counts). For every server at level `auto_draft` it
 * drafts a PR by itself for gaps that crossed the thresholds (distinct
 * sessions, blocked share, score), at most K a day per server, never for a gap
 * with an open draft, and only when a repository, a GitHub token and an LLM key
 * are configured. Guardrails run before anything is written: under the
 * confidence threshold or over the scope limits the change is kept as a
 * suggestion on the gap; with a checkout and a test command it is verified in a
 * temporary worktree first, and a failing run is kept as a suggestion with its
 * output. The same tick polls the CI of the drafts it opened and rolls a
 * failing one back when the server's settings say so. Every automatic action
 * goes into gap history with actor "autonomy". Settings are read on every tick.
 */
import { autonomyFor, type AutonomyConfig, DraftSettings, SettingsError } from "../settings/index.js";
import {
  AUTONOMY_ACTIONS,
  AUTONOMY_ACTOR,
  autonomyOf,
  type FeedbackStore,
  type Gap,
  type SuggestionReason,
} from "../store/index.js";
import type { DraftProposal, GuardVerdict } from "./pipeline.js";
import { scopeProblems, changedLines } from "./scope.js";
import { errorMessage, startPeriodic } from "../net/periodic.js";

export const DEFAULT_AUTONOMY_INTERVAL_MS = 60_000;
/** Drafts attempted per server per tick at most (each is an LLM call). */
const PER_TICK = 3;
/** Candidates read per server per tick. */
const CANDIDATES = 50;
/** A draft's CI is polled this long; after that its verdict is "unknown". */
const CI_POLL_DAYS = 7;
/** Diff characters kept on a suggestion. */
const SUGGESTION_DIFF_MAX = 60_000;

export interface AutonomyWorker {
  stop(): void;
  /** One tick now. Resolves when its drafts and CI checks are done. */
  tick(): Promise<void>;
}

export interface AutonomyWorkerOptions {
  intervalMs?: number | undefined;
  /** Run configured verification commands (serve --autonomy-verify); without it a configured verification holds the change. */
  allowVerify?: boolean | undefined;
  log?: ((line: string) => void) | undefined;
  /** Where the draft settings read env vars (process.env by default). */
  env?: NodeJS.ProcessEnv | undefined;
}

const startOfUtcDay = (now = new Date()) =>
  new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())).toISOString();

/** Whether drafting can run at all for this server (no spending, and no failed attempt, without it). */
function readiness(settings: DraftSettings, server: string): string | undefined {
  try {
    const c = settings.resolve(server);
    if (!c.target) return "no GitHub repository is configured for it";
    if (!c.secrets.githubToken) return "no GitHub token is configured";
    const key = c.provider === "anthropic" ? c.secrets.anthropicApiKey : c.secrets.openaiApiKey;
    if (!key && !(c.provider === "openai" && c.secrets.openaiBaseUrl)) return `no ${c.provider} API key is configured`;
    return undefined;
  } catch (err) {
    return err instanceof SettingsError ? err.message : String(err);
  }
}

export function startAutonomy(store: FeedbackStore, options: AutonomyWorkerOptions = {}): AutonomyWorker {
  const settings = new DraftSettings(store, options.env);
  const auto = autonomyOf(store);
  const controller = new AbortController();
  const log = options.log ?? (() => undefined);
  const notReady = new Map<string, string>();

  /** Keep a change on the gap instead of opening it, with the history row the alerts engine sends. */
  const keep = (
    gap: Gap,
    p: DraftProposal,
    reason: SuggestionReason,
    problems: string[],
    verification?: Record<string, unknown>,
  ): GuardVerdict => {
    const diff = p.redact(p.diff);
    const details: Record<string, unknown> = {
      title: p.redact(p.change.title),
      confidence: p.change.confidence,
      rationale: p.redact(p.change.rationale),
      problems,
      files: p.files,
      changed_lines: changedLines(p.change.changes),
      diff: diff.length > SUGGESTION_DIFF_MAX ? `${diff.slice(0, SUGGESTION_DIFF_MAX)}\n…(truncated)` : diff,
      repo: p.repo,
      base_branch: p.baseBranch,
      provider: p.provider,
      model: p.model,
      ...(verification ? { verification } : {}),
    };
    const suggestion = store.db.transaction(() => {
      const s = auto.addSuggestion(gap.id, reason, details);
      const action =
        reason === "verification_failed" ? AUTONOMY_ACTIONS.verificationFailed : AUTONOMY_ACTIONS.suggested;
      store.gaps.history(gap.id, AUTONOMY_ACTOR, action, {
        suggestion_id: s.id,
        reason,
        confidence: p.change.confidence,
        problems,
        ...(verification ? { exit_code: verification.exit_code, timed_out: verification.timed_out } : {}),
      });
      return s;
    })();
    const message = `The change was kept as suggestion ${suggestion.id} on gap ${gap.id} (${reason}): ${problems.join("; ")}`;
    return { publish: false, message };
  };

  const guardFor =
    (gap: Gap, cfg: AutonomyConfig, verified: { result?: Record<string, unknown> }) =>
    async (p: DraftProposal): Promise<GuardVerdict> => {
      if (p.change.confidence < cfg.confidence_threshold)
        return keep(gap, p, "low_confidence", [
          `the model's confidence ${p.change.confidence} is under the threshold ${cfg.confidence_threshold}`,
        ]);
      const scope = scopeProblems(p.change.changes, cfg);
      if (scope.length > 0) return keep(gap, p, "over_scope", scope);
      const { checkout, command, timeout_ms } = cfg.verification;
      if (checkout && command) {
        if (!options.allowVerify)
          return keep(gap, p, "verification_unavailable", [
            "a verification command is configured, but serve was not started with --autonomy-verify (PATCHWORKMCP_AUTONOMY_VERIFY), so it was not run",
          ]);
        const { verifyChange, VerifyError } = await import("./verify.js");
        try {
          const r = await verifyChange({
            checkout,
            command,
            timeoutMs: timeout_ms,
            changes: p.change.changes,
            signal: controller.signal,
          });
          const result = { ...r, output: p.redact(r.output) };
          if (!r.ok)
            return keep(
              gap,
              p,
              "verification_failed",
              [
                r.timed_out
                  ? `the verification command did not finish within ${timeout_ms} ms`
                  : `the verification command failed (exit code ${r.exit_code ?? `none, signal ${r.signal}`})`,
              ],
              result,
            );
          verified.result = { exit_code: r.exit_code, base_commit: r.base_commit };
        } catch (err) {
          if (!(err instanceof VerifyError)) throw err;
          return keep(gap, p, "verification_unavailable", [err.message]);
        }
      }
      return { publish: true };
    };

  const attempt = async (gap: Gap, cfg: AutonomyConfig): Promise<string> => {
    const { runDraft } = await import("./pipeline.js");
    const verified: { result?: Record<string, unknown> } = {};
    const outcome = await runDraft({
      store,
      settings,
      gapId: gap.id,
      signal: controller.signal,
      onEvent: () => undefined,
      guard: guardFor(gap, cfg, verified),
    });
    if (outcome.ok) {
      const r = outcome.result;
      if (r.kind !== "pull_request") return r.kind;
      store.db.transaction(() => {
        auto.recordAutoDraft(r.draft.id, gap.id, gap.server_name);
        store.gaps.history(gap.id, AUTONOMY_ACTOR, AUTONOMY_ACTIONS.opened, {
          draft_id: r.draft.id,
          url: r.url,
          number: r.number,
          branch: r.branch,
          files: r.files.length,
          ...(verified.result ? { verification: verified.result } : {}),
        });
      })();
      log(`patchworkmcp: autonomy opened draft PR ${r.url} for gap ${gap.id}`);
      return "opened";
    }
    if (outcome.error.code === "kept_as_suggestion") {
      log(`patchworkmcp: autonomy kept a suggestion on gap ${gap.id}`);
      return "suggested";
    }
    log(`patchworkmcp: autonomy could not draft gap ${gap.id} (${outcome.error.code}): ${outcome.error.message}`);
    return `failed:${outcome.error.code}`;
  };

  const draftFor = async (server: string): Promise<void> => {
    const cfg = autonomyFor(store, server);
    if (cfg.level !== "auto_draft" || cfg.max_drafts_per_day === 0) return;
    const problem = readiness(settings, server);
    if (problem) {
      // Said once per cause, not every tick.
      if (notReady.get(server) !== problem) log(`patchworkmcp: autonomy is waiting for "${server}": ${problem}`);
      notReady.set(server, problem);
      return;
    }
    notReady.delete(server);
    let used = auto.autoDraftsSince(server, startOfUtcDay());
    let tried = 0;
    for (const c of auto.candidates(server, cfg.min_sessions, cfg.min_blocked_share, CANDIDATES)) {
      if (used >= cfg.max_drafts_per_day || tried >= PER_TICK || controller.signal.aborted || !store.db.open) break;
      const gap = store.gaps.getGap(c.id);
      if (!gap || gap.score < cfg.min_score) continue;
      if (auto.openDraftOf(gap.id)) continue;
      tried++;
      const outcome = await attempt(gap, cfg);
      if (!store.db.open) return;
      auto.attempted(gap.id, gap.reports, outcome);
      if (outcome === "opened") used++;
    }
  };

  const pollCi = async (): Promise<void> => {
    const { ciVerdict, rollbackDraft } = await import("./pull-control.js");
    const cutoff = new Date(Date.now() - CI_POLL_DAYS * 86_400_000).toISOString();
    for (const row of auto.pendingCi()) {
      if (controller.signal.aborted || !store.db.open) return;
      if (row.opened_at < cutoff) {
        auto.setCiState(row.draft_id, "unknown");
        continue;
      }
      try {
        const verdict = await ciVerdict({ settings, server: row.server_name, draft: row.draft });
        if (verdict === "pending") continue;
        auto.setCiState(row.draft_id, verdict);
        if (verdict === "failure" && autonomyFor(store, row.server_name).rollback_on_failure) {
          await rollbackDraft({
            store,
            settings,
            gapId: row.gap_id,
            draft: row.draft,
            actor: AUTONOMY_ACTOR,
            reason: "ci_failed",
          });
          log(`patchworkmcp: autonomy rolled back ${row.draft.url} (CI failed)`);
        }
      } catch (err) {
        log(
          `patchworkmcp: autonomy could not check CI of ${row.draft.url}: ${err instanceof Error ? err.message : err}`,
        );
      }
    }
  };

  const once = async (): Promise<void> => {
    if (!store.db.open) return;
    const servers = auto.serversAt("auto_draft");
    if (servers.length === 0 && auto.pendingCi(1).length === 0) return;
    // Several sidecars on one database: one autonomy tick at a time (one draft per gap, one daily cap).
    const release = auto.claim();
    if (release === null) return;
    try {
      await pollCi();
      for (const server of servers) {
        if (controller.signal.aborted || !store.db.open) break;
        await draftFor(server);
      }
    } finally {
      release();
    }
  };

  return startPeriodic(once, {
    controller,
    intervalMs: options.intervalMs ?? DEFAULT_AUTONOMY_INTERVAL_MS,
    onError: (err) => log(`patchworkmcp: the autonomy worker stopped a tick: ${errorMessage(err)}`),
  });
}
