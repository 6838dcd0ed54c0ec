/**
 * The `.env` file that holds secrets beside the database. Written atomically
 * with mode 0600. Lines we do not own (comments, other variables) are kept as
 * they were.
 *
 * People `set -a; . ./.env` from a shell as often as a dotenv library reads
 * it, so a value is written the way a POSIX shell takes it literally: in
 * single quotes (nothing expands inside them, `$(…)` and backticks included),
 * a `'` in the value spelled `'\''`. Single quotes are also literal to
 * dotenv-style readers (npm dotenv, Node's `util.parseEnv`, python-dotenv,
 * docker compose), so any value without a `'` reads back the same everywhere;
 * a value that does contain one is double-quoted when nothing in it is
 * special to a shell, and otherwise left to shells and our own parser.
 * Control characters and every line break (\n, \r, NEL, U+2028, U+2029) are
 * refused outright, so no value can end its line early and smuggle in another
 * variable, and none is stored that a line-based reader cannot find again.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";

/** C0 and C1 controls (NUL, tab, CR, LF, NEL…), DEL, and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/** In a `u` regex a surrogate pair is one code point, so this matches only a lone half. */
const LONE_SURROGATE = /\p{Cs}/u;
const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Characters a shell treats specially inside double quotes. */
const DOUBLE_QUOTE_SPECIAL = /["$`\\!]/;

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
  if (CONTROL.test(value))
    return "must not contain control characters or line breaks (newlines, tabs, NUL, U+2028, U+2029…)";
  if (LONE_SURROGATE.test(value)) return "must be valid Unicode text (it contains a lone surrogate)";
  if (value.length > 8192) return "must be at most 8192 characters";
  return undefined;
}

export function quoteEnvValue(value: string): string {
  const problem = envValueProblem(value);
  if (problem) throw new EnvFileError("invalid_value", `A .env value ${problem}.`);
  if (!value.includes("'")) return `'${value}'`;
  if (!DOUBLE_QUOTE_SPECIAL.test(value)) return `"${value}"`;
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/**
 * The value part of `KEY=…`, read as a shell word: '…' literal, "…" with
 * backslash escapes (what earlier versions wrote), \x outside quotes, segments
 * concatenated; unquoted whitespace ends it (a comment may follow). A value
 * that starts unquoted keeps the dotenv reading: everything up to ` #`, trimmed.
 */
function unquote(raw: string): string {
  const v = raw.trim();
  if (!v.startsWith('"') && !v.startsWith("'")) {
    const hash = v.search(/\s#/);
    return (hash === -1 ? v : v.slice(0, hash)).trim();
  }
  let out = "";
  let i = 0;
  while (i < v.length) {
    const c = v[i]!;
    if (c === "'") {
      const end = v.indexOf("'", i + 1);
      if (end === -1) return out + v.slice(i + 1);
      out += v.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < v.length && v[i] !== '"') {
        if (v[i] === "\\" && i + 1 < v.length) {
          const n = v[i + 1]!;
          out += n === "n" ? "\n" : n;
          i += 2;
        } else out += v[i++];
      }
      i++; // the closing quote
    } else if (c === "\\" && i + 1 < v.length) {
      out += v[i + 1];
      i += 2;
    } else if (/\s/.test(c)) {
      break;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

interface Line {
  raw: string;
  key?: string;
}

function parseLines(text: string): Line[] {
  return text.split(/\r?\n/).map((raw) => {
    // `s`: a value holding U+2028/U+2029 (which `.` does not match) is still this key's line.
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/s.exec(raw);
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
