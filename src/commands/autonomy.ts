/**
 * `patchworkmcp autonomy show|set|rollback`: the autonomy ladder from the
 * command line, on the database `serve` uses (the same settings and the same
 * rollback as `GET/PUT /api/servers/:name/autonomy` and
 * `POST /api/gaps/:id/draft/rollback`). Per-server values are stored data, so
 * they are flags only; --db and --json have their env vars.
 */
import { Option, type Command } from "commander";
import type { FeedbackStore } from "../store/index.js";
import { CliError, dbOption, parseList, parseYesNo, requireDbFile } from "./options.js";

async function openStore(path: string): Promise<FeedbackStore> {
  requireDbFile(path, false, { offerCreate: false });
  const { FeedbackStore } = await import("../store/index.js");
  return FeedbackStore.open(path);
}

const num = (v: string) => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) throw new Error(`"${v}" is not a number`);
  return n;
};
/** A path or a command that "none" clears. */
const orNone = (v: string) => (["none", "null", ""].includes(v.trim().toLowerCase()) ? null : v);

const jsonOption = () =>
  new Option("--json [yes|no]", "print JSON instead of text")
    .env("FEEDBACK_AUTONOMY_JSON")
    .preset("yes")
    .argParser(parseYesNo);

interface SetFlags {
  db: string;
  level?: string;
  minSessions?: number;
  minBlockedShare?: number;
  minScore?: number;
  maxDraftsPerDay?: number;
  confidenceThreshold?: number;
  maxFiles?: number;
  maxChangedLines?: number;
  allowedPaths?: string[];
  verifyCheckout?: string | null;
  verifyCommand?: string | null;
  verifyTimeout?: number;
  rollbackOnFailure?: boolean;
  json?: boolean;
}

function describe(name: string, c: Record<string, unknown>): string {
  const v = c.verification as { checkout: string | null; command: string | null; timeout_ms: number };
  return [
    `${name}: ${c.level}`,
    `  thresholds: ${c.min_sessions} sessions, ${c.min_blocked_share} blocked share, score ${c.min_score}; at most ${c.max_drafts_per_day} automatic drafts a day`,
    `  guardrails: confidence >= ${c.confidence_threshold}; at most ${c.max_files} files and ${c.max_changed_lines} changed lines; paths ${(c.allowed_paths as string[]).join(", ") || "any allowed by the draft settings"}`,
    `  verification: ${v.checkout && v.command ? `${JSON.stringify(v.command)} in a worktree of ${v.checkout}, timeout ${v.timeout_ms} ms` : "none"}`,
    `  rollback on failure: ${c.rollback_on_failure ? "yes" : "no"}`,
  ].join("\n");
}

export function registerAutonomy(program: Command): void {
  const autonomy = program
    .command("autonomy")
    .description("the autonomy ladder per server: suggest, draft, auto_draft, with guardrails; and draft rollback");

  autonomy
    .command("show")
    .description("a server's autonomy level and guardrails (every server that left the defaults without a name)")
    .argument("[server]", "the server name")
    .addOption(dbOption())
    .addOption(jsonOption())
    .action(async (server: string | undefined, flags: { db: string; json?: boolean }) => {
      const store = await openStore(flags.db);
      try {
        const { autonomyFor, listAutonomy } = await import("../settings/index.js");
        const rows = server
          ? [{ server_name: server, ...autonomyFor(store, server) }]
          : listAutonomy(store).map((r) => ({ ...r }));
        if (flags.json) process.stdout.write(`${JSON.stringify(server ? rows[0] : { servers: rows }, null, 2)}\n`);
        else if (rows.length === 0)
          process.stdout.write("Every server is at the default level (suggest: nothing automatic).\n");
        else
          for (const r of rows)
            process.stdout.write(`${describe(r.server_name, r as unknown as Record<string, unknown>)}\n`);
      } finally {
        store.close();
      }
    });

  autonomy
    .command("set")
    .description("change a server's autonomy level or guardrails (what is not given stays as it is)")
    .argument("<server>", "the server name")
    .addOption(dbOption())
    .addOption(
      new Option("--level <level>", "suggest, draft or auto_draft").choices(["suggest", "draft", "auto_draft"]),
    )
    .addOption(new Option("--min-sessions <n>", "distinct sessions a gap needs for an automatic draft").argParser(num))
    .addOption(new Option("--min-blocked-share <x>", "share of blocked reports (0-1) it needs").argParser(num))
    .addOption(new Option("--min-score <x>", "score it needs").argParser(num))
    .addOption(new Option("--max-drafts-per-day <k>", "automatic draft PRs per UTC day at most").argParser(num))
    .addOption(
      new Option(
        "--confidence-threshold <x>",
        "model confidence (0-1) under which a change is only suggested",
      ).argParser(num),
    )
    .addOption(new Option("--max-files <n>", "files an automatic draft may change").argParser(num))
    .addOption(new Option("--max-changed-lines <n>", "lines (added + removed) it may change").argParser(num))
    .addOption(
      new Option("--allowed-paths <globs>", 'path globs it may touch, comma-separated ("" = any)').argParser(parseList),
    )
    .addOption(
      new Option("--verify-checkout <path>", 'local git checkout to verify in ("none" clears)').argParser(orNone),
    )
    .addOption(new Option("--verify-command <command>", 'test command run there ("none" clears)').argParser(orNone))
    .addOption(new Option("--verify-timeout <ms>", "verification timeout in milliseconds").argParser(num))
    .addOption(
      new Option("--rollback-on-failure <yes|no>", "close and delete an automatic draft whose CI fails").argParser(
        parseYesNo,
      ),
    )
    .addOption(jsonOption())
    .action(async (server: string, flags: SetFlags) => {
      const { autonomyPatchSchema, autonomyFor, updateAutonomy } = await import("../settings/index.js");
      const verification = Object.fromEntries(
        Object.entries({
          checkout: flags.verifyCheckout,
          command: flags.verifyCommand,
          timeout_ms: flags.verifyTimeout,
        }).filter(([, v]) => v !== undefined),
      );
      const raw = Object.fromEntries(
        Object.entries({
          level: flags.level,
          min_sessions: flags.minSessions,
          min_blocked_share: flags.minBlockedShare,
          min_score: flags.minScore,
          max_drafts_per_day: flags.maxDraftsPerDay,
          confidence_threshold: flags.confidenceThreshold,
          max_files: flags.maxFiles,
          max_changed_lines: flags.maxChangedLines,
          allowed_paths: flags.allowedPaths,
          rollback_on_failure: flags.rollbackOnFailure,
          verification: Object.keys(verification).length > 0 ? verification : undefined,
        }).filter(([, v]) => v !== undefined),
      );
      if (Object.keys(raw).length === 0) throw new CliError("nothing_to_set", "give at least one setting to change.");
      const parsed = autonomyPatchSchema.safeParse(raw);
      if (!parsed.success) throw new CliError("invalid_setting", parsed.error.issues.map((i) => i.message).join("; "));
      const store = await openStore(flags.db);
      try {
        updateAutonomy(store, server, parsed.data);
        const now = autonomyFor(store, server);
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ server_name: server, ...now }, null, 2)}\n`
            : `${describe(server, now as unknown as Record<string, unknown>)}\n`,
        );
      } finally {
        store.close();
      }
    });

  autonomy
    .command("rollback")
    .description("close a gap's open draft PR and delete its branch on GitHub, in one action")
    .argument("<gap-id>", "the gap")
    .addOption(dbOption())
    .action(async (gapArg: string, flags: { db: string }) => {
      const gapId = Number(gapArg);
      if (!Number.isInteger(gapId) || gapId < 1)
        throw new CliError("invalid_id", `"${gapArg}" is not a gap id (a positive whole number).`);
      const store = await openStore(flags.db);
      try {
        const { autonomyOf } = await import("../store/index.js");
        if (!store.gaps.getGap(gapId)) throw new CliError("gap_not_found", `there is no gap ${gapId}.`);
        const draft = autonomyOf(store).openDraftOf(gapId);
        if (!draft) throw new CliError("no_open_draft", `gap ${gapId} has no open draft PR to roll back.`);
        const { DraftSettings } = await import("../settings/index.js");
        const { rollbackDraft } = await import("../draft/pull-control.js");
        const { DraftError } = await import("../draft/events.js");
        try {
          const r = await rollbackDraft({
            store,
            settings: new DraftSettings(store),
            gapId,
            draft,
            actor: "local",
            reason: "manual",
          });
          process.stdout.write(
            `Rolled back draft ${r.draft_id} (${r.url}): pull request ${r.pull_closed ? "closed" : "was already closed"}, branch ${r.branch_deleted ? "deleted" : "was already gone"}.\n`,
          );
        } catch (err) {
          if (err instanceof DraftError) throw new CliError(err.code, err.message);
          throw err;
        }
      } finally {
        store.close();
      }
    });
}
