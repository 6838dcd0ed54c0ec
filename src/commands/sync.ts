/**
 * `patchworkmcp sync`: read every gap's GitHub issue once and pull its state
 * back into the gap's status (src/draft/issue-sync.ts). Prints one line per
 * change on stdout (or JSON with --json); exits 1 when an issue could not be
 * read, so a cron job notices.
 */
import { Option, type Command } from "commander";
import type { FeedbackStore } from "../store/index.js";
import { dbOption, parseYesNo, requireDbFile } from "./options.js";

export function registerSync(program: Command): void {
  program
    .command("sync")
    .description(
      "pull the state of the gaps' GitHub issues back into their status (closed → fixed/wontfix, reopened → open)",
    )
    .addOption(dbOption())
    .addOption(
      new Option("--json [yes|no]", "print JSON instead of text")
        .env("FEEDBACK_SYNC_JSON")
        .preset("yes")
        .argParser(parseYesNo),
    )
    .action(async (flags: { db: string; json?: boolean }) => {
      requireDbFile(flags.db, false, { offerCreate: false });
      const [{ FeedbackStore }, { DraftSettings }, { syncIssues }, { escapeControl }] = await Promise.all([
        import("../store/index.js"),
        import("../settings/index.js"),
        import("../draft/issue-sync.js"),
        import("../mcp/markdown.js"),
      ]);
      const store: FeedbackStore = FeedbackStore.open(flags.db);
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once("SIGINT", onSignal);
      try {
        // The CLI acts for the person running it: its history rows say "local", as the other CLI verbs' do.
        const result = await syncIssues({
          store,
          settings: new DraftSettings(store),
          actor: "local",
          signal: controller.signal,
        });
        const errors = result.items.filter((i) => i.outcome === "error");
        if (flags.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          for (const i of result.items) {
            const where = `gap ${i.gap_id} (${i.repo}#${i.number}${i.state ? ` ${i.state}` : ""})`;
            const line =
              i.outcome === "changed"
                ? `${where}: ${i.from} → ${i.to}`
                : i.outcome === "kept"
                  ? `${where}: kept ${i.from} (a person set it after the issue changed)`
                  : i.outcome === "error"
                    ? `${where}: ${i.error?.code}: ${i.error?.message}`
                    : `${where}: ${i.outcome}`;
            process.stdout.write(`${escapeControl(line)}\n`);
          }
          const changed = result.items.filter((i) => i.outcome === "changed").length;
          process.stderr.write(
            `patchworkmcp: checked ${result.checked} issue${result.checked === 1 ? "" : "s"}, ${changed} gap status${changed === 1 ? "" : "es"} changed${errors.length ? `, ${errors.length} failed` : ""}\n`,
          );
        }
        if (errors.length > 0) process.exitCode = 1;
      } finally {
        process.off("SIGINT", onSignal);
        store.close();
      }
    });
}
