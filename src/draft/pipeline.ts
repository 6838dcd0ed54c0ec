/**
 * The draft pipeline, one implementation for the dashboard (SSE), the MCP
 * tool and the CLI: settings → read repo → select files → prompt → model →
 * validate (one retry that tells the model what failed) → branch + one
 * commit → draft PR → record on the report. Every step reports typed events;
 * the run ends with exactly one `done` or `error`. Secrets are redacted from
 * everything emitted and from everything sent to GitHub.
 */
import { randomBytes } from "node:crypto";
import { collapseEvidence, EVIDENCE_SAMPLE, type GapEvidence } from "../gaps/evidence.js";
import type { Draft, FeedbackStore, Gap, Report } from "../store/index.js";
import {
  SettingsError,
  type DraftSettings,
  type ResolvedDraftConfig,
  type SettingsOverrides,
} from "../settings/index.js";
import { changeSetDiff } from "./diff.js";
import { DRAFT_STEPS, DraftError, type DraftEvent, type DraftResult, type DraftStep } from "./events.js";
import { GitHubRepo } from "./github.js";
import { LocalGitRepo } from "./local-git.js";
import type { RepoSource } from "./repo.js";
import { fitEvidence, gapNotes, type FittedEvidence, type PromptNote } from "./gap-prompt.js";
import { buildUserPrompt, computeBudget, fixedPromptChars, GAP_SYSTEM_PROMPT, SYSTEM_PROMPT } from "./prompt.js";
import { createModelClient, type ModelClient } from "./providers.js";
import { makeRedactor, makeSecretFinder, redactDeep, urlCredentials, type Redactor } from "./redact.js";
import { selectFiles } from "./select.js";
import { inertText } from "./text.js";
import { validateChangeSet, type ValidatedChangeSet } from "./validate.js";

export interface RunDraftOptions {
  store: FeedbackStore;
  settings: DraftSettings;
  /** The subject: exactly one of a report and a gap. */
  reportId?: number | undefined;
  /** Draft from a gap: all its reports (near-duplicates collapsed, within budget) are the evidence. */
  gapId?: number | undefined;
  dryRun?: boolean | undefined;
  /** Local mode: a git checkout to commit into instead of opening a PR. */
  repoPath?: string | undefined;
  overrides?: SettingsOverrides | undefined;
  signal?: AbortSignal | undefined;
  onEvent: (event: DraftEvent) => void;
  /** Where the report (or, for a gap, the gap) can be seen (for the PR body's link back). */
  reportUrl?: string | undefined;
  /**
   * Called with the validated change before anything is written (the autonomy ladder's guardrails).
   * `publish: false` keeps the change off the repository: the run ends with `kept_as_suggestion`.
   */
  guard?: ((proposal: DraftProposal) => Promise<GuardVerdict>) | undefined;
}

/** What a guard sees: the validated change, its diff, and where it would go. */
export interface DraftProposal {
  change: ValidatedChangeSet;
  diff: string;
  files: { path: string; action: string }[];
  reportId: number;
  gapId: number | undefined;
  repo: string;
  baseBranch: string;
  provider: string;
  model: string;
  /** The run's redactor (configured secrets out of anything the guard stores). */
  redact: Redactor;
}

export type GuardVerdict = { publish: true } | { publish: false; message: string };

/** Share of the prompt a gap's reports may take (the rest is for the repository's files). */
const GAP_EVIDENCE_SHARE = 0.25;

export type DraftOutcome =
  | { ok: true; result: DraftResult }
  | { ok: false; error: { code: string; message: string; step: DraftStep | null } };

export function branchName(id: number, now = new Date(), subject: "report" | "gap" = "report"): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `patchworkmcp/${subject}-${id}-${stamp}-${randomBytes(3).toString("hex")}`;
}

/** What a run drafts for: one report, or a gap (with the report that represents it best). */
interface Subject {
  /** The report, or the gap's most representative report (file selection and the record use it). */
  report: Report;
  notes: PromptNote[];
  gap?: { gap: Gap; evidence: GapEvidence; fitted: FittedEvidence };
}

/** The gap's reports as one report-shaped value for file selection: every tool and the leading texts. */
function selectionReport(primary: Report, evidence: GapEvidence, gap: Gap): Report {
  const used = evidence.items.slice(0, 20).map((i) => i.report);
  const tools = new Set<string>();
  for (const r of used) {
    if (r.tool_name) tools.add(r.tool_name);
    for (const t of r.tools_available) tools.add(t);
  }
  return {
    ...primary,
    tool_name: gap.tool_name ?? primary.tool_name,
    tools_available: [...tools],
    what_i_needed: used.map((r) => r.what_i_needed).join("\n"),
    what_i_tried: used.map((r) => r.what_i_tried).join("\n"),
    suggestion: used.flatMap((r) => (r.suggestion ? [r.suggestion] : [])).join("\n") || null,
  };
}

function quoteLines(text: string): string {
  return text
    .split("\n")
    .map((l) => `> ${l}`)
    .join("\n");
}

/** Agent-written names as inert inline code: no backtick can end the span early, no newline can start a new block. */
function codeSpan(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]/g, " ");
  const fence = "`".repeat(Math.max(...(flat.match(/`+/g) ?? [""]).map((r) => r.length)) + 1);
  return `${fence} ${flat} ${fence}`;
}

export function prBody(input: {
  modelBody: string;
  report: Report;
  notes: PromptNote[];
  reportUrl: string | undefined;
  provider: string;
  model: string;
  files: string[];
  /** Drafted from a gap: its id and the reports quoted as evidence. */
  gap?: { id: number; reportIds: number[]; total: number } | undefined;
  /** The model's own confidence and rationale (shown so a reviewer can weigh them). */
  judgement?: { confidence: number; rationale: string } | undefined;
}): string {
  const subject = input.gap ? `gap #${input.gap.id}` : `feedback report #${input.report.id}`;
  const link = input.reportUrl ? `[${subject}](${input.reportUrl})` : subject;
  const evidence = input.gap
    ? ` (${input.gap.total} report${input.gap.total === 1 ? "" : "s"}; quoted as evidence: ${input.gap.reportIds
        .slice(0, 50)
        .map((id) => `#${id}`)
        .join(", ")}${input.gap.reportIds.length > 50 ? ", …" : ""})`
    : "";
  const notes =
    input.notes.length === 0
      ? "_No developer notes were used._"
      : `Developer notes used:\n\n${input.notes.map((n) => `${quoteLines(n.body)}\n>\n> — ${n.author ?? "maintainer"}, ${n.created_at}`).join("\n\n")}`;
  const body = [
    input.modelBody,
    "---",
    `Drafted by PatchworkMCP from ${link}${evidence} about ${codeSpan(input.report.server_name)}${input.report.tool_name ? ` (tool ${codeSpan(input.report.tool_name)})` : ""}, with ${input.provider}/${input.model}. Review before merging: the report text came from ${input.gap ? "AI agents" : "an AI agent"}.`,
    notes,
    ...(input.judgement?.rationale
      ? [`Model confidence ${input.judgement.confidence.toFixed(2)}: ${input.judgement.rationale}`]
      : []),
    `Files: ${input.files.map((f) => `\`${f}\``).join(", ")}`,
  ].join("\n\n");
  return body.length > 60_000 ? `${body.slice(0, 60_000)}\n\n…(truncated)` : body;
}

class Run {
  private readonly plan: DraftStep[];
  private redact: Redactor = (t) => t;

  constructor(private readonly options: RunDraftOptions) {
    const skip = new Set<DraftStep>(
      options.dryRun ? ["commit", "pull_request", "record"] : options.repoPath ? ["pull_request"] : [],
    );
    this.plan = DRAFT_STEPS.filter((s) => !skip.has(s));
  }

  emit(event: DraftEvent): void {
    // Every string field of the event, however deep, goes through the redactor.
    const safe = redactDeep(event, this.redact);
    try {
      this.options.onEvent(safe);
    } catch {
      // A front end that fails to render must not break the run.
    }
  }

  /** Announce a step; a cancelled run stops here (except where noted). */
  step(step: DraftStep, message: string, abortable = true): void {
    if (abortable) this.checkAbort(step);
    this.emit({ type: "step", step, message, index: this.plan.indexOf(step) + 1, total: this.plan.length });
  }

  detail(step: DraftStep, message: string): void {
    this.emit({ type: "detail", step, message });
  }

  checkAbort(step: DraftStep | null): void {
    if (this.options.signal?.aborted) throw new DraftError("cancelled", "The draft was cancelled.", step);
  }

  /** The report, or the gap with its evidence (collapsed and ranked; fitted to the budget later). */
  private loadSubject(): Subject {
    const { store, reportId, gapId } = this.options;
    if ((reportId === undefined) === (gapId === undefined))
      throw new DraftError(
        "invalid_subject",
        "Draft either one report or one gap, not both and not neither.",
        "settings",
      );
    if (reportId !== undefined) {
      const report = store.getReport(reportId);
      if (!report) throw new DraftError("report_not_found", `There is no report ${reportId}.`, "settings");
      return { report, notes: store.listNotes(report.id) };
    }
    const gap = store.gaps.getGap(gapId!);
    if (!gap) throw new DraftError("gap_not_found", `There is no gap ${gapId}.`, "settings");
    if (gap.status === "duplicate")
      throw new DraftError(
        "gap_merged",
        `Gap ${gap.id} was merged into gap ${gap.duplicate_of}; draft from gap ${gap.duplicate_of} instead.`,
        "settings",
      );
    const evidence = collapseEvidence(store.gapEvidence(gap.id, EVIDENCE_SAMPLE));
    const primary = evidence.items[0]?.report;
    if (!primary) throw new DraftError("gap_empty", `Gap ${gap.id} has no reports to draft from.`, "settings");
    return {
      report: primary,
      notes: gapNotes(gap, store.gaps.notesOf(gap.id)),
      gap: { gap, evidence, fitted: { block: "", used: [], omitted: 0 } },
    };
  }

  async run(): Promise<DraftOutcome> {
    let cleanup: (() => Promise<void>) | undefined;
    try {
      const result = await this.execute((fn) => {
        cleanup = fn;
      });
      // Defence in depth: what the caller gets is redacted like every event.
      const safe = redactDeep(result, this.redact);
      this.emit({ type: "done", result: safe });
      return { ok: true, result: safe };
    } catch (err) {
      // However an SDK reports an abort (its own error class, a network error), a cancelled run is "cancelled".
      const error = this.options.signal?.aborted
        ? new DraftError("cancelled", "The draft was cancelled.", err instanceof DraftError ? err.step : null)
        : err instanceof DraftError
          ? err
          : new DraftError(
              "internal_error",
              `The draft failed unexpectedly: ${err instanceof Error ? err.message : String(err)}`,
            );
      if (cleanup) await cleanup();
      const safe = { code: error.code, message: this.redact(error.message), step: error.step };
      this.emit({ type: "error", ...safe });
      return { ok: false, error: safe };
    }
  }

  private async execute(setCleanup: (fn: (() => Promise<void>) | undefined) => void): Promise<DraftResult> {
    const { options } = this;
    const { store, signal } = options;

    // 1. settings
    this.step("settings", `Loading the ${options.gapId !== undefined ? "gap" : "report"} and the draft settings`);
    const subject = this.loadSubject();
    const { report, notes } = subject;
    let config: ResolvedDraftConfig;
    try {
      config = options.settings.resolve(report.server_name, options.overrides);
    } catch (err) {
      if (err instanceof SettingsError) throw new DraftError(err.code, err.message, "settings");
      throw err;
    }
    const s = config.secrets;
    this.redact = makeRedactor([
      s.githubToken,
      s.anthropicApiKey,
      s.openaiApiKey,
      ...urlCredentials(s.githubApiUrl, s.anthropicBaseUrl, s.openaiBaseUrl),
    ]);
    const findSecret = makeSecretFinder([
      { name: "the GitHub token", value: s.githubToken },
      { name: "the Anthropic API key", value: s.anthropicApiKey },
      { name: "the OpenAI API key", value: s.openaiApiKey },
      ...urlCredentials(s.githubApiUrl, s.anthropicBaseUrl, s.openaiBaseUrl).map((value) => ({
        name: "a credential from a base URL",
        value,
      })),
    ]);
    // Prose (title, body, commit message) is redacted; files are refused outright, since rewriting code silently
    // would change what it does. Refused, not retried: a retry would send the answer back to the model.
    const refuseSecrets = (text: string, where: string) => {
      const which = findSecret(text);
      if (which)
        throw new DraftError(
          "secret_in_change",
          `The change set would write ${which} into ${where}; it was refused and nothing was written.`,
          "validate",
        );
    };
    const local = options.repoPath !== undefined;
    if (!local && !config.target) {
      throw new DraftError(
        "no_repo_configured",
        `No GitHub repository is configured for server "${report.server_name}": map it (or set a default) in the draft settings, or pass --repo.`,
        "settings",
      );
    }
    if (!local && !s.githubToken)
      throw new DraftError(
        "missing_github_token",
        "No GitHub token: set GITHUB_TOKEN or save one in the draft settings.",
        "settings",
      );
    const client: ModelClient = createModelClient({
      provider: config.provider,
      model: config.model,
      apiKey: config.provider === "anthropic" ? s.anthropicApiKey : s.openaiApiKey,
      baseUrl: config.provider === "anthropic" ? s.anthropicBaseUrl : s.openaiBaseUrl,
    });
    const about = subject.gap
      ? `Gap #${subject.gap.gap.id} on ${report.server_name}: ${subject.gap.gap.reports} reports, ${subject.gap.evidence.items.length} distinct among the ${subject.gap.evidence.sampled} newest`
      : `Report #${report.id} on ${report.server_name}`;
    this.detail(
      "settings",
      `${about}, ${notes.length} developer note${notes.length === 1 ? "" : "s"}; model ${config.provider}/${config.model}${options.dryRun ? "; dry run" : ""}`,
    );

    // 2. repository
    let source: RepoSource;
    if (local) {
      this.step("read_repo", `Reading the local checkout ${options.repoPath}`);
      // A local checkout is based on --base-branch when given, else on whatever is checked out.
      source = await LocalGitRepo.open(options.repoPath!, options.overrides?.baseBranch);
    } else {
      const [owner, repo] = config.target!.repo.split("/") as [string, string];
      this.step("read_repo", `Reading ${config.target!.repo} on GitHub`);
      source = await GitHubRepo.open({
        token: s.githubToken!,
        baseUrl: s.githubApiUrl,
        owner,
        repo,
        baseBranch: config.target!.base_branch ?? undefined,
        signal,
      });
    }
    const listing = await source.list();
    for (const note of listing.notes) this.detail("read_repo", note);
    this.detail(
      "read_repo",
      `${listing.entries.length} files on ${source.baseBranch}${listing.complete ? "" : " (listing incomplete)"}`,
    );

    // 3. file selection within the context budget
    this.step("select_files", "Choosing the relevant files");
    const budget = computeBudget(config.contextTokens);
    const paths = listing.entries.map((e) => e.path).sort();
    const treeChars = Math.min(40_000, Math.floor(budget.promptChars * 0.15));
    if (subject.gap) {
      subject.gap.fitted = fitEvidence(subject.gap.evidence, Math.floor(budget.promptChars * GAP_EVIDENCE_SHARE));
      const { used, omitted } = subject.gap.fitted;
      this.detail(
        "select_files",
        `Quoting ${used.length} distinct report${used.length === 1 ? "" : "s"} as evidence (standing for ${used.reduce((n, i) => n + 1 + i.duplicate_ids.length, 0)} reports)${omitted > 0 ? `; ${omitted} left out for lack of room` : ""}`,
      );
    }
    const evidenceBlock = subject.gap?.fitted.block;
    const fixed = fixedPromptChars({
      report,
      notes,
      evidenceBlock,
      repoLabel: source.label,
      baseBranch: source.baseBranch,
      listingComplete: listing.complete,
      treeChars,
    });
    const fileBudget = Math.max(2_000, budget.promptChars - fixed);
    const selection = await selectFiles({
      entries: listing.entries,
      report: subject.gap ? selectionReport(report, subject.gap.evidence, subject.gap.gap) : report,
      read: (p) => source.read(p),
      budgetChars: fileBudget,
    });
    this.detail(
      "select_files",
      `Chose ${selection.files.length} file${selection.files.length === 1 ? "" : "s"} (${selection.usedChars.toLocaleString("en-US")} of ${fileBudget.toLocaleString("en-US")} characters of budget): ${selection.files.map((f) => f.path).join(", ") || "none"}`,
    );
    const cut = selection.files.filter((f) => f.truncated).map((f) => f.path);
    if (cut.length) this.detail("select_files", `Cut to fit: ${cut.join(", ")}`);
    if (selection.omitted.length)
      this.detail("select_files", `Left out for lack of room: ${selection.omitted.slice(0, 20).join(", ")}`);

    // 4–6. prompt, model, validation (with one retry that says what failed)
    let validated: ValidatedChangeSet | undefined;
    let retry: { problems: string[]; previous: unknown } | undefined;
    for (let attempt = 1; attempt <= 2 && !validated; attempt++) {
      this.step("prompt", attempt === 1 ? "Building the prompt" : "Building the prompt again, with what failed");
      // A repository file can hold a configured secret (a committed token): it is not sent to the model either.
      const user = this.redact(
        buildUserPrompt(
          {
            report,
            notes,
            evidenceBlock,
            repoLabel: source.label,
            baseBranch: source.baseBranch,
            paths,
            listingComplete: listing.complete,
            selection,
            retry,
          },
          treeChars,
        ),
      );
      this.detail(
        "prompt",
        `${user.length.toLocaleString("en-US")} characters (about ${Math.ceil(user.length / 3.5).toLocaleString("en-US")} tokens)`,
      );

      this.step("model", `Asking ${config.provider}/${config.model} for a change set${attempt > 1 ? " (retry)" : ""}`);
      let answer: unknown;
      try {
        answer = await client.generate({
          system: subject.gap ? GAP_SYSTEM_PROMPT : SYSTEM_PROMPT,
          user,
          maxOutputTokens: budget.maxOutputTokens,
          signal,
        });
      } catch (err) {
        // Unparseable output gets the same single retry as a change set that fails validation.
        if (!(err instanceof DraftError && err.code === "invalid_json" && attempt === 1)) throw err;
        this.detail("model", `${err.message} Asking the model once more.`);
        retry = { problems: ["the answer was not a JSON change set matching the schema"], previous: null };
        continue;
      }
      this.detail("model", `The model answered (${client.api} API)`);

      this.step("validate", "Validating the change set");
      const proposed = (answer as { files?: unknown } | null)?.files;
      refuseSecrets(JSON.stringify(proposed ?? null) ?? "", "the files it changes (their paths or contents)");
      const outcome = await validateChangeSet(answer, source, config.allowedSensitivePaths);
      if (outcome.ok) {
        validated = outcome.value;
        break;
      }
      const summary = outcome.problems.slice(0, 5).join("; ");
      if (attempt === 1) {
        this.detail("validate", `Rejected: ${summary}. Asking the model once more.`);
        retry = { problems: outcome.problems, previous: redactDeep(answer, this.redact) };
      } else {
        throw new DraftError(
          "validation_failed",
          `The model's change set was rejected twice. Last problems: ${summary}`,
          "validate",
        );
      }
    }
    const change = validated!;
    const files = change.changes.map((c) => ({ path: c.path, action: c.action }));
    const diff = changeSetDiff(change.changes);
    // The diff also carries the files' current lines around each change.
    refuseSecrets(diff, "the diff (a file it touches already holds it)");
    this.detail(
      "validate",
      `${files.length} file${files.length === 1 ? "" : "s"}: ${files.map((f) => `${f.action} ${f.path}`).join(", ")}`,
    );

    const base = {
      diff,
      files,
      title: this.redact(change.title),
      base_branch: source.baseBranch,
      provider: config.provider,
      model: config.model,
    };
    if (options.guard) {
      const verdict = await options.guard({
        change,
        diff,
        files,
        reportId: report.id,
        gapId: subject.gap?.gap.id,
        repo: source.recordName,
        baseBranch: source.baseBranch,
        provider: config.provider,
        model: config.model,
        redact: this.redact,
      });
      if (!verdict.publish) throw new DraftError("kept_as_suggestion", verdict.message, "validate");
      this.checkAbort("validate");
    }
    if (options.dryRun) return { ...base, kind: "dry_run", repo: local ? null : source.recordName };

    // 7–8. branch + one commit (+ a draft PR where the source opens one)
    const branch = subject.gap ? branchName(subject.gap.gap.id, new Date(), "gap") : branchName(report.id);
    const trailer = subject.gap
      ? `PatchworkMCP-Gap: ${subject.gap.gap.id}\nPatchworkMCP-Report: ${report.id}`
      : `PatchworkMCP-Report: ${report.id}`;
    const published = await source.publish(
      {
        branch,
        message: `${this.redact(change.commitMessage)}\n\n${trailer}\n`,
        changes: change.changes,
        title: this.redact(change.title),
        // Notes and report fields join the model's text in the body: all of it inert.
        body: inertText(
          this.redact(
            prBody({
              modelBody: change.body,
              report,
              notes,
              reportUrl: options.reportUrl,
              provider: config.provider,
              model: config.model,
              files: files.map((f) => f.path),
              gap: subject.gap && {
                id: subject.gap.gap.id,
                total: subject.gap.gap.reports,
                reportIds: subject.gap.fitted.used.map((i) => i.report.id),
              },
              judgement: { confidence: change.confidence, rationale: change.rationale },
            }),
          ),
        ),
      },
      {
        step: (step, message) => this.step(step, message),
        detail: (step, message) => this.detail(step, message),
        onFailure: setCleanup,
      },
    );

    // 9. history
    // The work exists now: finish recording it even if the client has gone away.
    this.step("record", `Recording the draft on the ${subject.gap ? "gap and its reports" : "report"}`, false);
    const url = published.kind === "pull_request" ? published.url : null;
    let draft: Draft;
    try {
      const record = {
        kind: published.kind,
        url,
        number: published.kind === "pull_request" ? published.number : null,
        repo: source.recordName,
        branch,
        base_branch: source.baseBranch,
        commit_sha: published.commitSha,
        provider: config.provider,
        model: config.model,
        files: files.map((f) => f.path),
        title: base.title,
      };
      // A gap's draft is linked to the gap and to every report read as evidence (each report's page lists it).
      draft = subject.gap
        ? store.addDraft(report.id, record, {
            gapId: subject.gap.gap.id,
            reportIds: subject.gap.evidence.items.flatMap((i) => [i.report.id, ...i.duplicate_ids]),
          })
        : store.addDraft(report.id, record);
    } catch (err) {
      const made = url ? `the draft PR ${url}` : `branch ${branch}`;
      throw new DraftError(
        "record_failed",
        `${made} was made but could not be recorded on the ${subject.gap ? "gap" : "report"} (${err instanceof Error ? err.message : String(err)}).`,
        "record",
      );
    }
    const made = { ...base, repo: source.recordName, branch, commit_sha: published.commitSha, draft };
    return published.kind === "pull_request"
      ? { ...made, kind: "pull_request", url: published.url, number: published.number }
      : { ...made, kind: "local_commit" };
  }
}

/** Run the pipeline for one report. Never throws: the outcome (and the last event) says how it ended. */
export function runDraft(options: RunDraftOptions): Promise<DraftOutcome> {
  return new Run(options).run();
}
