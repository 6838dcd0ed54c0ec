/**
 * The fenced code blocks of README.md and docs/*.md, as markdown-it parses them,
 * for the tests that keep the docs runnable (see "Docs that run" at the end of
 * the README for the conventions).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import MarkdownIt from "markdown-it";
import { REPO_ROOT } from "../helpers/serve.js";

export interface CodeBlock {
  /** Repository-relative path of the Markdown file. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word (`sh`, `json`, …), lower-cased; "" when none. */
  lang: string;
  content: string;
  /** Preceded by `<!-- runnable -->`. */
  runnable: boolean;
}

/** The marker comment that makes the next fenced block a tested example. */
export const RUNNABLE_MARKER = /^<!--\s*runnable\s*-->$/;

const md = new MarkdownIt({ html: true });

export function docFiles(): string[] {
  const docs = readdirSync(join(REPO_ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`);
  return ["README.md", ...docs];
}

export function readDoc(file: string): string {
  return readFileSync(join(REPO_ROOT, file), "utf8");
}

export function codeBlocks(file: string): CodeBlock[] {
  const tokens = md.parse(readDoc(file), {});
  const blocks: CodeBlock[] = [];
  tokens.forEach((token, i) => {
    if (token.type !== "fence") return;
    const prev = tokens[i - 1];
    blocks.push({
      file,
      line: (token.map?.[0] ?? 0) + 1,
      lang: token.info.trim().split(/\s+/)[0]?.toLowerCase() ?? "",
      content: token.content,
      runnable: prev?.type === "html_block" && RUNNABLE_MARKER.test(prev.content.trim()),
    });
  });
  return blocks;
}

/** Every `<!-- runnable -->` marker in a file, by line, to catch one that marks nothing. */
export function runnableMarkers(file: string): number[] {
  return md
    .parse(readDoc(file), {})
    .filter((t) => t.type === "html_block" && RUNNABLE_MARKER.test(t.content.trim()))
    .map((t) => (t.map?.[0] ?? 0) + 1);
}

export function allBlocks(): CodeBlock[] {
  return docFiles().flatMap(codeBlocks);
}

/** JSON with `//` line comments and `/* *\/` block comments (a ```jsonc block) → JSON. */
export function stripJsonComments(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 1;
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * The JSON values of a block, in order: one for a ```json block, one or more for a
 * ```jsonc block (proxy.md shows a "before" and an "after" config in one block).
 * Throws a SyntaxError naming what does not parse.
 */
export function jsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    if (/\s/.test(c)) continue;
    if (start < 0) start = i;
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    if (depth === 0 && (c === "}" || c === "]")) {
      values.push(JSON.parse(text.slice(start, i + 1)));
      start = -1;
    }
  }
  if (start >= 0) values.push(JSON.parse(text.slice(start)));
  return values;
}
