/**
 * The autonomy ladder's scope limits on a validated change set: how many files,
 * how many changed lines (added plus removed, as the unified diff counts them)
 * and which paths (the server's allowed globs; an empty list allows any path the
 * draft validation already allows). A change over a limit is kept as a suggestion.
 */
import { globMatch } from "./paths.js";
import type { ValidatedChange } from "./validate.js";
import { unifiedDiff } from "./diff.js";

export interface ScopeLimits {
  max_files: number;
  max_changed_lines: number;
  allowed_paths: readonly string[];
}

/** Lines added plus lines removed over the whole change set. */
export function changedLines(changes: readonly ValidatedChange[]): number {
  let n = 0;
  for (const c of changes) {
    // Only hunk lines count: the header's ---/+++ lines name the files (a content line may look like them).
    let inHunk = false;
    for (const line of unifiedDiff(c.path, c.before, c.after).split("\n")) {
      if (line.startsWith("@@")) inHunk = true;
      else if (inHunk && (line.startsWith("+") || line.startsWith("-"))) n++;
    }
  }
  return n;
}

/** Every limit the change passes, as sentences (empty: within scope). */
export function scopeProblems(changes: readonly ValidatedChange[], limits: ScopeLimits): string[] {
  const problems: string[] = [];
  if (changes.length > limits.max_files)
    problems.push(`it changes ${changes.length} files; the limit is ${limits.max_files}`);
  const lines = changedLines(changes);
  if (lines > limits.max_changed_lines)
    problems.push(`it changes ${lines} lines; the limit is ${limits.max_changed_lines}`);
  if (limits.allowed_paths.length > 0) {
    const outside = changes.map((c) => c.path).filter((p) => !limits.allowed_paths.some((g) => globMatch(g, p)));
    if (outside.length > 0)
      problems.push(
        `${outside.slice(0, 10).join(", ")}${outside.length > 10 ? ", …" : ""} ${outside.length === 1 ? "is" : "are"} outside the allowed paths (${limits.allowed_paths.join(", ")})`,
      );
  }
  return problems;
}
