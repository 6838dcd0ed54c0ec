/**
 * Verification before an automatic draft opens: the change set is applied in a
 * temporary `git worktree` of a local checkout (detached at its HEAD; the
 * checkout's own working tree, index and branches are never touched), the
 * server's test command runs there under `/bin/sh -c` with a timeout and an
 * environment scrubbed of every secret (an allowlist: no tokens, no LLM keys,
 * no FEEDBACK_* settings), and its output is kept, truncated. The worktree is
 * always removed, whatever happened.
 */
import { spawn } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import type { ValidatedChange } from "./validate.js";

/** The only variables the command inherits from the sidecar. */
export const VERIFY_ENV_ALLOW: readonly string[] = [
  "PATH",
  "HOME",
  "LANG",
  "LANGUAGE",
  "LC_ALL",
  "LC_CTYPE",
  "LC_MESSAGES",
  "TERM",
  "TZ",
  "TMPDIR",
  "USER",
  "LOGNAME",
  "SHELL",
];

/** Characters of output kept: the first and the last half (a failure's cause is usually at the end). */
export const VERIFY_OUTPUT_MAX = 32_000;

export interface VerifyResult {
  ok: boolean;
  exit_code: number | null;
  signal: string | null;
  timed_out: boolean;
  /** stdout and stderr interleaved, truncated to VERIFY_OUTPUT_MAX characters. */
  output: string;
  truncated: boolean;
  /** The commit of the checkout the change was applied on. */
  base_commit: string;
}

export class VerifyError extends Error {
  constructor(
    readonly code: "verification_checkout_invalid" | "verification_apply_failed" | "verification_cannot_run",
    message: string,
  ) {
    super(message);
    this.name = "VerifyError";
  }
}

/** The scrubbed environment: allowlisted variables only, plus CI=1 so test runners do not wait for a terminal. */
export function scrubbedEnv(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of VERIFY_ENV_ALLOW) if (source[name] !== undefined) env[name] = source[name];
  env.CI = "1";
  env.PATCHWORKMCP_VERIFY = "1";
  return env;
}

function git(cwd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    const child = spawn("git", args, {
      cwd,
      env: { ...scrubbedEnv(), GIT_TERMINAL_PROMPT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    child.once("error", (e) => done({ code: 127, out: e.message }));
    child.once("close", (code) => done({ code: code ?? 1, out: out.trim() }));
  });
}

/** A file the change writes, refused if it would leave the worktree through a symlink. */
function targetIn(root: string, path: string): string {
  const target = resolve(root, path);
  const inside = (p: string) => p === root || p.startsWith(root + sep);
  if (!inside(target)) throw new VerifyError("verification_apply_failed", `${path} is outside the worktree.`);
  mkdirSync(dirname(target), { recursive: true });
  if (!inside(realpathSync(dirname(target))))
    throw new VerifyError(
      "verification_apply_failed",
      `${path} would be written through a symlink out of the worktree.`,
    );
  try {
    if (lstatSync(target).isSymbolicLink())
      throw new VerifyError("verification_apply_failed", `${path} is a symlink in the checkout; it was not followed.`);
  } catch (err) {
    if (err instanceof VerifyError) throw err;
  }
  return target;
}

function truncate(text: string): { output: string; truncated: boolean } {
  if (text.length <= VERIFY_OUTPUT_MAX) return { output: text, truncated: false };
  const half = VERIFY_OUTPUT_MAX / 2;
  return {
    output: `${text.slice(0, half)}\n…(${text.length - VERIFY_OUTPUT_MAX} characters cut)…\n${text.slice(-half)}`,
    truncated: true,
  };
}

function runCommand(
  cwd: string,
  command: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<{ code: number | null; signal: string | null; timedOut: boolean; text: string }> {
  return new Promise((done, fail) => {
    // Its own process group, so a timeout ends everything the command started.
    const child = spawn("/bin/sh", ["-c", command], {
      cwd,
      env: scrubbedEnv(),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let text = "";
    const add = (d: string) => {
      // Keep a bounded window: the head, and a tail that keeps moving.
      text += d;
      if (text.length > VERIFY_OUTPUT_MAX * 4) text = text.slice(0, VERIFY_OUTPUT_MAX) + text.slice(-VERIFY_OUTPUT_MAX);
    };
    child.stdout.setEncoding("utf8").on("data", add);
    child.stderr.setEncoding("utf8").on("data", add);
    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const onAbort = () => killGroup();
    signal?.addEventListener("abort", onAbort, { once: true });
    child.once("error", (e) => {
      clearTimeout(timer);
      fail(new VerifyError("verification_cannot_run", `Could not start the verification command (${e.message}).`));
    });
    child.once("close", (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      done({ code, signal: sig, timedOut, text });
    });
  });
}

/** Apply `changes` in a temporary worktree of `checkout`, run `command` there, remove the worktree. */
export async function verifyChange(options: {
  checkout: string;
  command: string;
  timeoutMs: number;
  changes: readonly ValidatedChange[];
  signal?: AbortSignal | undefined;
}): Promise<VerifyResult> {
  const { checkout } = options;
  const head = await git(checkout, ["rev-parse", "--verify", "HEAD^{commit}"]);
  if (head.code !== 0)
    throw new VerifyError(
      "verification_checkout_invalid",
      `${checkout} is not a git checkout with a commit (git said: ${head.out.slice(0, 300)}).`,
    );
  const base = head.out.split("\n")[0]!.trim();
  const parent = mkdtempSync(join(tmpdir(), "pwm-verify-"));
  const tree = join(parent, "tree");
  try {
    const added = await git(checkout, ["worktree", "add", "--detach", tree, base]);
    if (added.code !== 0)
      throw new VerifyError(
        "verification_checkout_invalid",
        `Could not create a worktree of ${checkout} (git said: ${added.out.slice(0, 300)}).`,
      );
    const root = realpathSync(tree);
    for (const c of options.changes) {
      const target = targetIn(root, c.path);
      if (c.after === null) rmSync(target, { force: true });
      else writeFileSync(target, c.after);
    }
    const run = await runCommand(root, options.command, options.timeoutMs, options.signal);
    const { output, truncated } = truncate(run.text);
    return {
      ok: run.code === 0 && !run.timedOut,
      exit_code: run.code,
      signal: run.signal,
      timed_out: run.timedOut,
      output: run.timedOut
        ? `${output}\n(the command did not finish within ${options.timeoutMs} ms and was stopped)`
        : output,
      truncated,
      base_commit: base,
    };
  } finally {
    // Always: the worktree's registration in the checkout, then the directory itself.
    await git(checkout, ["worktree", "remove", "--force", tree]);
    rmSync(parent, { recursive: true, force: true });
    await git(checkout, ["worktree", "prune"]);
  }
}
