/** `patchworkmcp gaps list|show|regroup`: the ranked gaps from the command line, and the grouping pass. */
import { Option, type Command } from "commander";
import type { FeedbackStore, Gap } from "../store/index.js";
import { LLM_PROVIDERS, SETTINGS_ENV, type LlmProvider } from "../settings/schema.js";
import { dbOption, parseYesNo, requireDbFile } from "./options.js";

/** Open an existing database: a missing file is a mistyped --db (an empty one has no gaps), refused like `mcp`. */
async function openStore(path: string): Promise<FeedbackStore> {
  requireDbFile(path, false, { offerCreate: false });
  const { FeedbackStore } = await import("../store/index.js");
  return FeedbackStore.open(path);
}

/** Agent text on a terminal: control characters (escape sequences included) shown as escapes. */
async function clean(text: string): Promise<string> {
  const { escapeControl } = await import("../mcp/markdown.js");
  return escapeControl(text);
}

function positiveInt(name: string, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name} must be a whole number from 1 to ${max}`);
    return n;
  };
}

const jsonOption = () =>
  new Option("--json [yes|no]", "print JSON instead of text")
    .env("FEEDBACK_GAPS_JSON")
    .preset("yes")
    .argParser(parseYesNo);

async function gapLine(g: Gap): Promise<string> {
  return [
    `#${g.id}`,
    g.score.toFixed(2),
    `${g.reports} reports`,
    `${g.sessions} sessions`,
    `${Math.round(g.blocked_share * 100)}% blocked`,
    g.status + (g.regressed ? " (regressed)" : "") + (g.needs_review ? " (needs review)" : ""),
    await clean(g.server_name),
    g.tool_name ? await clean(g.tool_name) : "-",
    await clean(g.title),
  ].join("\t");
}

interface ListFlags {
  db: string;
  serverName?: string;
  status?: string;
  toolName?: string;
  sort?: string;
  limit?: number;
  json?: boolean;
}

export function registerGaps(program: Command): void {
  const gaps = program
    .command("gaps")
    .description("list, show and regroup gaps (reports grouped by missing capability)");

  gaps
    .command("list")
    .description(
      "the gaps, highest score first (tab-separated: id, score, reports, sessions, blocked, status, server, tool, title)",
    )
    .addOption(dbOption())
    .addOption(new Option("--server-name <name>", "only this server").env("FEEDBACK_GAPS_SERVER"))
    .addOption(
      new Option("--status <status>", "only this status")
        .choices(["open", "planned", "fixed", "wontfix", "duplicate"])
        .env("FEEDBACK_GAPS_STATUS"),
    )
    .addOption(new Option("--tool-name <tool>", "only gaps with reports about this tool").env("FEEDBACK_GAPS_TOOL"))
    .addOption(
      new Option("--sort <by>", "score, reports or last_seen")
        .choices(["score", "reports", "last_seen"])
        .env("FEEDBACK_GAPS_SORT"),
    )
    .addOption(
      new Option("--limit <n>", "how many gaps (at most 200)")
        .env("FEEDBACK_GAPS_LIMIT")
        .argParser(positiveInt("--limit", 200)),
    )
    .addOption(jsonOption())
    .action(async (flags: ListFlags) => {
      const store = await openStore(flags.db);
      try {
        const { gapFilterSchema } = await import("../store/index.js");
        const filter = gapFilterSchema.parse({
          server_name: flags.serverName,
          status: flags.status,
          tool_name: flags.toolName,
        });
        const page = store.gaps.listGaps(filter, {
          sort: flags.sort as "score" | "reports" | "last_seen" | undefined,
          limit: flags.limit,
        });
        if (flags.json) process.stdout.write(`${JSON.stringify(page.items, null, 2)}\n`);
        else for (const g of page.items) process.stdout.write(`${await gapLine(g)}\n`);
        const p = store.gaps.progress();
        if (p.mode !== "idle")
          process.stderr.write(`Grouping ${p.mode} in progress: ${p.done} of ${p.total} reports done.\n`);
      } finally {
        store.close();
      }
    });

  gaps
    .command("show <id>")
    .description("one gap: score formula, counts, suggestions, timeline, newest reports and history")
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (idText: string, flags: { db: string; json?: boolean }) => {
      const id = positiveInt("the gap id", Number.MAX_SAFE_INTEGER)(idText.replace(/^#/, ""));
      const store = await openStore(flags.db);
      try {
        const { gapDetail } = await import("../gaps/detail.js");
        const detail = gapDetail(store, id, { limit: 20 });
        if (!detail) throw new Error(`there is no gap ${id}`);
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(detail, null, 2)}\n`);
          return;
        }
        const { renderGap } = await import("../mcp/gap-markdown.js");
        // renderGap keeps agent text in code spans and fences with control characters escaped: safe on a terminal.
        process.stdout.write(renderGap(detail));
      } finally {
        store.close();
      }
    });

  gaps
    .command("analyze <id>")
    .alias("analyse")
    .description(
      "ask the configured LLM for the gap's title, what agents needed and the proposed change (needs gap analysis on " +
        "in the settings; cached on the gap: a fresh analysis is printed without asking again unless --force)",
    )
    .addOption(dbOption())
    .addOption(
      new Option("--force [yes|no]", "re-run even when the cached analysis is fresh")
        .env("PATCHWORKMCP_GAP_ANALYSIS_FORCE")
        .preset("yes")
        .argParser(parseYesNo),
    )
    .addOption(new Option("--provider <name>", "LLM provider").choices([...LLM_PROVIDERS]).env(SETTINGS_ENV.provider))
    .addOption(new Option("--model <id>", "model id").env(SETTINGS_ENV.model))
    .addOption(jsonOption())
    .action(
      async (
        idText: string,
        flags: { db: string; force?: boolean; provider?: LlmProvider; model?: string; json?: boolean },
      ) => {
        const id = positiveInt("the gap id", Number.MAX_SAFE_INTEGER)(idText.replace(/^#/, ""));
        const store = await openStore(flags.db);
        const [{ analyzeGap, GapAnalysisError }, { DraftSettings }] = await Promise.all([
          import("../draft/gap-analysis.js"),
          import("../settings/index.js"),
        ]);
        const controller = new AbortController();
        const onSignal = () => controller.abort();
        process.once("SIGINT", onSignal);
        try {
          const { analysis, cached } = await analyzeGap({
            store,
            settings: new DraftSettings(store),
            gapId: id,
            actor: "local",
            force: flags.force ?? false,
            provider: flags.provider,
            model: flags.model,
            signal: controller.signal,
          });
          if (flags.json) {
            process.stdout.write(`${JSON.stringify({ gap_id: id, cached, analysis }, null, 2)}\n`);
            return;
          }
          const { renderAnalysis } = await import("../mcp/gap-markdown.js");
          const gap = store.gaps.getGap(id)!;
          // renderAnalysis keeps model text in code spans and fences with control characters escaped.
          process.stdout.write(
            `${renderAnalysis({ ...gap, analysis })
              .join("\n")
              .trimEnd()}\n`,
          );
          if (cached) process.stderr.write("(cached analysis; --force re-runs it)\n");
        } catch (err) {
          if (!(err instanceof GapAnalysisError)) throw err;
          process.stderr.write(`patchworkmcp: ${await clean(err.message)} (${err.code})\n`);
          process.exitCode = 1;
        } finally {
          process.off("SIGINT", onSignal);
          store.close();
        }
      },
    );

  gaps
    .command("regroup")
    .description(
      "group reports into gaps: resumes an interrupted backfill or regroup, otherwise regroups every report " +
        "(human merges, splits and moves are kept); progress on stderr",
    )
    .addOption(dbOption())
    .addOption(
      new Option("--batch-size <n>", "reports per transaction")
        .env("FEEDBACK_REGROUP_BATCH")
        .default(2000)
        .argParser(positiveInt("--batch-size", 100_000)),
    )
    .action(async (flags: { db: string; batchSize: number }) => {
      const store = await openStore(flags.db);
      try {
        let p = store.gaps.progress();
        if (p.mode === "idle") p = store.gaps.startRegroup();
        else process.stderr.write(`Resuming the ${p.mode} pass at ${p.done} of ${p.total} reports.\n`);
        const started = Date.now();
        p = store.gaps.runPending({
          batchSize: flags.batchSize,
          onProgress: (q) =>
            process.stderr.write(`grouping ${q.mode === "idle" ? "done" : q.mode}: ${q.done} of ${q.total}\n`),
        });
        const n = store.gaps.countGaps();
        process.stderr.write(
          `Grouped ${p.done} reports into ${n} gaps in ${((Date.now() - started) / 1000).toFixed(1)} s.\n`,
        );
      } finally {
        store.close();
      }
    });
}
