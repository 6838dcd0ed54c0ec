/**
 * The stdio `mcp` command never loads the web stack: a real `patchworkmcp mcp`
 * child runs with a preload that records every module it loads (ES modules
 * through a loader hook, CommonJS through the require cache), is driven
 * through every report tool, the prompt and a resource by the SDK client, and
 * neither express, the SDK's HTTP hosting (@modelcontextprotocol/node, hono)
 * nor anything from dist/src/http may appear in the record.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect, it } from "vitest";
import { CLI, REPO_ROOT, tempDir } from "../helpers/serve.js";
import { seed } from "./helpers.js";

const PRELOAD = pathToFileURL(join(REPO_ROOT, "test/fixtures/record-modules.mjs")).href;

it("loads neither express nor the HTTP app", async () => {
  const dir = tempDir("pwm-mcp-modules-");
  const dbPath = join(dir, "feedback.db");
  const logPath = join(dir, "modules.log");
  seed(dbPath, 5);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ["--import", PRELOAD, CLI, "mcp", "--db", dbPath],
    env: { ...(process.env as Record<string, string>), PWM_MODULE_LOG: logPath, FEEDBACK_ONLY: "" },
    stderr: "pipe",
  });
  const client = new Client({ name: "modules-test", version: "1.0.0" });
  await client.connect(transport);
  const exited = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
  });
  try {
    const calls: [string, Record<string, unknown>][] = [
      ["list_reports", { limit: 2 }],
      ["get_report", { id: 1 }],
      ["get_stats", { days: 7 }],
      [
        "feedback",
        { what_i_needed: "a bulk export", what_i_tried: "list_reports in a loop", gap_type: "missing_tool" },
      ],
      ["add_note", { id: 1, body: "checked", author: "" }],
      ["set_status", { id: 1, status: "reviewed" }],
    ];
    for (const [name, args] of calls) {
      const result = await client.callTool({ name, arguments: args });
      expect(result.isError, `${name}: ${JSON.stringify(result.content)}`).toBeFalsy();
    }
    await client.getPrompt({ name: "triage_feedback", arguments: {} });
    await client.readResource({ uri: "patchworkmcp://reports/1" });
  } finally {
    await client.close();
    await exited;
  }

  const loaded = readFileSync(logPath, "utf8").split("\n").filter(Boolean);
  // The record works: it saw our modules, the SDK (ESM) and better-sqlite3 (CommonJS, as express would be).
  expect(loaded.some((m) => m.endsWith("/dist/src/mcp/server.js"))).toBe(true);
  expect(loaded.some((m) => m.includes("/node_modules/@modelcontextprotocol/server/"))).toBe(true);
  expect(loaded.some((m) => m.includes("/node_modules/better-sqlite3/"))).toBe(true);
  expect(
    loaded.filter((m) =>
      /\/node_modules\/(express|hono|@hono\/node-server|@modelcontextprotocol\/node)\/|\/dist\/src\/(http|mcp\/http)/.test(
        m,
      ),
    ),
  ).toEqual([]);
});
