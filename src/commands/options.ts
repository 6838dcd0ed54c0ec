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
