/**
 * The proxy over stdio in front of real upstream processes: what passes
 * through untouched, the three interceptions, and what a report gets for free.
 */
import {
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import Database from "better-sqlite3";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEEDBACK_REPLIES, feedbackToolDefinition } from "../../src/feedback/index.js";
import { instructionsFor } from "../../proxy/session.js";
import {
  EVERYTHING,
  NODE,
  RawClient,
  connectStdioProxy,
  fixtureCommand,
  tempDir,
  textOf,
  waitFor,
  type StdioProxy,
} from "./helpers.js";

interface Row {
  id: number;
  server_name: string;
  server_version: string | null;
  gap_type: string;
  tool_name: string | null;
  client_type: string | null;
  session_id: string | null;
  tools_available: string;
  what_i_needed: string;
  what_i_tried: string;
  redactions: string;
}

const rows = (db: string): Row[] =>
  existsSync(db)
    ? (new Database(db, { readonly: true }).prepare("SELECT * FROM reports ORDER BY id").all() as Row[])
    : [];

const validReport = {
  what_i_needed: "filter notes by date",
  what_i_tried: "called echo",
  gap_type: "missing_parameter",
};

async function allTools(p: StdioProxy): Promise<{ tools: Tool[]; cursors: string[] }> {
  const tools: Tool[] = [];
  const cursors: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await p.client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
    if (cursor !== undefined) cursors.push(cursor);
  } while (cursor !== undefined);
  return { tools, cursors };
}

describe("stdio proxy in front of the fixture server", () => {
  const db = join(tempDir(), "feedback.db");
  let p: StdioProxy;
  const notifications: { method: string; params?: unknown }[] = [];

  beforeAll(async () => {
    p = await connectStdioProxy({
      proxyArgs: ["--db", db, "--outbox", join(tempDir(), "outbox.log")],
      upstream: fixtureCommand(
        "--page-size",
        "4",
        "--extra-tools",
        "3",
        "--noisy-stdout",
        "--instructions",
        "Fixture rules.",
      ),
    });
    for (const schema of [
      LoggingMessageNotificationSchema,
      ToolListChangedNotificationSchema,
      ResourceUpdatedNotificationSchema,
    ]) {
      p.client.setNotificationHandler(schema, (n) => {
        notifications.push(n);
      });
    }
  });
  afterAll(() => p?.close());

  it("appends the feedback instructions and keeps upstream's capabilities and serverInfo", () => {
    expect(p.client.getInstructions()).toBe(`Fixture rules.\n\n${instructionsFor("feedback")}`);
    expect(p.client.getServerCapabilities()).toEqual({
      tools: { listChanged: true },
      resources: { subscribe: true },
      logging: {},
    });
    expect(p.client.getServerVersion()).toEqual({ name: "fixture-server", version: "1.2.3" });
  });

  it("adds the feedback tool to the first page only and passes every cursor through", async () => {
    const first = await p.client.listTools();
    expect(first.tools.map((t) => t.name)).toEqual(["echo", "slow", "sample", "elicit", "feedback"]);
    expect(first.tools[4]).toEqual(feedbackToolDefinition());
    expect(first.nextCursor).toBe(Buffer.from("4").toString("base64url"));
    const { tools, cursors } = await allTools(p);
    expect(cursors).toEqual(["4", "8", "12", "16"].map((n) => Buffer.from(n).toString("base64url")));
    expect(tools.filter((t) => t.name === "feedback")).toHaveLength(1);
    expect(tools.map((t) => t.name)).toContain("tool_002");
    expect(tools).toHaveLength(18);
  });

  it("passes _meta and arguments through unchanged", async () => {
    const result = await p.client.callTool({
      name: "echo",
      arguments: { text: "héllo ✓" },
      _meta: { trace: "abc", nested: { n: 1 } },
    });
    expect(textOf(result)).toBe("héllo ✓");
    expect(result.structuredContent).toEqual({ meta: { trace: "abc", nested: { n: 1 } }, trace: null });
  });

  it("delivers progress notifications for the caller's token", async () => {
    const seen: number[] = [];
    // The fixture waits delayMs between its last notification and its answer, because the SDK
    // client drops progress it handles after the answer. A proxy starved of CPU that long (it
    // lowers its own priority, --nice) passes both on at once: 100 ms was not always enough
    // under a full parallel test run on two cores.
    const result = await p.client.callTool({ name: "slow", arguments: { steps: 3, delayMs: 300 } }, undefined, {
      onprogress: (e) => seen.push(e.progress),
    });
    expect(textOf(result)).toBe("done after 3 steps");
    expect(seen).toEqual([1, 2, 3]);
  });

  it("relays sampling, elicitation and roots requests from the server", async () => {
    expect(textOf(await p.client.callTool({ name: "sample", arguments: { prompt: "hi" } }))).toBe(
      'sampled: echo of {"type":"text","text":"hi"}',
    );
    expect(textOf(await p.client.callTool({ name: "elicit", arguments: {} }))).toBe('elicited: accept {"name":"Ada"}');
    expect(textOf(await p.client.callTool({ name: "roots", arguments: {} }))).toBe("roots: file:///work");
  });

  it("relays logging, list_changed and resource update notifications", async () => {
    await p.client.callTool({ name: "log", arguments: { message: "from upstream" } });
    await p.client.subscribeResource({ uri: "fixture://note" });
    await p.client.callTool({ name: "touch", arguments: {} });
    await p.client.callTool({ name: "add_tool", arguments: { name: "brand_new" } });
    await waitFor(() => notifications.length >= 3, 10_000, "three notifications");
    expect(notifications).toEqual(
      expect.arrayContaining([
        { method: "notifications/message", params: { level: "info", logger: "fixture", data: "from upstream" } },
        { method: "notifications/resources/updated", params: { uri: "fixture://note" } },
        { method: "notifications/tools/list_changed" },
      ]),
    );
    const { tools } = await allTools(p);
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["brand_new", "feedback"]));
  });

  it("carries a 5 MB result intact", async () => {
    const result = await p.client.callTool({ name: "big", arguments: { bytes: 5 * 1024 * 1024 } });
    const text = textOf(result);
    expect(text.length).toBe(5 * 1024 * 1024);
    expect(/^x+$/.test(text)).toBe(true);
  });

  it("keeps non-protocol stdout lines away from the client", () => {
    expect(p.stderr()).toContain("non-JSON-RPC line to stdout (not forwarded): fixture-server starting");
  });

  it("records a feedback call with what the proxy knows filled in", async () => {
    const result = await p.client.callTool({
      name: "feedback",
      arguments: { ...validReport, server_name: "guessed-by-agent" },
    });
    const row = rows(db).find((r) => r.what_i_needed === validReport.what_i_needed)!;
    expect(textOf(result)).toBe(FEEDBACK_REPLIES.recorded(row.id));
    expect(result.isError).toBeFalsy();
    expect(row.server_name).toBe("fixture-server");
    expect(row.server_version).toBe("1.2.3");
    expect(row.client_type).toBe("test-client/1.0.0");
    expect(row.session_id).toMatch(/^stdio-[0-9a-f-]{36}$/);
    expect(JSON.parse(row.tools_available)).toEqual(expect.arrayContaining(["echo", "tool_002", "brand_new"]));
    expect(JSON.parse(row.tools_available)).not.toContain("feedback");
  });

  it("scrubs a feedback call before writing it into --db, and keeps the redactions", async () => {
    const email = `${"ab".repeat(3)}.cd@example.org`;
    await p.client.callTool({
      name: "feedback",
      arguments: { ...validReport, what_i_needed: "mail the notes", what_i_tried: `sent them to ${email}` },
    });
    const row = await waitFor(() => rows(db).find((r) => r.what_i_needed === "mail the notes"), 10_000, "report");
    expect(row.what_i_tried).toBe("sent them to [email]");
    expect(JSON.parse(row.redactions)).toEqual([{ field: "what_i_tried", rule: "email", count: 1 }]);
  });

  it("answers an invalid feedback call with isError and the field messages", async () => {
    const result = await p.client.callTool({ name: "feedback", arguments: { what_i_needed: "x", gap_type: "nope" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^Feedback was not recorded: what_i_tried: .*gap_type: gap_type must be one of/);
  });

  it("records a call to a tool upstream never listed as missing_tool, once, and passes the call through", async () => {
    const result = await p.client.callTool({ name: "summarize_notes", arguments: { since: "2024-01-01" } });
    expect(textOf(result)).toBe("Unknown tool: summarize_notes");
    expect(result.isError).toBe(true);
    await p.client.callTool({ name: "summarize_notes", arguments: {} });
    const row = await waitFor(
      () => rows(db).find((r) => r.tool_name === "summarize_notes"),
      10_000,
      "missing_tool report",
    );
    expect(row.gap_type).toBe("missing_tool");
    expect(row.server_name).toBe("fixture-server");
    // Without --record-arguments the report names the arguments, never their values.
    expect(row.what_i_tried).toContain('and arguments named "since", but');
    expect(row.what_i_tried).not.toContain("2024-01-01");
    await p.client.callTool({ name: "echo", arguments: { text: "sync" } });
    expect(rows(db).filter((r) => r.tool_name === "summarize_notes")).toHaveLength(1);
  });
});

describe("stdio proxy: upstream shapes", () => {
  it("keeps upstream's own feedback tool and offers ours under the collision name", async () => {
    const db = join(tempDir(), "feedback.db");
    const p = await connectStdioProxy({
      proxyArgs: ["--db", db, "--outbox", join(tempDir(), "o.log")],
      upstream: fixtureCommand("--feedback-tool"),
    });
    try {
      const names = (await p.client.listTools()).tools.map((t) => t.name);
      expect(names.filter((n) => n === "feedback")).toHaveLength(1);
      expect(names).toContain("patchworkmcp_feedback");
      // The proxy listed upstream's tools before answering initialize: the instructions already use the other name.
      expect(p.client.getInstructions()).toBe(instructionsFor("patchworkmcp_feedback"));
      expect(textOf(await p.client.callTool({ name: "feedback", arguments: { text: "hi" } }))).toBe(
        "upstream feedback tool answered",
      );
      const ours = await p.client.callTool({ name: "patchworkmcp_feedback", arguments: validReport });
      expect(textOf(ours)).toBe(FEEDBACK_REPLIES.recorded(1));
      expect(p.stderr()).toContain(
        'upstream already has a tool named "feedback": keeping it, and offering the feedback tool as "patchworkmcp_feedback"',
      );
    } finally {
      await p.close();
    }
  });

  it("does not answer for upstream's feedback tool even when the client calls it before listing", async () => {
    const p = await connectStdioProxy({
      proxyArgs: [
        "--db",
        join(tempDir(), "f.db"),
        "--outbox",
        join(tempDir(), "o.log"),
        "--collision-tool-name",
        "report_gap",
      ],
      upstream: fixtureCommand("--feedback-tool"),
    });
    try {
      expect(textOf(await p.client.callTool({ name: "feedback", arguments: { text: "hi" } }))).toBe(
        "upstream feedback tool answered",
      );
      expect((await p.client.listTools()).tools.map((t) => t.name)).toContain("report_gap");
    } finally {
      await p.close();
    }
  });

  it("does not hold initialize for long when upstream is slow to list its tools", async () => {
    const p = await connectStdioProxy({
      proxyArgs: ["--db", join(tempDir(), "f.db"), "--outbox", join(tempDir(), "o.log")],
      upstream: fixtureCommand("--feedback-tool", "--tools-list-delay-ms", "5000"),
    });
    try {
      // Answered after the proxy's wait, before upstream's list: the instructions name the default.
      expect(p.client.getInstructions()).toBe(instructionsFor("feedback"));
      await waitFor(
        () => p.stderr().includes("upstream did not list its tools within 3000 ms of initialize"),
        5_000,
        "the proxy saying it stopped waiting",
      );
      // Once the list arrives the collision is still handled.
      expect((await p.client.listTools()).tools.map((t) => t.name)).toContain("patchworkmcp_feedback");
    } finally {
      await p.close();
    }
  }, 30_000);

  it("drops upstream's late answer to the proxy's own tools/list instead of passing it to the client", async () => {
    const dir = tempDir();
    // The proxy gives up on its own tools/list after 300 ms; the fixture answers every tools/list after 1.5 s.
    const c = new RawClient(fixtureCommand("--tools-list-delay-ms", "1500"), [
      ...["--db", join(dir, "f.db"), "--outbox", join(dir, "o.log"), "--probe-timeout", "300", "--debug"],
    ]);
    await c.initialize();
    // Asked after the proxy's own, answered after it over the same pipe: by then the late answer has been dealt with.
    c.send({ id: 1, method: "tools/list" });
    const list = await c.response(1);
    expect((list.result as { tools: Tool[] }).tools.map((t) => t.name)).toContain("feedback");
    expect(c.lines.map((l) => l.id)).toEqual([0, 1]);
    expect(c.stderr).toMatch(/debug: dropped upstream's answer to the proxy's own request patchworkmcp-proxy:/);
    c.proc.stdin.end();
    expect(await c.exit).toBe(0);
  }, 30_000);

  it("offers the feedback tool when upstream has no tools capability", async () => {
    const db = join(tempDir(), "feedback.db");
    const p = await connectStdioProxy({
      proxyArgs: ["--db", db, "--outbox", join(tempDir(), "o.log")],
      upstream: fixtureCommand("--no-tools"),
    });
    try {
      expect(p.client.getServerCapabilities()?.tools).toEqual({});
      expect(p.client.getServerCapabilities()?.resources).toEqual({ subscribe: true });
      expect((await p.client.listTools()).tools).toEqual([feedbackToolDefinition()]);
      expect(textOf(await p.client.callTool({ name: "feedback", arguments: validReport }))).toBe(
        FEEDBACK_REPLIES.recorded(1),
      );
      expect((await p.client.listResources()).resources.map((r) => r.uri)).toEqual(["fixture://note"]);
    } finally {
      await p.close();
    }
  });

  it("offers the feedback tool when upstream's tools/list fails", async () => {
    const p = await connectStdioProxy({
      proxyArgs: ["--db", join(tempDir(), "f.db"), "--outbox", join(tempDir(), "o.log")],
      upstream: fixtureCommand("--fail-tools-list"),
    });
    try {
      expect((await p.client.listTools()).tools.map((t) => t.name)).toEqual(["feedback"]);
      expect(textOf(await p.client.callTool({ name: "feedback", arguments: validReport }))).toBe(
        FEEDBACK_REPLIES.recorded(1),
      );
    } finally {
      await p.close();
    }
  });

  it("works in front of @modelcontextprotocol/server-everything", async () => {
    const db = join(tempDir(), "feedback.db");
    const p = await connectStdioProxy({
      proxyArgs: ["--db", db, "--outbox", join(tempDir(), "o.log"), "--name", "everything"],
      upstream: [NODE, EVERYTHING, "stdio"],
    });
    try {
      const names = (await p.client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["echo", "get-sum", "trigger-long-running-operation", "feedback"]));
      expect(textOf(await p.client.callTool({ name: "get-sum", arguments: { a: 2, b: 3 } }))).toContain("5");
      const seen: number[] = [];
      await p.client.callTool(
        { name: "trigger-long-running-operation", arguments: { duration: 1.5, steps: 3 } },
        undefined,
        { onprogress: (e) => seen.push(e.progress) },
      );
      // The last one races the result inside the SDK client (directly too), so only the earlier ones are certain.
      expect(seen.slice(0, 2)).toEqual([1, 2]);
      expect(
        textOf(
          await p.client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "hey", maxTokens: 5 } }),
        ),
      ).toContain("echo of");
      await p.client.callTool({ name: "feedback", arguments: validReport });
      expect(rows(db)[0]!.server_name).toBe("everything");
    } finally {
      await p.close();
    }
  });
});
