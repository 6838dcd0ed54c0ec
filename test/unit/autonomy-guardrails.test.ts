/**
 * The autonomy guardrails below the worker: scope limits on a validated change set, and the
 * verification worktree (real git, real child processes): a timeout stops the command's whole
 * process group, a symlink in the checkout cannot carry a write out of the worktree, a path
 * that is not a checkout is a clear error, and the worktree is removed in every case.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { changedLines, scopeProblems } from "../../src/draft/scope.js";
import type { ValidatedChange } from "../../src/draft/validate.js";
import { scrubbedEnv, VerifyError, verifyChange } from "../../src/draft/verify.js";
import { tempDir } from "../helpers/serve.js";

const edit = (path: string, before: string, after: string): ValidatedChange => ({
  path,
  action: "edit",
  before,
  after,
});
const create = (path: string, after: string): ValidatedChange => ({ path, action: "create", before: null, after });

function checkout(files: Record<string, string>): string {
  const dir = tempDir("pwm-guard-");
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, ".."), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  const git = (...a: string[]) => execFileSync("git", a, { cwd: dir, stdio: "pipe" });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "init");
  return dir;
}
const worktrees = (dir: string) =>
  execFileSync("git", ["worktree", "list", "--porcelain"], { cwd: dir })
    .toString()
    .match(/^worktree /gm)?.length;

describe("scope limits", () => {
  it("counts added and removed lines, never the diff's file headers", () => {
    // A created line that reads "++ x" shows as "+++ x" in the diff: it is a line, not a header.
    expect(changedLines([create("a.txt", "++ x\n-- y\nz\n")])).toBe(3);
    expect(changedLines([edit("b.txt", "one\ntwo\nthree\n", "one\n2\nthree\n")])).toBe(2);
  });

  it("names each limit a change passes, and nothing when it is within them", () => {
    const changes = [edit("src/a.ts", "a\n", "b\n"), create("docs/x.md", "1\n2\n3\n")];
    expect(scopeProblems(changes, { max_files: 2, max_changed_lines: 5, allowed_paths: [] })).toEqual([]);
    expect(scopeProblems(changes, { max_files: 1, max_changed_lines: 4, allowed_paths: ["src/**"] })).toEqual([
      "it changes 2 files; the limit is 1",
      "it changes 5 lines; the limit is 4",
      "docs/x.md is outside the allowed paths (src/**)",
    ]);
  });
});

describe("verification", () => {
  it("keeps only allowlisted variables", () => {
    const env = scrubbedEnv({ PATH: "/bin", HOME: "/h", GITHUB_TOKEN: "t", FEEDBACK_API_KEY: "k", AWS_SECRET: "s" });
    expect(env).toEqual({ PATH: "/bin", HOME: "/h", CI: "1", PATCHWORKMCP_VERIFY: "1" });
  });

  it("applies the change in a worktree, passes on exit 0, and removes the worktree", async () => {
    const dir = checkout({ "a.txt": "old\n" });
    const r = await verifyChange({
      checkout: dir,
      command: "grep -q new a.txt && test -f docs/n.md && echo OK",
      timeoutMs: 30_000,
      changes: [edit("a.txt", "old\n", "new\n"), create("docs/n.md", "hi\n")],
    });
    expect(r).toMatchObject({ ok: true, exit_code: 0, timed_out: false });
    expect(r.output.trim()).toBe("OK");
    expect(worktrees(dir)).toBe(1);
    expect(execFileSync("git", ["status", "--porcelain"], { cwd: dir }).toString()).toBe("");
  });

  it("stops a command that runs past its timeout, children included", async () => {
    const dir = checkout({ "a.txt": "x\n" });
    const pidFile = join(tempDir("pwm-guard-pid-"), "pid");
    const r = await verifyChange({
      checkout: dir,
      // A background child outlives the shell unless the whole process group is killed.
      command: `sleep 60 & echo $! > ${pidFile}; wait`,
      timeoutMs: 1000,
      changes: [edit("a.txt", "x\n", "y\n")],
    });
    expect(r).toMatchObject({ ok: false, timed_out: true });
    expect(r.output).toContain("did not finish within 1000 ms");
    expect(worktrees(dir)).toBe(1);
    const pid = Number(readFileSync(pidFile, "utf8"));
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    await vi.waitFor(() => expect(alive()).toBe(false), { timeout: 5000, interval: 50 });
  });

  it("refuses to write through a symlink out of the worktree", async () => {
    const outside = tempDir("pwm-guard-outside-");
    const dir = checkout({ "a.txt": "x\n" });
    symlinkSync(outside, join(dir, "link"));
    execFileSync("git", ["add", "link"], { cwd: dir });
    execFileSync("git", ["-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-q", "-m", "link"], {
      cwd: dir,
    });
    await expect(
      verifyChange({ checkout: dir, command: "true", timeoutMs: 5000, changes: [create("link/evil.txt", "x")] }),
    ).rejects.toMatchObject({ code: "verification_apply_failed" });
    expect(readdirSync(outside)).toEqual([]);
    expect(worktrees(dir)).toBe(1);
  });

  it("says when the checkout is not a git checkout", async () => {
    const err = await verifyChange({ checkout: tempDir(), command: "true", timeoutMs: 5000, changes: [] }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(VerifyError);
    expect((err as VerifyError).code).toBe("verification_checkout_invalid");
  });
});
