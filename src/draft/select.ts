/**
 * Pick the files the model sees. Paths are scored for MCP-ness, the server
 * name and the tool names; then the most promising files are read and scored
 * again on their CONTENTS (tool names, words of the report), because the
 * file that registers a tool is rarely named after it. The winners are fitted
 * into a character budget; files that do not fit whole are cut (and the model
 * is told which), files that do not fit at all are listed as omitted.
 */
import type { Report } from "../store/index.js";
import { isSecretFile } from "./paths.js";
import type { RepoEntry } from "./repo.js";

export const SKIP_DIRS: ReadonlySet<string> = new Set([
  "node_modules",
  "vendor",
  "dist",
  "build",
  "out",
  "target",
  ".git",
  "__pycache__",
  ".venv",
  "venv",
  "coverage",
  ".next",
  ".turbo",
  ".cache",
]);

const LOCKFILES = new Set([
  "package-lock.json",
  "yarn.lock",
  "pnpm-lock.yaml",
  "cargo.lock",
  "go.sum",
  "poetry.lock",
  "uv.lock",
  "composer.lock",
  "gemfile.lock",
  "bun.lockb",
]);
const BINARY_EXT =
  /\.(png|jpe?g|gif|webp|ico|bmp|pdf|zip|gz|tgz|bz2|xz|7z|jar|war|class|so|dylib|dll|exe|bin|wasm|woff2?|ttf|otf|eot|mp[34]|mov|avi|webm|sqlite|db|pyc)$/i;
const SOURCE_EXT =
  /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs|py|go|rs|java|kt|rb|cs|swift|php|scala|ex|exs|clj|c|cc|cpp|h|hpp)$/i;
const MANIFEST =
  /(^|\/)(package\.json|pyproject\.toml|setup\.py|cargo\.toml|go\.mod|pom\.xml|build\.gradle(\.kts)?|gemfile)$/i;
const DOC = /(^|\/)(readme|contributing)(\.[a-z]+)?$/i;
const TEST = /(^|\/)(tests?|__tests__|spec)(\/|$)|\.(test|spec)\.[a-z]+$|_test\.(go|py)$/i;

const STOP_WORDS = new Set(
  "the and for with that this from have has had was were are but not you your they them their there then than into onto about after before when what which while would could should can cannot did does doing done just like also only some such very more most other over under again any all each both few own same too out off its it's i'm i've tool tools needed tried wanted want need agent user server data value values return returns using used use make made get got call called".split(
    " ",
  ),
);

export const MAX_FILE_BYTES = 300_000;
const MAX_CONTENT_PROBES = 60;
const MAX_SELECTED = 25;
const MIN_PARTIAL = 1_500;

export function isCandidate(entry: RepoEntry): boolean {
  // Secrets a repository should not contain but sometimes does (.env, keys, credentials) never go to the model.
  if (isSecretFile(entry.path)) return false;
  const segments = entry.path.split("/");
  if (segments.slice(0, -1).some((s) => SKIP_DIRS.has(s))) return false;
  const name = segments[segments.length - 1]!.toLowerCase();
  if (LOCKFILES.has(name) || BINARY_EXT.test(name) || /\.min\.(js|css)$/.test(name) || name.endsWith(".map"))
    return false;
  return entry.size <= MAX_FILE_BYTES;
}

/** Distinct lower-case words (≥ 4 letters, not stop words) of the report's free text. */
export function reportKeywords(report: Report): string[] {
  const text = [report.what_i_needed, report.what_i_tried, report.suggestion ?? "", report.user_goal ?? ""].join(" ");
  const words = text.toLowerCase().match(/[a-z][a-z0-9_]{3,}/g) ?? [];
  return [...new Set(words.filter((w) => !STOP_WORDS.has(w)))].slice(0, 40);
}

function nameTokens(name: string): string[] {
  return name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length >= 3 && t !== "mcp" && t !== "server");
}

export interface SelectionInput {
  entries: RepoEntry[];
  report: Report;
  read(path: string): Promise<string | undefined>;
  budgetChars: number;
}

export interface SelectedFile {
  path: string;
  content: string;
  /** True when only the first part of the file is included. */
  truncated: boolean;
  totalChars: number;
  score: number;
}

export interface Selection {
  files: SelectedFile[];
  /** Relevant files left out entirely for lack of budget. */
  omitted: string[];
  usedChars: number;
}

function pathScore(path: string, serverTokens: string[], tools: string[]): number {
  const lower = path.toLowerCase();
  let score = 0;
  if (lower.includes("mcp")) score += 3;
  for (const t of serverTokens) if (lower.includes(t)) score += 2;
  for (const tool of tools) {
    const t = tool.toLowerCase();
    if (t.length >= 3 && (lower.includes(t) || lower.includes(t.replace(/_/g, "-")))) score += 4;
  }
  if (SOURCE_EXT.test(lower)) score += 2;
  else if (MANIFEST.test(lower)) score += 1.5;
  else if (DOC.test(lower)) score += 1;
  if (TEST.test(lower)) score -= 0.5;
  if (/(^|\/)(src|lib|app|server|tools?)\//.test(lower)) score += 0.5;
  return score - path.split("/").length * 0.1;
}

function contentScore(content: string, report: Report, keywords: string[], serverTokens: string[]): number {
  const lower = content.toLowerCase();
  let score = 0;
  if (report.tool_name && report.tool_name.length >= 3 && content.includes(report.tool_name)) score += 8;
  for (const tool of report.tools_available) if (tool.length >= 3 && content.includes(tool)) score += 2;
  for (const t of serverTokens) if (lower.includes(t)) score += 1;
  if (/registertool|server\.tool\(|@mcp\.tool|tools\/list|listtools|calltool|inputschema/i.test(content)) score += 3;
  let hits = 0;
  for (const w of keywords) if (lower.includes(w)) hits++;
  return score + Math.min(hits, 12) * 0.75;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export async function selectFiles(input: SelectionInput): Promise<Selection> {
  const { report } = input;
  const tools = [report.tool_name, ...report.tools_available].filter((t): t is string => Boolean(t));
  const serverTokens = nameTokens(report.server_name);
  const keywords = reportKeywords(report);

  const ranked = input.entries
    .filter(isCandidate)
    .map((e) => ({ entry: e, score: pathScore(e.path, serverTokens, tools) }))
    .sort((a, b) => b.score - a.score || a.entry.path.localeCompare(b.entry.path));
  const probes = ranked.slice(0, MAX_CONTENT_PROBES);
  const contents = await mapLimit(probes, 6, (p) => input.read(p.entry.path));

  const scored = probes
    .map((p, i) => ({
      path: p.entry.path,
      content: contents[i],
      score: p.score + (contents[i] ? contentScore(contents[i], report, keywords, serverTokens) : -100),
    }))
    .filter(
      (s): s is { path: string; content: string; score: number } =>
        typeof s.content === "string" && s.content.length > 0,
    )
    .sort((a, b) => b.score - a.score || a.path.localeCompare(b.path));

  const files: SelectedFile[] = [];
  const omitted: string[] = [];
  let used = 0;
  for (const s of scored) {
    if (files.length >= MAX_SELECTED) {
      omitted.push(s.path);
      continue;
    }
    const remaining = input.budgetChars - used;
    if (s.content.length <= remaining) {
      files.push({ path: s.path, content: s.content, truncated: false, totalChars: s.content.length, score: s.score });
      used += s.content.length;
    } else if (remaining >= MIN_PARTIAL && s.score > 3) {
      // Cut at a line boundary so the model sees whole lines.
      const cut = s.content.lastIndexOf("\n", remaining);
      const content = s.content.slice(0, cut > MIN_PARTIAL / 2 ? cut + 1 : remaining);
      files.push({ path: s.path, content, truncated: true, totalChars: s.content.length, score: s.score });
      used += content.length;
    } else {
      omitted.push(s.path);
    }
  }
  return { files, omitted, usedChars: used };
}
