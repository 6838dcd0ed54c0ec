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
  new Option("--api-key <key>", "API key: for serve, the all-scopes key; for clients, the key to send").env("FEEDBACK_API_KEY");

export const sidecarUrlOption = () =>
  new Option("--sidecar-url <url>", "where to send feedback").env("FEEDBACK_SIDECAR_URL").default("http://localhost:8099");

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
