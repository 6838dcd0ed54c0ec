/**
 * Unified diffs (git style, 3 lines of context) for dry runs and summaries.
 * Common leading and trailing lines are trimmed first; the middle is aligned
 * by longest common subsequence, or replaced wholesale when it is too large
 * to align cheaply (drafts change little, so that is rare).
 */
import type { ValidatedChange } from "./validate.js";

type Op = { kind: " " | "-" | "+"; line: string };

const CONTEXT = 3;
const MAX_CELLS = 4_000_000;
const NO_EOL = "\u0000no-eol";

function splitLines(text: string): { lines: string[]; finalNewline: boolean } {
  if (text === "") return { lines: [], finalNewline: true };
  const finalNewline = text.endsWith("\n");
  const lines = (finalNewline ? text.slice(0, -1) : text).split("\n");
  return { lines, finalNewline };
}

function align(a: string[], b: string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const ops: Op[] = a.slice(0, start).map((line) => ({ kind: " ", line }));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  if (midA.length * midB.length > MAX_CELLS) {
    ops.push(...midA.map((line): Op => ({ kind: "-", line })), ...midB.map((line): Op => ({ kind: "+", line })));
  } else {
    const n = midA.length;
    const m = midB.length;
    const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i]![j] = midA[i] === midB[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && midA[i] === midB[j]) {
        ops.push({ kind: " ", line: midA[i]! });
        i++;
        j++;
      } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
        ops.push({ kind: "+", line: midB[j]! });
        j++;
      } else {
        ops.push({ kind: "-", line: midA[i]! });
        i++;
      }
    }
  }
  ops.push(...a.slice(endA).map((line): Op => ({ kind: " ", line })));
  return ops;
}

export function unifiedDiff(path: string, before: string | null, after: string | null): string {
  // A last line without a newline is a different line from the same text with one (git shows it as
  // removed and re-added with a "No newline" marker), so it gets a sentinel before alignment.
  const keyed = (t: { lines: string[]; finalNewline: boolean }) =>
    t.finalNewline ? t.lines : t.lines.map((l, i) => (i === t.lines.length - 1 ? `${l}${NO_EOL}` : l));
  const ops = align(keyed(splitLines(before ?? "")), keyed(splitLines(after ?? "")));
  const header = `diff --git a/${path} b/${path}\n${before === null ? "new file mode 100644\n" : ""}${after === null ? "deleted file mode 100644\n" : ""}--- ${before === null ? "/dev/null" : `a/${path}`}\n+++ ${after === null ? "/dev/null" : `b/${path}`}\n`;

  // Positions of changes, grouped into hunks with CONTEXT lines around them.
  const changed = ops.map((op, i) => (op.kind === " " ? -1 : i)).filter((i) => i >= 0);
  if (changed.length === 0) return "";
  const hunks: [number, number][] = [];
  for (const i of changed) {
    const lo = Math.max(0, i - CONTEXT);
    const hi = Math.min(ops.length - 1, i + CONTEXT);
    const last = hunks[hunks.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else hunks.push([lo, hi]);
  }
  let out = header;
  // Line numbers before each op index.
  const oldNo: number[] = [];
  const newNo: number[] = [];
  let o = 1;
  let n = 1;
  for (const op of ops) {
    oldNo.push(o);
    newNo.push(n);
    if (op.kind !== "+") o++;
    if (op.kind !== "-") n++;
  }
  for (const [lo, hi] of hunks) {
    const slice = ops.slice(lo, hi + 1);
    const oldCount = slice.filter((op) => op.kind !== "+").length;
    const newCount = slice.filter((op) => op.kind !== "-").length;
    const oldStart = oldCount === 0 ? oldNo[lo]! - 1 : oldNo[lo]!;
    const newStart = newCount === 0 ? newNo[lo]! - 1 : newNo[lo]!;
    out += `@@ -${oldStart},${oldCount} +${newStart},${newCount} @@\n`;
    for (const op of slice) {
      if (op.line.endsWith(NO_EOL))
        out += `${op.kind}${op.line.slice(0, -NO_EOL.length)}\n\\ No newline at end of file\n`;
      else out += `${op.kind}${op.line}\n`;
    }
  }
  return out;
}

export function changeSetDiff(changes: ValidatedChange[]): string {
  return changes.map((c) => unifiedDiff(c.path, c.before, c.after)).join("");
}
