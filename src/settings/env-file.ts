/**
 * The `.env` file that holds secrets beside the database. Written atomically
 * with mode 0600. Values are double-quoted with `\` and `"` escaped, and
 * control characters (newlines included) are refused outright, so no value
 * can end its line early and smuggle in another variable. Lines we do not
 * own (comments, other variables) are kept as they were.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";

const CONTROL = /[\u0000-\u001f\u007f]/;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class EnvFileError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "EnvFileError";
  }
}

/** Why a value cannot be stored, or undefined when it can. */
export function envValueProblem(value: string): string | undefined {
  if (CONTROL.test(value)) return "must not contain control characters (newlines, tabs, NUL…)";
  if (value.length > 8192) return "must be at most 8192 characters";
  return undefined;
}

export function quoteEnvValue(value: string): string {
  const problem = envValueProblem(value);
  if (problem) throw new EnvFileError("invalid_value", `A .env value ${problem}.`);
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function unquote(raw: string): string {
  const v = raw.trim();
  if (v.startsWith('"')) {
    let out = "";
    for (let i = 1; i < v.length; i++) {
      const c = v[i]!;
      if (c === "\\" && i + 1 < v.length) {
        const n = v[++i]!;
        out += n === "n" ? "\n" : n;
      } else if (c === '"') return out;
      else out += c;
    }
    return out;
  }
  if (v.startsWith("'")) {
    const end = v.indexOf("'", 1);
    return end === -1 ? v.slice(1) : v.slice(1, end);
  }
  const hash = v.search(/\s#/);
  return (hash === -1 ? v : v.slice(0, hash)).trim();
}

interface Line {
  raw: string;
  key?: string;
}

function parseLines(text: string): Line[] {
  return text.split(/\r?\n/).map((raw) => {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(raw);
    return m ? { raw, key: m[1]! } : { raw };
  });
}

export function parseEnv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of parseLines(text)) {
    if (!line.key) continue;
    out.set(line.key, unquote(line.raw.slice(line.raw.indexOf("=") + 1)));
  }
  return out;
}

export function readEnvFile(path: string): Map<string, string> {
  try {
    return parseEnv(readFileSync(path, "utf8"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return new Map();
    throw err;
  }
}

/**
 * Set (string) or remove (null) variables, keeping every other line. The new
 * file is written beside the old one with mode 0600, fsynced, then renamed
 * over it, so a crash leaves either the old or the new file, never half.
 */
export function updateEnvFile(path: string, changes: Record<string, string | null>): void {
  for (const key of Object.keys(changes)) {
    if (!KEY.test(key)) throw new EnvFileError("invalid_key", `"${key}" is not a valid variable name.`);
  }
  let existing = "";
  try {
    existing = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const pending = new Map(Object.entries(changes));
  const lines: string[] = [];
  for (const line of parseLines(existing)) {
    if (line.key !== undefined && Object.hasOwn(changes, line.key)) {
      // The first occurrence is replaced in place; later duplicates are dropped so they cannot win.
      const value = pending.get(line.key);
      if (pending.delete(line.key) && value !== null && value !== undefined)
        lines.push(`${line.key}=${quoteEnvValue(value)}`);
      continue;
    }
    lines.push(line.raw);
  }
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  for (const [key, value] of pending) if (value !== null) lines.push(`${key}=${quoteEnvValue(value)}`);
  const text = lines.length ? `${lines.join("\n")}\n` : "";

  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  chmodSync(path, 0o600);
}
