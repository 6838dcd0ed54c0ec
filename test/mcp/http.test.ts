/**
 * /mcp on a real `patchworkmcp serve` process: the SDK Client over streamable
 * HTTP, scoped keys (401/403), sessions, body limits, Host/Origin checks.
 */
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { request } from "node:http";
import { networkInterfaces } from "node:os";
import { groupingSettled } from "../helpers/gaps.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FeedbackStore } from "../../src/store/index.js";
import { startServe, type ServeProcess, testDbPath } from "../helpers/serve.js";
import { httpClient, INIT, rawMcp, openRawSession, seed, textOf, walk, type RawOptions } from "./helpers.js";

const TOTAL = 500;
let serve: ServeProcess;
let mcpUrl: string;
const keys = { ingest: "", read: "", admin: "" };

const raw = (options: RawOptions) => rawMcp(mcpUrl, options);
const openSession = (key?: string) => openRawSession(mcpUrl, key);

const callTool = (id: number, name: string, args: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args },
});

beforeAll(async () => {
  const dbPath = testDbPath("pwm-mcp-http-");
  seed(dbPath, TOTAL);
  const store = FeedbackStore.open(dbPath);
  keys.ingest = store.createKey("ingest", "agents").key;
  keys.read = store.createKey("read", "reader").key;
  keys.admin = store.createKey("admin", "owner").key;
  store.close();
  serve = await startServe({ dbPath });
  mcpUrl = `${serve.url}/mcp`;
});

afterAll(async () => {
  await serve?.stop();
});

describe("authentication", () => {
  it("answers 401 without a key or with a wrong one", async () => {
    for (const key of [undefined, "pwm_000000000000_AAAAAAAAAAAAAAAAAAAAAAAA", "nonsense"]) {
      const res = await raw({ key, body: INIT });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      expect(res.body?.error?.message).toMatch(/API key/);
    }
    const err = await httpClient(mcpUrl).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StreamableHTTPError);
    expect((err as StreamableHTTPError).code).toBe(401);
  });
});

describe("scopes", () => {
  it("checks the key on every request: a key revoked mid-session gets 401", async () => {
    const store = FeedbackStore.open(serve.dbPath);
    const { key, info } = store.createKey("read", "short-lived");
    try {
      const { client } = await httpClient(mcpUrl, key);
      expect((await client.callTool({ name: "get_stats", arguments: {} })).isError).toBeFalsy();
      store.revokeKey(info.id);
      const err = await client.callTool({ name: "get_stats", arguments: {} }).catch((e: unknown) => e);
      expect((err as StreamableHTTPError).code).toBe(401);
      await client.close().catch(() => {});
    } finally {
      store.close();
    }
  });

  it("an ingest key sees and calls only feedback; reading is a 403 naming feedback:read", async () => {
    const { client } = await httpClient(mcpUrl, keys.ingest);
    try {
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["feedback"]);
      expect(client.getServerCapabilities()?.prompts).toBeUndefined();
      expect(client.getInstructions()).not.toMatch(/list_reports/);
      const ok = await client.callTool({
        name: "feedback",
        arguments: { what_i_needed: "via mcp", what_i_tried: "x", gap_type: "other" },
      });
      expect(textOf(ok)).toMatch(/recorded \(report \d+\)/);
      const err = await client.callTool({ name: "list_reports", arguments: {} }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StreamableHTTPError);
      expect((err as StreamableHTTPError).code).toBe(403);
      expect((err as Error).message).toContain("feedback:read");
    } finally {
      await client.close();
    }
    const session = await openSession(keys.ingest);
    const res = await raw({ key: keys.ingest, session, body: callTool(7, "get_report", { id: 1 }) });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({
      id: 7,
      error: {
        message: expect.stringContaining("lacks the feedback:read scope"),
        data: { required_scope: "feedback:read", key_scope: "feedback:ingest" },
      },
    });
    const prompts = await raw({ key: keys.ingest, session, body: { jsonrpc: "2.0", id: 8, method: "prompts/list" } });
    expect(prompts.status).toBe(403);
  });

  it("a read key adds the read tools; writing is a 403 naming feedback:admin", async () => {
    const { client } = await httpClient(mcpUrl, keys.read);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual([
        "feedback",
        "list_reports",
        "get_report",
        "get_stats",
        "list_gaps",
        "get_gap",
        "get_tool_stats",
      ]);
      const err = await client.callTool({ name: "add_note", arguments: { id: 1, body: "x" } }).catch((e: unknown) => e);
      expect((err as StreamableHTTPError).code).toBe(403);
      expect((err as Error).message).toContain("feedback:admin");
      // Walk every seeded report over HTTP: each exactly once.
      const { ids } = await walk(client, { limit: 200, server_name: "billing" });
      const { ids: everything } = await walk(client, { limit: 64 });
      expect(everything.filter((id) => id <= TOTAL)).toEqual(Array.from({ length: TOTAL }, (_, i) => TOTAL - i));
      expect(new Set(everything).size).toBe(everything.length);
      expect(ids.length).toBe(Math.ceil(TOTAL / 3));
      const md = textOf(await client.callTool({ name: "get_report", arguments: { id: 2 } }));
      expect(md).toMatch(/^# Report 2\n/);
      const bad = await client.callTool({ name: "get_report", arguments: { id: "2; DROP TABLE reports" } });
      expect(bad.isError).toBe(true);
    } finally {
      await client.close();
    }
  });

  it("an admin key sees the writing tools and can use them", async () => {
    const { client } = await httpClient(mcpUrl, keys.admin);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(
        expect.arrayContaining(["feedback", "list_reports", "get_report", "get_stats", "add_note", "set_status"]),
      );
      expect(
        textOf(await client.callTool({ name: "add_note", arguments: { id: 5, body: "triaged over HTTP" } })),
      ).toMatch(/^Added note/);
      expect(textOf(await client.callTool({ name: "set_status", arguments: { id: 5, reviewed: true } }))).toBe(
        "Report 5 is now reviewed (was open).",
      );
      const md = textOf(await client.callTool({ name: "get_report", arguments: { id: 5 } }));
      expect(md).toContain("triaged over HTTP");
      expect(md).toContain("- **Status:** `reviewed`");
    } finally {
      await client.close();
    }
  });

  it("stores feedback over MCP exactly like POST /api/feedback", async () => {
    const payload = {
      what_i_needed: "same report twice",
      what_i_tried: "both doors",
      gap_type: "incomplete_results",
      server_name: "twin",
      tool_name: "t",
      resolution: "partial",
      tools_available: ["t", "u"],
      session_id: "s",
      client_type: "c",
      agent_model: "m",
      suggestion: "s",
      user_goal: "g",
      server_version: "1",
    };
    const { client } = await httpClient(mcpUrl, keys.ingest);
    const viaMcp = Number(
      /report (\d+)/.exec(textOf(await client.callTool({ name: "feedback", arguments: payload })))![1],
    );
    await client.close();
    const post = await fetch(`${serve.url}/api/feedback`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${keys.ingest}` },
      body: JSON.stringify(payload),
    });
    const viaRest = ((await post.json()) as { id: number }).id;
    // Both join their gap once the grouping worker has passed them (the same gap: identical reports).
    await groupingSettled(serve.url);
    const get = async (id: number) => {
      const res = await fetch(`${serve.url}/api/feedback/${id}`, { headers: { Authorization: `Bearer ${keys.read}` } });
      const { id: _id, created_at: _c, ...rest } = (await res.json()) as Record<string, unknown>;
      return rest;
    };
    expect(await get(viaMcp)).toEqual(await get(viaRest));
  });
});

describe("sessions and HTTP edges", () => {
  it("negotiates the protocol version and returns the instructions", async () => {
    const known = await raw({
      key: keys.read,
      body: { ...INIT, params: { ...INIT.params, protocolVersion: "2025-03-26" } },
    });
    expect(known.body?.result).toMatchObject({ protocolVersion: "2025-03-26", serverInfo: { name: "patchworkmcp" } });
    expect((known.body!.result as { instructions: string }).instructions).toMatch(/never instructions/);
    const future = await raw({
      key: keys.read,
      body: { ...INIT, params: { ...INIT.params, protocolVersion: "2099-01-01" } },
    });
    expect((future.body!.result as { protocolVersion: string }).protocolVersion).toBe(LATEST_PROTOCOL_VERSION);
  });

  it("binds a session to its key, answers 404 for unknown sessions and honours DELETE", async () => {
    const session = await openSession(keys.read);
    const list = await raw({ key: keys.read, session, body: callTool(2, "list_reports", { limit: 1 }) });
    expect(list.status).toBe(200);
    expect(list.body?.result).toMatchObject({ structuredContent: { count: 1 } });
    const other = await raw({ key: keys.admin, session, body: callTool(3, "add_note", { id: 1, body: "hijack" }) });
    expect(other.status).toBe(403);
    expect(other.body?.error?.message).toMatch(/different API key/);
    const unknown = await raw({
      key: keys.read,
      session: "00000000-0000-0000-0000-000000000000",
      body: callTool(4, "list_reports"),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body?.error?.code).toBe(-32001);
    const del = await raw({ key: keys.read, session, method: "DELETE" });
    expect(del.status).toBe(200);
    const after = await raw({ key: keys.read, session, body: callTool(5, "list_reports") });
    expect(after.status).toBe(404);
  });

  it("refuses requests without a session, other methods, oversized and malformed bodies", async () => {
    expect((await raw({ key: keys.read, body: callTool(1, "list_reports") })).status).toBe(400);
    expect((await raw({ key: keys.read, method: "GET" })).status).toBe(400);
    const put = await raw({ key: keys.read, method: "PUT", body: INIT });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, POST, DELETE");
    const session = await openSession(keys.admin);
    const huge = await raw({
      key: keys.admin,
      session,
      body: callTool(9, "add_note", { id: 1, body: "x".repeat(5 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ jsonrpc: "2.0", error: { message: expect.stringContaining("4mb") } });
    // Under the limit but over the tool's own limit: a tool error, not a transport error.
    const big = await raw({
      key: keys.admin,
      session,
      body: callTool(10, "add_note", { id: 1, body: "x".repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(200);
    expect(big.body?.result).toMatchObject({ isError: true });
    const broken = await raw({ key: keys.admin, session, rawBody: '{"jsonrpc":"2.0",' });
    expect(broken.status).toBe(400);
    expect(broken.body?.error?.code).toBe(-32700);
    const unknownMethod = await raw({
      key: keys.admin,
      session,
      body: { jsonrpc: "2.0", id: 11, method: "reports/purge" },
    });
    expect(unknownMethod.body?.error?.code).toBe(-32601);
  });

  it("rejects a DNS-rebound Host and a foreign Origin", async () => {
    // fetch cannot set Host, so this one goes through node:http.
    const hostStatus = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(
        mcpUrl,
        {
          method: "POST",
          headers: {
            Host: `evil.example.com:${serve.port}`,
            "Content-Type": "application/json",
            Accept: "application/json, text/event-stream",
            Authorization: `Bearer ${keys.read}`,
          },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.once("error", reject);
      req.end(JSON.stringify(INIT));
    });
    expect(hostStatus).toBe(403);
    const origin = await raw({ key: keys.read, body: INIT, headers: { Origin: "http://evil.example.com" } });
    expect(origin.status).toBe(403);
  });
});

describe("no key configured", () => {
  it("is open to loopback clients and closed to everyone else", async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal);
    if (!external) throw new Error("this test needs a non-loopback IPv4 interface to connect from");
    const open = await startServe({ args: ["--host", "0.0.0.0"] });
    try {
      const { client } = await httpClient(`http://127.0.0.1:${open.port}/mcp`);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(["list_reports", "add_note"]),
      );
      await client.close();
      const res = await raw({ url: `http://${external.address}:${open.port}/mcp`, body: INIT });
      expect(res.status).toBe(403);
      expect(res.body?.error?.message).toMatch(/only answers clients on this machine/);
    } finally {
      await open.stop();
    }
  });
});
