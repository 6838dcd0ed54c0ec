/**
 * The draft pipeline, one implementation for the dashboard (SSE), the MCP
 * tool and the CLI: settings → read repo → select files → prompt → model →
 * validate (one retry that tells the model what failed) → branch + one
 * commit → draft PR → record on the report. Every step reports typed events;
 * the run ends with exactly one `done` or `error`. Secrets are redacted from
 * everything emitted and from everything sent to GitHub.
 */
import { randomBytes } from "node:crypto";
import type { Draft, FeedbackStore, Note, Report } from "../store/index.js";
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
import { buildUserPrompt, computeBudget, fixedPromptChars, SYSTEM_PROMPT } from "./prompt.js";
import { createModelClient, type ModelClient } from "./providers.js";
import { makeRedactor, makeSecretFinder, redactDeep, urlCredentials, type Redactor } from "./redact.js";
import { selectFiles } from "./select.js";
import { inertText } from "./text.js";
import { validateChangeSet, type ValidatedChangeSet } from "./validate.js";

export interface RunDraftOptions {
  store: FeedbackStore;
  settings: DraftSettings;
  reportId: number;
  dryRun?: boolean | undefined;
  /** Local mode: a git checkout to commit into instead of opening a PR. */
  repoPath?: string | undefined;
  overrides?: SettingsOverrides | undefined;
  signal?: AbortSignal | undefined;
  onEvent: (event: DraftEvent) => void;
  /** Where the report can be seen (for the PR body's link back). */
  reportUrl?: string | undefined;
}

export type DraftOutcome =
  | { ok: true; result: DraftResult }
  | { ok: false; error: { code: string; message: string; step: DraftStep | null } };

export function branchName(reportId: number, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
  return `patchworkmcp/report-${reportId}-${stamp}-${randomBytes(3).toString("hex")}`;
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
  notes: Note[];
  reportUrl: string | undefined;
  provider: string;
  model: string;
  files: string[];
}): string {
  const link = input.reportUrl
    ? `[feedback report #${input.report.id}](${input.reportUrl})`
    : `feedback report #${input.report.id}`;
  const notes =
    input.notes.length === 0
      ? "_No developer notes were used._"
      : `Developer notes used:\n\n${input.notes.map((n) => `${quoteLines(n.body)}\n>\n> — ${n.author ?? "maintainer"}, ${n.created_at}`).join("\n\n")}`;
  const body = [
    input.modelBody,
    "---",
    `Drafted by PatchworkMCP from ${link} about ${codeSpan(input.report.server_name)}${input.report.tool_name ? ` (tool ${codeSpan(input.report.tool_name)})` : ""}, with ${input.provider}/${input.model}. Review before merging: the report text came from an AI agent.`,
    notes,
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
    this.step("settings", "Loading the report and the draft settings");
    const report = store.getReport(options.reportId);
    if (!report) throw new DraftError("report_not_found", `There is no report ${options.reportId}.`, "settings");
    const notes = store.listNotes(report.id);
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
    this.detail(
      "settings",
      `Report #${report.id} on ${report.server_name}, ${notes.length} developer note${notes.length === 1 ? "" : "s"}; model ${config.provider}/${config.model}${options.dryRun ? "; dry run" : ""}`,
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
    const fixed = fixedPromptChars({
      report,
      notes,
      repoLabel: source.label,
      baseBranch: source.baseBranch,
      listingComplete: listing.complete,
      treeChars,
    });
    const fileBudget = Math.max(2_000, budget.promptChars - fixed);
    const selection = await selectFiles({
      entries: listing.entries,
      report,
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
          system: SYSTEM_PROMPT,
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
    if (options.dryRun) return { ...base, kind: "dry_run", repo: local ? null : source.recordName };

    // 7–8. branch + one commit (+ a draft PR where the source opens one)
    const branch = branchName(report.id);
    const published = await source.publish(
      {
        branch,
        message: `${this.redact(change.commitMessage)}\n\nPatchworkMCP-Report: ${report.id}\n`,
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
    this.step("record", "Recording the draft on the report", false);
    const url = published.kind === "pull_request" ? published.url : null;
    let draft: Draft;
    try {
      draft = store.addDraft(report.id, {
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
      });
    } catch (err) {
      const made = url ? `the draft PR ${url}` : `branch ${branch}`;
      throw new DraftError(
        "record_failed",
        `${made} was made but could not be recorded on the report (${err instanceof Error ? err.message : String(err)}).`,
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
