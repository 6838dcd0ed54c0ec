/**
 * The only gate between a model's answer and a repository. A change set
 * passes when its shape is right, every path is normalised, inside the repo
 * and allowed, creates name new files, edits and deletes name existing ones,
 * every search block occurs exactly once in the REAL file (so a file the
 * model saw only in part is never rewritten from memory), and sizes are
 * bounded. Anything else is a list of problems the model can be told about.
 */
import { boundedChangeSetSchema, CHANGE_SET_LIMITS, type ChangeSet } from "./change-set.js";
import type { ChangeAction } from "./events.js";
import { allowedByAdmin, normalizeRepoPath, pathPolicy } from "./paths.js";
import { protectedContentReason } from "./protected-content.js";
import { inertLine, inertText } from "./text.js";

export interface ValidatedChange {
  path: string;
  action: ChangeAction;
  /** Content before (null for create). */
  before: string | null;
  /** Content after (null for delete). */
  after: string | null;
}

export interface ValidatedChangeSet {
  changes: ValidatedChange[];
  commitMessage: string;
  title: string;
  body: string;
  /** The model's confidence, 0–1 (0 when it gave none). */
  confidence: number;
  rationale: string;
}

export interface RepoView {
  /** Whether a path exists as a file at the base commit. */
  exists(path: string): boolean;
  /** Why a new file may not be created at a path (taken by a file, directory, symlink…), or undefined. */
  takenBecause(path: string): string | undefined;
  /** The full current content of an existing text file. */
  read(path: string): Promise<string | undefined>;
}

export type ValidationOutcome = { ok: true; value: ValidatedChangeSet } | { ok: false; problems: string[] };

function countOccurrences(haystack: string, needle: string): number {
  let count = 0;
  let from = 0;
  for (;;) {
    const at = haystack.indexOf(needle, from);
    if (at === -1) return count;
    count++;
    from = at + 1;
  }
}

const byteLength = (s: string) => Buffer.byteLength(s, "utf8");

export async function validateChangeSet(
  raw: unknown,
  repo: RepoView,
  allowedSensitive: readonly string[],
): Promise<ValidationOutcome> {
  const parsed = boundedChangeSetSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`),
    };
  }
  const cs: ChangeSet = parsed.data;
  const problems: string[] = [];
  const changes: ValidatedChange[] = [];
  const seen = new Set<string>();
  let total = 0;
  const guardContent = (where: string, path: string, before: string | null, after: string | null) => {
    const reason = protectedContentReason(path, before, after);
    if (reason && !allowedByAdmin(path, allowedSensitive))
      problems.push(
        `${where}: may not be changed: ${reason}; an admin can allow it in the draft settings (allowed_sensitive_paths: "${path}")`,
      );
  };

  for (const [i, file] of cs.files.entries()) {
    const where = `files[${i}] (${JSON.stringify(file.path).slice(0, 200)})`;
    const norm = normalizeRepoPath(file.path);
    if (!norm.ok) {
      problems.push(`${where}: ${norm.reason}`);
      continue;
    }
    const path = norm.path;
    const policy = pathPolicy(path, allowedSensitive);
    if (!policy.ok) {
      problems.push(`${where}: may not be changed: ${policy.reason}`);
      continue;
    }
    if (seen.has(path)) {
      problems.push(`${where}: the same file appears twice; put all its edits in one entry`);
      continue;
    }
    seen.add(path);
    const exists = repo.exists(path);

    if (file.action === "create") {
      if (exists) {
        problems.push(`${where}: the file already exists; use action "edit" with search/replace blocks`);
        continue;
      }
      const taken = repo.takenBecause(path);
      if (taken) {
        problems.push(`${where}: cannot create a file there: ${taken}`);
        continue;
      }
      if (file.content === null) {
        problems.push(`${where}: create needs the file content`);
        continue;
      }
      if (file.edits?.length) problems.push(`${where}: create takes content, not edits`);
      if (file.content.includes("\u0000")) problems.push(`${where}: the content contains NUL bytes`);
      guardContent(where, path, null, file.content);
      changes.push({ path, action: "create", before: null, after: file.content });
      total += byteLength(file.content);
      if (byteLength(file.content) > CHANGE_SET_LIMITS.fileBytes)
        problems.push(`${where}: the file is larger than ${CHANGE_SET_LIMITS.fileBytes} bytes`);
      continue;
    }

    if (!exists) {
      problems.push(`${where}: the file does not exist in the repository; to add it use action "create"`);
      continue;
    }
    const before = await repo.read(path);
    if (before === undefined) {
      problems.push(`${where}: the file is binary or unreadable and cannot be changed`);
      continue;
    }

    if (file.action === "delete") {
      if (file.content !== null || file.edits?.length)
        problems.push(`${where}: delete takes neither content nor edits`);
      changes.push({ path, action: "delete", before, after: null });
      continue;
    }

    // edit
    if (file.content !== null) problems.push(`${where}: edit takes search/replace blocks, not whole content`);
    const edits = file.edits ?? [];
    if (edits.length === 0) {
      problems.push(`${where}: edit needs at least one search/replace block`);
      continue;
    }
    if (edits.length > CHANGE_SET_LIMITS.editsPerFile) {
      problems.push(`${where}: at most ${CHANGE_SET_LIMITS.editsPerFile} edits per file`);
      continue;
    }
    let after = before;
    let failed = false;
    for (const [j, edit] of edits.entries()) {
      if (edit.search.length === 0) {
        problems.push(`${where} edit ${j + 1}: the search text is empty`);
        failed = true;
        break;
      }
      const count = countOccurrences(after, edit.search);
      if (count !== 1) {
        problems.push(
          `${where} edit ${j + 1}: the search text ${count === 0 ? "does not occur in the file" : `occurs ${count} times (it must occur exactly once; include more surrounding lines)`}: ${JSON.stringify(edit.search.slice(0, 120))}`,
        );
        failed = true;
        break;
      }
      const at = after.indexOf(edit.search);
      after = after.slice(0, at) + edit.replace + after.slice(at + edit.search.length);
    }
    if (failed) continue;
    if (after === before) {
      problems.push(`${where}: the edits leave the file unchanged`);
      continue;
    }
    if (after.includes("\u0000")) problems.push(`${where}: the result contains NUL bytes`);
    guardContent(where, path, before, after);
    if (byteLength(after) > CHANGE_SET_LIMITS.fileBytes)
      problems.push(`${where}: the result is larger than ${CHANGE_SET_LIMITS.fileBytes} bytes`);
    total += byteLength(after);
    changes.push({ path, action: "edit", before, after });
  }
  if (total > CHANGE_SET_LIMITS.totalBytes)
    problems.push(`the change set writes more than ${CHANGE_SET_LIMITS.totalBytes} bytes in total`);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    // Commit metadata and PR text end up in terminals (git log, gh): no control character of the model's survives.
    value: {
      changes,
      commitMessage: inertText(cs.commit_message.trim()),
      title: inertLine(cs.pr_title.trim()),
      body: inertText(cs.pr_body.trim()),
      confidence: cs.confidence ?? 0,
      rationale: inertText((cs.rationale ?? "").trim()),
    },
  };
}
