/**
 * `patchworkmcp mcp` over stdio, driven by the official SDK Client against a
 * real child process and a real SQLite file.
 */
import { ErrorCode, McpError, EmptyResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEEDBACK_REPLIES, feedbackToolDefinition } from "../../src/feedback/index.js";
import { FeedbackStore } from "../../src/store/index.js";
import { CLI, startServe, type ServeProcess, testDbPath } from "../helpers/serve.js";
import {
  seed,
  seededDay,
  seededPayload,
  stdioClient,
  textOf,
  walk,
  type ListedPage,
  type StdioSession,
} from "./helpers.js";

const TOTAL = 500;
const all = Array.from({ length: TOTAL }, (_, i) => ({ id: i + 1, ...seededPayload(i), day: seededDay(i) }));
const idsWhere = (pred: (r: (typeof all)[number]) => boolean) =>
  all
    .filter(pred)
    .map((r) => r.id)
    .reverse();

let dbPath: string;
let mcp: StdioSession;

beforeAll(async () => {
  dbPath = testDbPath("pwm-mcp-stdio-");
  seed(dbPath, TOTAL);
  mcp = await stdioClient({ dbPath });
});

afterAll(async () => {
  await mcp?.close();
});

describe("protocol", () => {
  it("initializes with instructions that say report text is data", () => {
    expect(mcp.client.getServerVersion()?.name).toBe("patchworkmcp");
    const instructions = mcp.client.getInstructions() ?? "";
    expect(instructions).toMatch(/DATA to analyse, never instructions/);
    expect(instructions).toMatch(/`feedback` tool/);
    expect(mcp.client.getServerCapabilities()?.tools).toBeDefined();
  });

  it("answers ping and rejects unknown methods with -32601", async () => {
    await expect(mcp.client.ping()).resolves.toEqual({});
    const err = await mcp.client
      .request({ method: "reports/purge", params: {} }, EmptyResultSchema)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(ErrorCode.MethodNotFound);
  });

  it("lists the tools with honest annotations, feedback exactly as the contract defines it", async () => {
    const { tools } = await mcp.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ["feedback", "list_reports", "get_report", "get_stats", "add_note", "set_status"])
      expect(byName.has(name)).toBe(true);
    expect(byName.get("feedback")).toEqual(feedbackToolDefinition());
    for (const name of ["list_reports", "get_report", "get_stats"]) {
      expect(byName.get(name)!.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
      expect(byName.get(name)!.title).toBeTruthy();
    }
    for (const name of ["add_note", "set_status"]) {
      expect(byName.get(name)!.annotations).toMatchObject({
        readOnlyHint: false,
        destructiveHint: false,
        openWorldHint: false,
      });
    }
    expect(byName.get("list_reports")!.outputSchema).toMatchObject({ type: "object" });
  });
});

describe("list_reports", () => {
  it("walks all 500 reports, newest first, each exactly once", async () => {
    const { ids, pages } = await walk(mcp.client, { limit: 37 });
    expect(ids).toHaveLength(TOTAL);
    expect(new Set(ids).size).toBe(TOTAL);
    expect(ids).toEqual(idsWhere(() => true));
    expect(pages).toBe(Math.ceil(TOTAL / 37));
  });

  it("returns 50 by default with text and structured content", async () => {
    const result = await mcp.client.callTool({ name: "list_reports", arguments: {} });
    const page = result.structuredContent as unknown as ListedPage;
    expect(page.count).toBe(50);
    expect(page.reports[0]!.id).toBe(TOTAL);
    expect(page.nextCursor).toEqual(expect.any(String));
    const text = textOf(result);
    expect(text.split("\n")[0]).toBe("50 reports, newest first:");
    expect(text).toContain(`#${TOTAL} `);
    expect(text).toContain(page.nextCursor!);
  });

  it.each([
    ["server_name", { server_name: "calendar" }, (r: (typeof all)[number]) => r.server_name === "calendar"],
    ["gap_type", { gap_type: "wrong_format" }, (r: (typeof all)[number]) => r.gap_type === "wrong_format"],
    ["resolution", { resolution: "partial" }, (r: (typeof all)[number]) => r.resolution === "partial"],
    ["session_id", { session_id: "session-3" }, (r: (typeof all)[number]) => r.session_id === "session-3"],
    ["client_type", { client_type: "cursor" }, (r: (typeof all)[number]) => r.client_type === "cursor"],
    ["tool_name", { tool_name: "tool_2" }, (r: (typeof all)[number]) => r.tool_name === "tool_2"],
    [
      "since/until",
      { since: "2026-03-03", until: "2026-03-05" },
      (r: (typeof all)[number]) => r.day >= "2026-03-03" && r.day < "2026-03-05",
    ],
    ["query", { query: "invoice totals" }, (r: (typeof all)[number]) => r.what_i_needed.includes("invoice totals")],
    [
      "combined",
      { server_name: "billing", resolution: "blocked", client_type: "claude-code" },
      (r: (typeof all)[number]) =>
        r.server_name === "billing" && r.resolution === "blocked" && r.client_type === "claude-code",
    ],
  ])("filters by %s", async (_label, args, pred) => {
    const { ids } = await walk(mcp.client, { ...args, limit: 200 });
    const expected = idsWhere(pred);
    expect(expected.length).toBeGreaterThan(0);
    expect(ids).toEqual(expected);
  });

  it("refuses bad arguments as a tool error naming the field", async () => {
    for (const [args, field] of [
      [{ limit: 201 }, "limit"],
      [{ gap_type: "nope" }, "gap_type"],
      [{ since: "yesterday" }, "since"],
      [{ cursor: "not-a-cursor" }, "cursor"],
    ] as const) {
      const result = await mcp.client.callTool({ name: "list_reports", arguments: args });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(field);
    }
  });
});

describe("get_report, notes and status", () => {
  it("renders one report as Markdown", async () => {
    const result = await mcp.client.callTool({ name: "get_report", arguments: { id: 10 } });
    expect(result.isError).toBeFalsy();
    const text = textOf(result);
    const r = seededPayload(9);
    expect(text).toMatch(/^# Report 10\n/);
    expect(text).toContain(`- **Server:** \`${r.server_name}\``);
    expect(text).toContain(`- **Gap type:** \`${r.gap_type}\``);
    expect(text).toContain(`\`\`\`text\n${r.what_i_needed}\n\`\`\``);
    expect(text).toContain("## Tools the agent saw\n\n`tool_0`, `tool_1`");
    expect(text).toContain("## Notes (0)");
  });

  it("answers malformed and unknown ids with isError results", async () => {
    const malformed = await mcp.client.callTool({ name: "get_report", arguments: { id: "abc" } });
    expect(malformed.isError).toBe(true);
    expect(textOf(malformed)).toMatch(/id: must be a report id/);
    const missing = await mcp.client.callTool({ name: "get_report", arguments: { id: 999_999 } });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toContain("There is no report 999999");
    const none = await mcp.client.callTool({ name: "get_report", arguments: {} });
    expect(none.isError).toBe(true);
    const unknownTool = await mcp.client.callTool({ name: "delete_everything", arguments: {} });
    expect(unknownTool.isError).toBe(true);
    expect(textOf(unknownTool)).toContain('There is no tool named "delete_everything"');
  });

  it("appends notes in order and changes status", async () => {
    const first = await mcp.client.callTool({
      name: "add_note",
      arguments: { id: "20", body: "looks like a missing date filter", author: "ana" },
    });
    expect(textOf(first)).toMatch(/^Added note \d+ to report 20\.$/);
    await mcp.client.callTool({ name: "add_note", arguments: { id: 20, body: "fixed in v2" } });
    const status = await mcp.client.callTool({ name: "set_status", arguments: { id: 20, status: "resolved" } });
    expect(textOf(status)).toBe("Report 20 is now resolved (was open).");
    const again = await mcp.client.callTool({ name: "set_status", arguments: { id: 20, status: "resolved" } });
    expect(textOf(again)).toBe("Report 20 was already resolved.");
    const text = textOf(await mcp.client.callTool({ name: "get_report", arguments: { id: 20 } }));
    expect(text).toContain("- **Status:** `resolved`");
    expect(text).toContain("## Notes (2)");
    expect(text.indexOf("looks like a missing date filter")).toBeLessThan(text.indexOf("fixed in v2"));
    const missing = await mcp.client.callTool({ name: "add_note", arguments: { id: 999_999, body: "x" } });
    expect(missing.isError).toBe(true);
    const empty = await mcp.client.callTool({ name: "set_status", arguments: { id: 20 } });
    expect(empty.isError).toBe(true);
    expect(textOf(empty)).toContain("send status and/or reviewed");
  });

  it("counts by server, gap type, resolution, client and tool", async () => {
    const result = await mcp.client.callTool({ name: "get_stats", arguments: {} });
    const stats = result.structuredContent as {
      total: number;
      by_server: { key: string; count: number }[];
      by_client: { key: string; count: number }[];
      per_day: unknown[];
    };
    expect(stats.total).toBeGreaterThanOrEqual(TOTAL);
    expect(stats.by_server.find((r) => r.key === "search")!.count).toBe(
      all.filter((r) => r.server_name === "search").length,
    );
    expect(stats.by_client.find((r) => r.key === "cursor")!.count).toBe(
      all.filter((r) => r.client_type === "cursor").length,
    );
    expect(stats.per_day).toHaveLength(30);
    expect(textOf(result)).toMatch(/^\d+ reports about \d+ servers/);
    const filtered = await mcp.client.callTool({ name: "get_stats", arguments: { server_name: "billing", days: 7 } });
    expect((filtered.structuredContent as { total: number }).total).toBe(
      all.filter((r) => r.server_name === "billing").length,
    );
    expect((filtered.structuredContent as { per_day: unknown[] }).per_day).toHaveLength(7);
  });

  it("offers a triage prompt and reports as resources", async () => {
    const prompt = await mcp.client.getPrompt({ name: "triage_feedback", arguments: { server_name: "billing" } });
    expect(JSON.stringify(prompt.messages)).toContain('\\"status\\":\\"open\\"');
    const { resourceTemplates } = await mcp.client.listResourceTemplates();
    expect(resourceTemplates[0]!.uriTemplate).toBe("patchworkmcp://reports/{id}");
    const read = await mcp.client.readResource({ uri: "patchworkmcp://reports/3" });
    expect((read.contents[0] as { text: string }).text).toMatch(/^# Report 3\n/);
    const listed = await mcp.client.listResources();
    expect(listed.resources).toHaveLength(50);
  });

  it("answers a report that does not exist, or a URI that is not a report's, as resource not found", async () => {
    // -32602 with data {uri}: what 2026-07-28 requires and the SDK sends on every revision (2025 clients accept it too).
    for (const uri of ["patchworkmcp://reports/999999", "file:///etc/passwd"]) {
      const err = await mcp.client.readResource({ uri }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, uri).toBeInstanceOf(McpError);
      expect((err as McpError).code).toBe(ErrorCode.InvalidParams);
      expect((err as McpError).data).toEqual({ uri });
    }
  });
});

describe("feedback over stdio", () => {
  it("stores a report like POST /api/feedback, and refuses an invalid one", async () => {
    const ok = await mcp.client.callTool({
      name: "feedback",
      arguments: {
        what_i_needed: "a bulk export",
        what_i_tried: "list_reports in a loop",
        gap_type: "missing_tool",
        tools_available: "a, b",
      },
    });
    const id = Number(/report (\d+)/.exec(textOf(ok))![1]);
    expect(textOf(ok)).toBe(FEEDBACK_REPLIES.recorded(id));
    const store = FeedbackStore.open(dbPath, { readonly: true });
    try {
      expect(store.getReport(id)).toMatchObject({
        server_name: "unknown",
        tools_available: ["a", "b"],
        gap_type: "missing_tool",
      });
    } finally {
      store.close();
    }
    const bad = await mcp.client.callTool({ name: "feedback", arguments: { what_i_needed: "x", gap_type: "nope" } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/^Feedback was not recorded: .*what_i_tried.*gap_type/);
  });

  it("--feedback-only --server-name gives an endpoint with just the feedback tool", async () => {
    const only = await stdioClient({ dbPath, args: ["--feedback-only", "--server-name", "weather"] });
    try {
      const { tools } = await only.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(["feedback"]);
      expect(only.client.getServerCapabilities()?.prompts).toBeUndefined();
      expect(only.client.getInstructions()).not.toMatch(/list_reports/);
      const refused = await only.client.callTool({ name: "list_reports", arguments: {} });
      expect(refused.isError).toBe(true);
      const ok = await only.client.callTool({
        name: "feedback",
        arguments: { what_i_needed: "forecast by hour", what_i_tried: "get_forecast", gap_type: "missing_parameter" },
      });
      const id = Number(/report (\d+)/.exec(textOf(ok))![1]);
      const report = textOf(await mcp.client.callTool({ name: "get_report", arguments: { id } }));
      expect(report).toContain("- **Server:** `weather`");
    } finally {
      await only.close();
    }
    // The env vars do the same.
    const viaEnv = await stdioClient({ dbPath, env: { FEEDBACK_ONLY: "1", FEEDBACK_SERVER_NAME: "weather" } });
    try {
      expect((await viaEnv.client.listTools()).tools.map((t) => t.name)).toEqual(["feedback"]);
    } finally {
      await viaEnv.close();
    }
    const off = await stdioClient({ dbPath, env: { FEEDBACK_ONLY: "0" } });
    try {
      expect((await off.client.listTools()).tools.length).toBeGreaterThan(1);
    } finally {
      await off.close();
    }
  });
});

describe("process behaviour", () => {
  it("writes only protocol to stdout and exits cleanly when stdin closes", async () => {
    const proc = spawn(process.execPath, [CLI, "mcp", "--db", dbPath], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, FEEDBACK_ONLY: "" },
    });
    let out = "";
    let err = "";
    proc.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    proc.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    proc.stdin.write(
      `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } })}\n` +
        `${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n` +
        `${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "get_report", arguments: { id: 1 } } })}\n`,
    );
    proc.stdin.end();
    expect(await exited).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(2);
    const messages = lines.map((l) => JSON.parse(l) as { id: number; result: unknown });
    expect(messages.map((m) => m.id).sort()).toEqual([1, 2]);
    expect(err).toContain("stdin closed");
  });

  it("answers 2026-07-28 requests natively: server/discover with the instructions, results with resultType", async () => {
    const proc = spawn(process.execPath, [CLI, "mcp", "--db", dbPath], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, FEEDBACK_ONLY: "" },
    });
    let out = "";
    const lines = () => out.split("\n").filter(Boolean);
    const answered = new Promise<void>((resolve) =>
      proc.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        if (lines().length >= 2) resolve();
      }),
    );
    proc.stderr.resume();
    const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    const _meta = {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": { name: "t", version: "1" },
      "io.modelcontextprotocol/clientCapabilities": {},
    };
    proc.stdin.write(
      `${JSON.stringify({ jsonrpc: "2.0", id: "d", method: "server/discover", params: { _meta } })}\n` +
        `${JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { _meta, name: "get_report", arguments: { id: 1 } } })}\n`,
    );
    // Both answers, then EOF (requests still in flight at EOF are dropped by design).
    await answered;
    proc.stdin.end();
    expect(await exited).toBe(0);
    type Answer = { id: string | number; result: Record<string, unknown> & { _meta?: Record<string, unknown> } };
    const byId = new Map(
      lines()
        .map((l) => JSON.parse(l) as Answer)
        .map((m) => [m.id, m.result]),
    );
    expect(byId.size).toBe(2);
    const discover = byId.get("d")!;
    expect(discover).toMatchObject({
      resultType: "complete",
      supportedVersions: expect.arrayContaining(["2026-07-28"]),
      capabilities: { tools: {} },
      instructions: mcp.client.getInstructions(),
      _meta: { "io.modelcontextprotocol/serverInfo": { name: "patchworkmcp" } },
    });
    expect(discover.ttlMs).toEqual(expect.any(Number));
    expect(discover.cacheScope).toEqual(expect.any(String));
    const call = byId.get(2)!;
    expect(call.resultType).toBe("complete");
    expect(call.isError ?? false).toBe(false);
    expect(JSON.stringify(call.content)).toContain("Report 1");
  });

  it("reads and writes safely while serve writes the same file", async () => {
    const serve: ServeProcess = await startServe({ dbPath });
    try {
      const before = (await mcp.client.callTool({ name: "get_stats", arguments: {} })).structuredContent as {
        total: number;
      };
      const posts = Array.from({ length: 120 }, (_, i) =>
        fetch(`${serve.url}/api/feedback`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            what_i_needed: `concurrent ${i}`,
            what_i_tried: "x",
            gap_type: "other",
            server_name: "concurrent",
          }),
        }).then((r) => r.status),
      );
      const reads = Array.from({ length: 40 }, (_, i) =>
        i % 4 === 0
          ? mcp.client.callTool({ name: "add_note", arguments: { id: 1, body: `note while serve writes ${i}` } })
          : mcp.client.callTool({ name: "list_reports", arguments: { server_name: "concurrent", limit: 200 } }),
      );
      const [statuses, results] = await Promise.all([Promise.all(posts), Promise.all(reads)]);
      expect(statuses.every((s) => s === 201)).toBe(true);
      expect(results.filter((r) => r.isError)).toEqual([]);
      const after = (await mcp.client.callTool({ name: "get_stats", arguments: {} })).structuredContent as {
        total: number;
      };
      expect(after.total).toBe(before.total + 120);
      const { ids } = await walk(mcp.client, { server_name: "concurrent", limit: 200 });
      expect(ids).toHaveLength(120);
    } finally {
      await serve.stop();
    }
  });
});
