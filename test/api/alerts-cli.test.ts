/** `patchworkmcp alerts …` against a real database, as a real child process. */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { startHttpReceiver } from "../helpers/alert-receivers.js";
import { CLI, tempDir, testDbPath } from "../helpers/serve.js";

const run = promisify(execFile);

async function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, "alerts", ...args], {
      cwd,
      env: { ...process.env, FEEDBACK_API_KEY: "" },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

it("adds, lists, tests and deletes destinations and rules, with clear errors", async () => {
  const db = testDbPath();
  // The .env goes beside a SQLite file, or (PostgreSQL) into this fresh working directory.
  const cwd = tempDir("pwm-alerts-cli-");
  const receiver = await startHttpReceiver();
  try {
    // A first command creates nothing by itself: serve makes the database.
    const { FeedbackStore } = await import("../../src/store/index.js");
    FeedbackStore.open(db).close();
    const add = await cli(["destinations", "add", "--kind", "webhook", "--url", receiver.url, "--db", db], cwd);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout.trim()).toMatch(/^whsec_/);
    expect(add.stderr).toMatch(/Added webhook destination (\d+)/);
    const id = /destination (\d+)/.exec(add.stderr)![1]!;
    const list = await cli(["destinations", "list", "--db", db], cwd);
    expect(list.stdout).toContain(`${id}\twebhook\t-\thttp://127.0.0.1:${receiver.port}/…`);
    expect(list.stdout).not.toContain("whsec_");
    const bad = await cli(["destinations", "add", "--kind", "slack", "--url", "gopher://x", "--db", db], cwd);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /unsupported_url_scheme: A slack destination's url must start with http:\/\/ or https:\/\//,
    );
    const rule = await cli(
      ["rules", "add", "--kind", "sessions", "--destination", id, "--threshold", "3", "--window", "2h", "--db", db],
      cwd,
    );
    expect(rule.code, rule.stderr).toBe(0);
    expect((await cli(["rules", "list", "--db", db], cwd)).stdout).toMatch(
      /\tsessions\tdestination \d+\t\*\tthreshold 3\twindow 7200\tcooldown 3600/,
    );
    const badRule = await cli(
      ["rules", "add", "--kind", "blocked_share", "--destination", id, "--threshold", "0", "--db", db],
      cwd,
    );
    expect(badRule.stderr).toMatch(/validation_failed: threshold: threshold must be a percentage above 0/);
    const test = await cli(["destinations", "test", id, "--db", db], cwd);
    expect(test.code, test.stderr).toBe(0);
    expect(test.stderr).toMatch(/Delivered \(HTTP 200\), webhook-id msg_test_/);
    expect(receiver.received).toHaveLength(1);
    const del = await cli(["destinations", "delete", id, "--db", db], cwd);
    expect(del.code).toBe(0);
    expect((await cli(["destinations", "test", id, "--db", db], cwd)).stderr).toMatch(
      /destination_not_found: There is no alert destination/,
    );
  } finally {
    await receiver.close();
  }
});
