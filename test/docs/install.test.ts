/**
 * The README's "Installing" section, as a user runs it: `npm pack` the checkout,
 * `npm install -g` the tarball (into a temporary prefix, so nothing global
 * changes), then run the installed `patchworkmcp`. npm fetches the dependencies
 * (from its cache when it can) and compiles better-sqlite3, so this takes minutes.
 * Needs `npm run build` (the tarball ships dist/).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ListeningProcess, REPO_ROOT, startListening, tempDir } from "../helpers/serve.js";

const INSTALL_TIMEOUT_MS = 15 * 60_000;

function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    child.once("error", reject);
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("installing from the packed tarball", () => {
  const root = tempDir("pwm-install-");
  const prefix = join(root, "prefix");
  const bin = join(prefix, "bin", "patchworkmcp");
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;
  let installLog = "";
  let serve: ListeningProcess | undefined;

  beforeAll(async () => {
    expect(existsSync(join(REPO_ROOT, "dist/src/cli.js")), "run `npm run build` first").toBe(true);
    // --ignore-scripts: dist/ is already built; `prepare` would rebuild it under other running tests.
    const pack = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", root], {
      cwd: REPO_ROOT,
    });
    expect(pack.code, pack.stderr).toBe(0);
    const [{ filename }] = JSON.parse(pack.stdout) as [{ filename: string }];
    expect(filename).toBe(`patchworkmcp-${version}.tgz`);

    const env: NodeJS.ProcessEnv = { ...process.env, npm_config_update_notifier: "false" };
    // Where Debian keeps Node's headers, for node-gyp (see "Requirements" in the README).
    if (!env.npm_config_nodedir && existsSync("/usr/include/node/node.h")) env.npm_config_nodedir = "/usr";
    const install = await run(
      "npm",
      [
        "install",
        "-g",
        "--prefix",
        prefix,
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--allow-scripts=better-sqlite3",
        join(root, filename),
      ],
      { cwd: root, env },
    );
    installLog = install.stdout + install.stderr;
    expect(install.code, installLog).toBe(0);
  }, INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    await serve?.stop();
  });

  it("installs with no unreviewed dependency scripts and no unexpected engine warnings", () => {
    // npm 11 lists a local tarball's own `prepare` as unreviewed (only its exact path could
    // allow it), though it never runs from a tarball: nothing else may be listed.
    const unreviewed = [...installLog.matchAll(/install-scripts\s+(\S+@\S+) \(/g)].map((m) => m[1]!);
    expect(unreviewed.filter((p) => p !== `patchworkmcp@${version}`)).toEqual([]);
    // package.json "overrides" apply to this checkout only, not to a package installed as a
    // dependency: @octokit/request still brings content-type@3, which declares Node >= 22
    // (and runs on 20). Any other engine warning is new and fails here.
    const engines = [...installLog.matchAll(/EBADENGINE\s+package: '([^']+)'/g)].map((m) => m[1]!);
    expect(engines.filter((p) => !p.startsWith("content-type@3."))).toEqual([]);
  });

  it("puts a working patchworkmcp on the prefix's PATH", async () => {
    const res = await run(bin, ["--version"], { cwd: root });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.trim()).toBe(version);
  });

  it("serves /healthz and the dashboard from the installed package", async () => {
    serve = await startListening([bin, "serve", "--port", "0", "--db", join(root, "feedback.db")], {
      env: { ...process.env, FEEDBACK_API_KEY: "" },
    });
    const health = await fetch(`${serve.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", db: "open", grouping: { pending: 0 } });
    const page = await fetch(`${serve.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<title>[^<]*PatchworkMCP/);
  });
});
