/**
 * `patchworkmcp draft` as a real child process (the built CLI): PR mode,
 * dry run (the diff applies with `git apply`), local mode against a real git
 * repository, errors, and the TTY progress display.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProgressDisplay } from "../../src/commands/draft.js";
import { FeedbackStore } from "../../src/store/index.js";
import { startAnthropicDouble, startGitHubDouble, type GitHubDouble, type LlmDoubleBase } from "../doubles/index.js";
import { CLI, tempDir } from "../helpers/serve.js";
import { addReport, HAPPY_CHANGE_SET, openTempStore, REPO, REPO_FILES } from "./fixtures.js";

let gh: GitHubDouble;
let anthropic: LlmDoubleBase;
let dbPath: string;
let reportId: number;

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Commander treats a defined-but-empty env var as set, so unrelated ones are removed, not blanked.
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(PATCHWORKMCP_|OPENAI_|ANTHROPIC_|GITHUB_)/.test(k)),
    );
    const merged: NodeJS.ProcessEnv = {
      ...base,
      GITHUB_TOKEN: gh.token,
      GITHUB_API_URL: gh.url,
      ANTHROPIC_API_KEY: anthropic.apiKey,
      ANTHROPIC_BASE_URL: anthropic.url,
      PATCHWORKMCP_GITHUB_REPO: REPO,
      ...env,
    };
    for (const [k, v] of Object.entries(merged)) if (v === "") delete merged[k];
    const child = spawn(process.execPath, [CLI, "draft", ...args, "--db", dbPath], {
      env: merged,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", ...args], {
    cwd,
    encoding: "utf8",
  });

function makeCheckout(): string {
  const dir = tempDir("pwm-checkout-");
  git(dir, "init", "-q", "-b", "main");
  for (const [path, content] of Object.entries(REPO_FILES)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "initial");
  return dir;
}

beforeAll(async () => {
  [gh, anthropic] = await Promise.all([startGitHubDouble(), startAnthropicDouble()]);
  gh.addRepo(REPO, REPO_FILES);
  const temp = openTempStore();
  dbPath = temp.dbPath;
  reportId = addReport(temp.store);
  temp.store.close();
});
afterAll(async () => {
  await Promise.all([gh.close(), anthropic.close()]);
});

describe("patchworkmcp draft", () => {
  it("prints the PR URL on stdout and plain progress lines on stderr", async () => {
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    const { code, stdout, stderr } = await cli([String(reportId)]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(new RegExp(`^https://github.com/${REPO}/pull/\\d+\\n$`));
    expect(stderr).toContain("[1/9] Loading the report and the draft settings");
    expect(stderr).toContain("[9/9] Recording the draft on the report");
    expect(stderr).not.toContain("\x1b[");
    expect(stderr).not.toContain(gh.token);
  });

  it("--dry-run prints a diff that git applies cleanly, and nothing is pushed", async () => {
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    const pulls = gh.pulls(REPO).length;
    const { code, stdout } = await cli([String(reportId), "--dry-run"]);
    expect(code).toBe(0);
    expect(gh.pulls(REPO)).toHaveLength(pulls);
    const checkout = makeCheckout();
    writeFileSync(join(checkout, "draft.diff"), stdout);
    git(checkout, "apply", "draft.diff");
    expect(readFileSync(join(checkout, "docs/hourly.md"), "utf8")).toBe(HAPPY_CHANGE_SET.files[1]!.content);
    expect(readFileSync(join(checkout, "src/handlers/forecast.ts"), "utf8")).toContain("Daily or hourly forecast");
  });

  it("--repo-path makes one commit on a new local branch and leaves the working tree alone", async () => {
    const checkout = makeCheckout();
    writeFileSync(join(checkout, "README.md"), "uncommitted work in progress\n");
    const head = git(checkout, "rev-parse", "HEAD").trim();
    anthropic.enqueue({ json: HAPPY_CHANGE_SET });
    const { code, stdout, stderr } = await cli([String(reportId), "--repo-path", checkout], {
      GITHUB_TOKEN: "",
      PATCHWORKMCP_GITHUB_REPO: "",
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("+++ b/docs/hourly.md");
    const branch = /Created branch (\S+)/.exec(stderr)![1]!;

    expect(git(checkout, "rev-parse", "--abbrev-ref", "HEAD").trim()).toBe("main");
    expect(readFileSync(join(checkout, "README.md"), "utf8")).toBe("uncommitted work in progress\n");
    expect(git(checkout, "rev-list", "--parents", "-n", "1", branch).trim().split(" ")).toEqual([
      expect.any(String),
      head,
    ]);
    expect(git(checkout, "rev-list", "--count", `${head}..${branch}`).trim()).toBe("1");
    expect(git(checkout, "show", `${branch}:docs/hourly.md`)).toBe(HAPPY_CHANGE_SET.files[1]!.content);
    expect(git(checkout, "diff", "--name-only", head, branch).trim().split("\n").sort()).toEqual([
      "docs/hourly.md",
      "src/handlers/forecast.ts",
    ]);
    expect(git(checkout, "log", "-1", "--format=%B", branch)).toContain(`PatchworkMCP-Report: ${reportId}`);
    expect(gh.requests.filter((r) => r.method !== "GET" && r.path.includes("hourly"))).toEqual([]);

    const store = FeedbackStore.open(dbPath, { readonly: true });
    const last = store.listDrafts(reportId).at(-1)!;
    store.close();
    expect(last).toMatchObject({ kind: "local_commit", url: null, branch, repo: checkout });
  });

  const HOSTILE_TEXT = "\u001b]0;pwned\u0007\u001b[2J\u001b[1A\rOK \u009b31m";

  it("--dry-run shows model-written control characters as visible escapes, never raw, while tabs and CRLF stay", async () => {
    anthropic.enqueue({
      json: {
        ...HAPPY_CHANGE_SET,
        files: [
          HAPPY_CHANGE_SET.files[0],
          { path: "docs/evil.md", action: "create", content: `title ${HOSTILE_TEXT}\n\tindented\r\n`, edits: null },
        ],
      },
    });
    const { code, stdout } = await cli([String(reportId), "--dry-run"]);
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
    expect(stdout).toContain("+title \\u001b]0;pwned\\u0007\\u001b[2J\\u001b[1A\\u000dOK \\u009b31m\n");
    expect(stdout).toContain("+\tindented\r\n");
  });

  it("--repo-path: the commit message keeps no raw control character of the model's", async () => {
    const checkout = makeCheckout();
    anthropic.enqueue({
      json: {
        ...HAPPY_CHANGE_SET,
        commit_message: `Add hourly ${HOSTILE_TEXT}\n\nDetails\u0007`,
        pr_title: `t${HOSTILE_TEXT}`,
      },
    });
    const { code, stderr } = await cli([String(reportId), "--repo-path", checkout], {
      GITHUB_TOKEN: "",
      PATCHWORKMCP_GITHUB_REPO: "",
    });
    expect(code, stderr).toBe(0);
    const branch = /Created branch (\S+)/.exec(stderr)![1]!;
    const message = git(checkout, "log", "-1", "--format=%B", branch);
    expect(message).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(message).toContain("Add hourly \\u001b]0;pwned\\u0007");
    const store = FeedbackStore.open(dbPath, { readonly: true });
    const last = store.listDrafts(reportId).at(-1)!;
    store.close();
    expect(last.title).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  it("--repo-path on a directory that is not a checkout fails clearly", async () => {
    const { code, stderr } = await cli([String(reportId), "--repo-path", tempDir()]);
    expect(code).toBe(1);
    expect(stderr).toContain("is not a git checkout");
    expect(stderr).toContain("(not_a_git_repo)");
  });

  it("exits 1 with a sentence for an unknown report or a bad id", async () => {
    const missing = await cli(["424242"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("There is no report 424242. (report_not_found)");
    const bad = await cli(["abc"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('"abc" is not a report id');
  });
});

describe("progress display", () => {
  it("on a TTY, keeps one updating line per step and ticks finished steps", () => {
    let out = "";
    const display = new ProgressDisplay({
      isTTY: true,
      write: (s: string) => {
        out += s;
        return true;
      },
    });
    display.handle({ type: "step", step: "settings", message: "Loading", index: 1, total: 2 });
    display.handle({ type: "detail", step: "settings", message: "Report #1" });
    display.handle({ type: "step", step: "read_repo", message: "Reading", index: 2, total: 2 });
    display.handle({
      type: "error",
      step: "read_repo",
      code: "github_auth_failed",
      message: "GitHub rejected the token.",
    });
    expect(out).toContain("\r\x1b[2K");
    expect(out).toContain("✓ [1/2] Loading\n");
    expect(out).toContain("✗ [2/2] Reading\n");
    expect(out).toContain("patchworkmcp: GitHub rejected the token. (github_auth_failed)\n");
  });
});
