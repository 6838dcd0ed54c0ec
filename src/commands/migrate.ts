/**
 * `patchworkmcp migrate --from ./feedback.db --to postgres://…`: copy a SQLite database into
 * PostgreSQL (src/store/copy.ts does the work). Progress goes to stderr, the final row counts
 * to stdout; any count that differs is an error. URLs are shown without their password.
 */
import { Option, type Command } from "commander";
import type { CopyProgress, TableCount } from "../store/copy.js";
import { displayLocation, isPostgresUrl } from "../store/sql/db.js";
import { CliError, parseDbPath, requireDbFile } from "./options.js";

const MAX_BATCH = 100_000;

function parseBatch(value: string): number {
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < 1 || n > MAX_BATCH)
    throw new Error(`"${value}" is not a whole number from 1 to ${MAX_BATCH}`);
  return n;
}

interface MigrateFlags {
  from?: string;
  to?: string;
  batch: number;
}

function countTable(counts: TableCount[]): string {
  const width = Math.max(5, ...counts.map((c) => c.table.length));
  const lines = [`${"table".padEnd(width)}  ${"sqlite".padStart(10)}  ${"postgres".padStart(10)}`];
  for (const c of counts)
    lines.push(
      `${c.table.padEnd(width)}  ${String(c.source).padStart(10)}  ${String(c.target).padStart(10)}${c.source === c.target ? "" : "  DIFFERENT"}`,
    );
  return `${lines.join("\n")}\n`;
}

export function registerMigrate(program: Command): void {
  program
    .command("migrate")
    .description(
      "copy a SQLite database (reports, notes, drafts, gaps and their history, keys, settings) into PostgreSQL",
    )
    .addOption(
      new Option("--from <path>", "the SQLite file to copy (opened read-only, never changed)")
        .env("FEEDBACK_MIGRATE_FROM")
        .argParser(parseDbPath),
    )
    .addOption(
      new Option("--to <url>", "the PostgreSQL database: postgres://user:pass@host/db (its schema is created)")
        .env("FEEDBACK_MIGRATE_TO")
        .argParser(parseDbPath),
    )
    .addOption(
      new Option("--batch <rows>", "rows copied per transaction")
        .env("FEEDBACK_MIGRATE_BATCH")
        .default(2000)
        .argParser(parseBatch),
    )
    .action(async (flags: MigrateFlags) => {
      if (!flags.from)
        throw new CliError(
          "migrate_from_missing",
          "migrate needs --from (FEEDBACK_MIGRATE_FROM): the SQLite file to copy.",
        );
      if (!flags.to)
        throw new CliError(
          "migrate_to_missing",
          "migrate needs --to (FEEDBACK_MIGRATE_TO): the postgres:// URL of the database to copy into.",
        );
      if (isPostgresUrl(flags.from))
        throw new CliError("migrate_source_not_sqlite", "--from takes the path of a SQLite file, not a database URL.");
      if (!isPostgresUrl(flags.to))
        throw new CliError(
          "migrate_target_not_postgres",
          "--to takes a postgres:// URL: migrate copies a SQLite file into PostgreSQL.",
        );
      requireDbFile(flags.from, false, { offerCreate: false });
      const { copySqliteToPostgres, countMismatches } = await import("../store/copy.js");
      const err = (line: string) => process.stderr.write(`${line}\n`);
      err(`Copying ${flags.from} into ${displayLocation(flags.to)} (${flags.batch} rows per transaction).`);
      const progress = (p: CopyProgress) =>
        err(
          p.phase === "check"
            ? `checking ${p.table}: ${p.done}/${p.total} rows compared with the target`
            : `${p.table}: ${p.done}/${p.total} rows${p.inserted < p.done ? ` (${p.inserted} new, the rest already there)` : ""}`,
        );
      const result = copySqliteToPostgres({ from: flags.from, to: flags.to, batch: flags.batch, onProgress: progress });
      process.stdout.write(countTable(result.counts));
      const bad = countMismatches(result.counts);
      if (bad.length > 0)
        throw new CliError(
          "migrate_count_mismatch",
          `after the copy, ${bad.map((c) => `${c.table} has ${c.source} rows in SQLite and ${c.target} in PostgreSQL`).join("; ")}. ` +
            "Something else wrote to the target during the copy: stop it, and migrate into an empty database.",
        );
      err(
        `Done: ${result.inserted} rows copied, every table's row count matches. Point --db (FEEDBACK_DB_URL) at ${result.target} to use it.`,
      );
    });
}
