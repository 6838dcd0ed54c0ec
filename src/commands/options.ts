/**
 * Options shared by several verbs. Every flag has an env var and every env var
 * a flag (commander's `.env()`), so the README's table is the whole story.
 */
import { Option } from "commander";

export const DEFAULT_DB_PATH = "./feedback.db";
export const DEFAULT_PORT = 8099;

export const dbOption = () =>
  new Option("--db <path>", "SQLite database file").env("FEEDBACK_DB_PATH").default(DEFAULT_DB_PATH);

export const apiKeyOption = () =>
  new Option("--api-key <key>", "API key: for serve, the all-scopes key; for clients, the key to send").env(
    "FEEDBACK_API_KEY",
  );

export const sidecarUrlOption = () =>
  new Option("--sidecar-url <url>", "where to send feedback")
    .env("FEEDBACK_SIDECAR_URL")
    .default("http://localhost:8099");

export function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`"${value}" is not a port number (0-65535)`);
  return n;
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
