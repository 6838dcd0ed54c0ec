/**
 * `patchworkmcp draft <id>`: draft a PR for one report from the terminal, with
 * the same pipeline as the dashboard and the `draft_pr` MCP tool. Progress goes
 * to stderr (an updating line on a TTY, plain lines otherwise); the result —
 * the PR URL, or the diff for --dry-run and local commits — goes to stdout.
 */
import { Option, type Command } from "commander";
import type { DraftEvent } from "../draft/index.js";
import { inertText } from "../draft/text.js";
import { gapUrl, reportUrl } from "../net/report-url.js";
import { contextTokensSchema, LLM_PROVIDERS, SETTINGS_ENV, type LlmProvider } from "../settings/schema.js";
import { dbOption, requireDbFile, switchOption } from "./options.js";
import { DEFAULT_SIDECAR_URL } from "../net/sidecar-address.js";

interface DraftFlags {
  db: string;
  gap?: number;
  dryRun?: boolean;
  repoPath?: string;
  provider?: LlmProvider;
  model?: string;
  repo?: string;
  baseBranch?: string;
  contextTokens?: number;
  publicUrl: string;
}

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Renders pipeline events on a stream: one updating line on a TTY, plain lines elsewhere. */
export class ProgressDisplay {
  private frame = 0;
  private current = "";
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean }) {}

  private get tty(): boolean {
    return Boolean(this.out.isTTY);
  }

  private draw(): void {
    this.out.write(`\r\x1b[2K${SPINNER[this.frame++ % SPINNER.length]} ${this.current}`);
  }

  private settle(mark: string): void {
    if (this.tty && this.current) this.out.write(`\r\x1b[2K${mark} ${this.current}\n`);
    this.current = "";
  }

  handle(raw: DraftEvent): void {
    // Messages can carry model or git text: no escape sequence of theirs reaches the terminal.
    const event = "message" in raw ? ({ ...raw, message: inertText(raw.message) } as DraftEvent) : raw;
    if (event.type === "step") {
      const line = `[${event.index}/${event.total}] ${event.message}`;
      if (this.tty) {
        this.settle("✓");
        this.current = line;
        this.draw();
        this.timer ??= setInterval(() => this.draw(), 100);
        this.timer.unref();
      } else this.out.write(`${line}\n`);
    } else if (event.type === "detail") {
      if (this.tty) {
        this.out.write(`\r\x1b[2K  ${event.message}\n`);
        this.draw();
      } else this.out.write(`    ${event.message}\n`);
    } else {
      this.stop(event.type === "done" ? "✓" : "✗");
      if (event.type === "error") this.out.write(`patchworkmcp: ${event.message} (${event.code})\n`);
    }
  }

  stop(mark = "✓"): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.settle(mark);
  }
}

function parseId(value: string, what = "report"): number {
  const text = value.replace(/^#/, "");
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n <= 0)
    throw new Error(`"${value}" is not a ${what} id (a positive whole number)`);
  return n;
}

function parseContextTokens(value: string): number {
  const parsed = contextTokensSchema.safeParse(Number(value));
  if (!parsed.success) throw new Error(`--context-tokens: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

export function registerDraft(program: Command): void {
  program
    .command("draft")
    .description(
      "draft a pull request (or, with --repo-path, a local branch and commit) for one report, or with --gap for a gap",
    )
    .argument("[id]", "report id (or use --gap)")
    .addOption(
      new Option("--gap <id>", "draft from this gap: all its reports are the evidence")
        .env("PATCHWORKMCP_DRAFT_GAP")
        .argParser((v) => parseId(v, "gap")),
    )
    .addOption(dbOption())
    .addOption(
      switchOption(
        "--dry-run",
        "stop after validation and print the unified diff; touch nothing",
        "PATCHWORKMCP_DRY_RUN",
      ),
    )
    .addOption(
      new Option(
        "--repo-path <dir>",
        "local mode: commit on a new branch in this git checkout instead of opening a PR",
      ).env("PATCHWORKMCP_REPO_PATH"),
    )
    .addOption(new Option("--provider <name>", "LLM provider").choices([...LLM_PROVIDERS]).env(SETTINGS_ENV.provider))
    .addOption(new Option("--model <id>", "model id (default: claude-sonnet-4-6 / gpt-5.4)").env(SETTINGS_ENV.model))
    .addOption(
      new Option("--repo <owner/name>", "GitHub repository to draft against (overrides the settings)").env(
        SETTINGS_ENV.repo,
      ),
    )
    .addOption(
      new Option(
        "--base-branch <branch>",
        "branch to base the draft on (default: the repo's default branch / the checked-out branch)",
      ).env(SETTINGS_ENV.base_branch),
    )
    .addOption(
      new Option("--context-tokens <n>", "the model's context window, for the file budget")
        .env(SETTINGS_ENV.context_tokens)
        .argParser(parseContextTokens),
    )
    .addOption(
      new Option("--public-url <url>", "the sidecar's address, for the PR body's link back to the report")
        .env("FEEDBACK_PUBLIC_URL")
        .default(DEFAULT_SIDECAR_URL),
    )
    .action(async (idText: string | undefined, flags: DraftFlags) => {
      if ((idText === undefined) === (flags.gap === undefined))
        throw new Error("give a report id or --gap <id> (exactly one)");
      const id = idText === undefined ? undefined : parseId(idText);
      // A missing file is a mistyped --db: refuse it like `mcp` does (an empty database has nothing to draft).
      requireDbFile(flags.db, false, { offerCreate: false });
      // The SDKs behind the pipeline, and SQLite, load only when a draft actually runs (keeps other verbs fast to start).
      const [{ runDraft }, { FeedbackStore }, { DraftSettings }] = await Promise.all([
        import("../draft/pipeline.js"),
        import("../store/index.js"),
        import("../settings/index.js"),
      ]);
      const store = FeedbackStore.open(flags.db);
      const display = new ProgressDisplay(process.stderr);
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        const outcome = await runDraft({
          store,
          settings: new DraftSettings(store),
          reportId: id,
          gapId: flags.gap,
          dryRun: flags.dryRun ?? false,
          repoPath: flags.repoPath,
          overrides: {
            provider: flags.provider,
            model: flags.model,
            repo: flags.repo,
            baseBranch: flags.baseBranch,
            contextTokens: flags.contextTokens,
          },
          signal: controller.signal,
          reportUrl: flags.gap !== undefined ? gapUrl(flags.publicUrl, flags.gap) : reportUrl(flags.publicUrl, id!),
          onEvent: (event) => display.handle(event),
        });
        if (!outcome.ok) {
          process.exitCode = 1;
          return;
        }
        const { result } = outcome;
        // The diff holds model-written file contents: no escape sequence of theirs reaches the terminal.
        switch (result.kind) {
          case "pull_request":
            process.stdout.write(`${inertText(result.url)}\n`);
            break;
          case "local_commit":
            process.stderr.write(
              inertText(
                `Created branch ${result.branch} (commit ${result.commit_sha}) in ${result.repo}; nothing was pushed.\n`,
              ),
            );
            process.stdout.write(inertText(result.diff));
            break;
          case "dry_run":
            process.stdout.write(inertText(result.diff));
            break;
        }
      } finally {
        display.stop();
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        store.close();
      }
    });
}
