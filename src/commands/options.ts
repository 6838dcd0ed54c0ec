/**
 * Options shared by several verbs. Every flag has an env var and every env var
 * a flag (commander's `.env()`), so the README's table is the whole story.
 */
import { Option } from "commander";
import { statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { isPostgresUrl } from "../store/sql/db.js";
import { PRIVACY_MODES } from "../privacy/modes.js";
import { DEFAULT_SIDECAR_URL } from "../net/sidecar-address.js";

export const DEFAULT_DB_PATH = "./feedback.db";

/** A command-line mistake: a code a script can match and a sentence a person can act on. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "CliError";
  }
}

/**
 * Read a `--db` value: a SQLite file path, or a postgres:// (postgresql://) URL. Any other
 * database URL (mysql://, anything scheme://) or a SQLite URI (file:…?mode=…) would otherwise
 * become a file of that name, so it is refused. A plain file:///absolute/path URL is taken as
 * that path. Messages name the scheme only, never the value: URLs carry passwords.
 */
export function parseDbPath(value: string): string {
  if (value.trim() === "")
    throw new CliError(
      "db_path_empty",
      "--db (FEEDBACK_DB_PATH or FEEDBACK_DB_URL) is empty: give the path of a SQLite file or a postgres:// URL.",
    );
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme === "postgres" || scheme === "postgresql") {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new CliError("db_url_invalid", `--db is not a valid ${scheme}:// URL.`);
    }
    if (url.hostname === "" || url.pathname.replace(/^\//, "") === "")
      throw new CliError(
        "db_url_invalid",
        `--db is a ${scheme}:// URL without a host or a database name: use postgres://user:password@host:5432/database.`,
      );
    return value;
  }
  if (scheme === "file") {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (url && (url.host === "" || url.host === "localhost") && url.search === "" && url.hash === "")
      return fileURLToPath(url);
    throw new CliError(
      "db_url_unsupported",
      "--db takes a SQLite file path or a plain file:///absolute/path URL; file: URLs with a host, a query " +
        "(?mode=…) or a fragment are not supported.",
    );
  }
  if (scheme !== undefined)
    throw new CliError(
      "db_url_unsupported",
      `--db is a ${scheme}:// URL, but only SQLite files and postgres:// URLs are supported.`,
    );
  if (/^file:/i.test(value))
    throw new CliError(
      "db_url_unsupported",
      "--db looks like a SQLite URI (file:…), which this build does not open: give the plain path of the file.",
    );
  return value;
}

/**
 * `--db`: a SQLite file or a postgres:// URL. FEEDBACK_DB_PATH and FEEDBACK_DB_URL both set it
 * (the flag wins, then FEEDBACK_DB_PATH); the default is shown without the URL, which may hold a password.
 */
export const dbOption = () => {
  const fromUrl = process.env.FEEDBACK_DB_URL;
  const option = new Option(
    "--db <path-or-url>",
    "SQLite database file, or postgres://user:pass@host/db (FEEDBACK_DB_URL)",
  )
    .env("FEEDBACK_DB_PATH")
    .argParser(parseDbPath);
  return fromUrl !== undefined && fromUrl !== ""
    ? option.default(parseDbPath(fromUrl), "$FEEDBACK_DB_URL")
    : option.default(DEFAULT_DB_PATH);
};

/** For verbs that only read a database another process writes: an absent file is a mistake, unless asked for. */
export const dbCreateOption = () =>
  switchOption("--create", "create the database if the --db file does not exist", "FEEDBACK_DB_CREATE");

/**
 * Refuse a database path that does not exist (or is not a file) unless
 * `create` is set: opening it would make an empty database, and a verb reading
 * it would answer "no reports" (or administer keys nothing uses) instead of
 * saying the path is wrong. Every verb that reads or administers an existing
 * database calls this; `offerCreate: false` for verbs without `--create`
 * (nothing to do on an empty database), so the message offers only what works.
 */
export function requireDbFile(path: string, create: boolean, options: { offerCreate?: boolean } = {}): void {
  // A PostgreSQL database is checked by connecting to it (FeedbackStore.open says what is wrong).
  if (isPostgresUrl(path)) return;
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    if (create) return;
    throw new CliError(
      "db_not_found",
      `there is no database at ${path}. Point --db (FEEDBACK_DB_PATH) at the file \`patchworkmcp serve\` writes` +
        (options.offerCreate === false ? "." : ", or pass --create (FEEDBACK_DB_CREATE=1) to start an empty one."),
    );
  }
  if (!isFile) throw new CliError("db_not_a_file", `${path} is not a file: --db takes the path of a SQLite file.`);
}

export const apiKeyOption = () =>
  new Option("--api-key <key>", "API key: for serve, the all-scopes key; for clients, the key to send").env(
    "FEEDBACK_API_KEY",
  );

export const sidecarUrlOption = () =>
  new Option("--sidecar-url <url>", "where to send feedback").env("FEEDBACK_SIDECAR_URL").default(DEFAULT_SIDECAR_URL);

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`"${value}" is not a port number (0-65535)`);
  return n;
}

/** A number ≥ 0 (fractions allowed, e.g. 0.5 a second). */
export function parseNonNegative(value: string): number {
  const n = Number(value.trim());
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new Error(`"${value}" is not a number of 0 or more`);
  return n;
}

/** A whole number ≥ 1. */
export function parsePositiveInt(value: string): number {
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < 1) throw new Error(`"${value}" is not a whole number of 1 or more`);
  return n;
}

const BYTE_UNITS: Record<string, number> = { "": 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A size in bytes: `52428800`, `50mb`, `512kb`, `1.5gb` (1 KB = 1024 bytes). */
export function parseBytes(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?b?)\s*$/i.exec(value);
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`"${value}" is not a size (like 52428800, 512kb, 50mb or 1gb)`);
  return Math.floor(Number(m[1]) * unit);
}

export function parseList(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Read yes/no, 1/0, true/false, on/off (an empty value counts as no). */
export function parseYesNo(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["", "0", "false", "no", "off"].includes(v)) return false;
  throw new Error(`"${value}" is not yes or no (1/0, true/false also work)`);
}

/**
 * A boolean flag with an env var. commander treats any defined env var as "on"
 * for a plain boolean flag, so `FOO=0` would switch it on; this takes an
 * optional yes/no value instead (`--flag` alone means yes).
 */
export const switchOption = (flags: string, description: string, env: string) =>
  new Option(`${flags} [yes|no]`, description).env(env).preset("yes").argParser(parseYesNo);

/**
 * `--privacy <mode>` / FEEDBACK_PRIVACY: the default privacy mode of this process (servers with
 * an override of their own keep it). Unset: the saved default, else secrets+pii.
 */
export function privacyOption(): Option {
  return new Option(
    "--privacy <mode>",
    "default privacy mode for servers without their own: off, secrets or secrets+pii (unset: the saved default, else secrets+pii)",
  )
    .env("FEEDBACK_PRIVACY")
    .choices(PRIVACY_MODES);
}
