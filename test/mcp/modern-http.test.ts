/**
 * /mcp on the 2026-07-28 wire, raw: the endpoint mounted in-process on a real
 * loopback server with a real SQLite file and real keys. A request carrying
 * the per-request `_meta` envelope is served statelessly (no session is
 * opened, an `Mcp-Session-Id` is ignored), `server/discover` answers with the
 * key's instructions, results carry `resultType`, and everything /mcp did
 * before still applies to it: auth, the per-method scope check (403 naming
 * the scope, with the request's id), the body limit. Malformed modern claims
 * get that revision's errors from the SDK (-32020 header mismatch, 400).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportServerInstructions } from "../../src/mcp/instructions.js";
import { type Mounted, mountEndpoint, openRawSession, rawMcp, seededPayload } from "./helpers.js";

const VERSION = "2026-07-28";
const envelope = {
  "io.modelcontextprotocol/protocolVersion": VERSION,
  "io.modelcontextprotocol/clientInfo": { name: "raw-2026", version: "1" },
  "io.modelcontextprotocol/clientCapabilities": {},
};

let m: Mounted;
let admin = "";
let read = "";
let ingest = "";

beforeAll(async () => {
  m = await mountEndpoint({ bodyLimitBytes: 64 * 1024 });
  admin = m.store.createKey("admin", "reviewer").key;
  read = m.store.createKey("read", "dashboard").key;
  ingest = m.store.createKey("ingest", "agents").key;
  m.store.insertReport(seededPayload(0));
});
afterAll(() => m?.close());

/** One 2026-07-28 request: envelope in `_meta`, the standard headers matching the body. */
function modern(
  key: string,
  id: number | string,
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) {
  const name: Record<string, string> = typeof params.name === "string" ? { "Mcp-Name": params.name } : {};
  return rawMcp(m.url, {
    key,
    headers: { "MCP-Protocol-Version": VERSION, "Mcp-Method": method, ...name, ...headers },
    body: { jsonrpc: "2.0", id, method, params: { ...params, _meta: envelope } },
  });
}

type Result = Record<string, unknown> & { _meta?: Record<string, unknown> };

describe("/mcp for 2026-07-28 clients", () => {
  it("answers server/discover with the key's instructions, serverInfo in _meta, and opens no session", async () => {
    for (const [key, scope] of [
      [admin, { canRead: true, canWrite: true }],
      [read, { canRead: true, canWrite: false }],
      [ingest, { canRead: false, canWrite: false }],
    ] as const) {
      const res = await modern(key, "d1", "server/discover");
      expect(res.status).toBe(200);
      expect(res.headers.get("mcp-session-id")).toBeNull();
      expect(res.body?.id).toBe("d1");
      const result = res.body?.result as Result;
      expect(result).toMatchObject({
        resultType: "complete",
        supportedVersions: expect.arrayContaining([VERSION]),
        capabilities: { tools: {} },
        instructions: reportServerInstructions({ ...scope, hasFeedback: true }),
        _meta: { "io.modelcontextprotocol/serverInfo": { name: "patchworkmcp" } },
      });
      expect(result.ttlMs).toEqual(expect.any(Number));
      expect(["public", "private"]).toContain(result.cacheScope);
    }
    expect(m.endpoint.sessionCount).toBe(0);
  });

  it("serves requests statelessly: tools/list and tools/call carry resultType, a stray Mcp-Session-Id is ignored", async () => {
    const list = await modern(read, 2, "tools/list", {}, { "Mcp-Session-Id": "no-such-session" });
    expect(list.status).toBe(200);
    const tools = (list.body?.result as { tools: { name: string }[]; resultType: string; ttlMs: number }) ?? {};
    expect(tools.resultType).toBe("complete");
    expect(tools.ttlMs).toEqual(expect.any(Number));
    expect(tools.tools.map((t) => t.name)).toEqual(expect.arrayContaining(["feedback", "list_reports", "list_gaps"]));
    expect(tools.tools.map((t) => t.name)).not.toContain("set_status");

    const call = await modern(admin, 3, "tools/call", { name: "get_report", arguments: { id: 1 } });
    expect(call.status).toBe(200);
    const result = call.body?.result as Result;
    expect(result.resultType).toBe("complete");
    expect(result.isError ?? false).toBe(false);
    expect(JSON.stringify(result.content)).toContain("Report 1");

    const fb = await modern(ingest, 4, "tools/call", {
      name: "feedback",
      arguments: { what_i_needed: "A stateless export.", what_i_tried: "list_reports", gap_type: "missing_tool" },
    });
    expect((fb.body?.result as Result | undefined)?.resultType).toBe("complete");
    expect(m.store.listReports({ q: "stateless export" }).items).toHaveLength(1);
    expect(m.endpoint.sessionCount).toBe(0);
  });

  it("refuses a method above the key's scope with 403 naming the scope and echoing the id", async () => {
    const res = await modern(read, 7, "tools/call", { name: "set_status", arguments: { id: 1, status: "dismissed" } });
    expect(res.status).toBe(403);
    expect(res.body?.id).toBe(7);
    expect(res.body?.error?.data).toMatchObject({ code: "forbidden", required_scope: "feedback:admin" });
    expect(m.store.getReport(1)?.status).toBe("open");
    const prompts = await modern(ingest, 8, "prompts/list");
    expect(prompts.status).toBe(403);
    expect(prompts.body?.error?.data).toMatchObject({ required_scope: "feedback:read" });
  });

  it("still needs a key, and still applies the body limit", async () => {
    const anonymous = await rawMcp(m.url, {
      headers: { "MCP-Protocol-Version": VERSION, "Mcp-Method": "server/discover" },
      body: { jsonrpc: "2.0", id: 1, method: "server/discover", params: { _meta: envelope } },
    });
    expect(anonymous.status).toBe(401);
    const big = await modern(admin, 9, "tools/call", {
      name: "feedback",
      arguments: { what_i_needed: "x".repeat(70 * 1024), what_i_tried: "y", gap_type: "missing_tool" },
    });
    expect(big.status).toBe(413);
  });

  it("answers a header that contradicts the body with the revision's -32020 (HTTP 400)", async () => {
    const res = await modern(admin, 10, "tools/list", {}, { "Mcp-Method": "prompts/list" });
    expect(res.status).toBe(400);
    expect(res.body?.error?.code).toBe(-32020);
    expect(res.body?.id).toBe(10);
  });

  it("keeps 2025-11-25 sessions alongside: initialize still opens one", async () => {
    const session = await openRawSession(m.url, admin);
    expect(m.endpoint.sessionCount).toBe(1);
    const ping = await rawMcp(m.url, { key: admin, session, body: { jsonrpc: "2.0", id: 11, method: "ping" } });
    expect(ping.status).toBe(200);
    expect(ping.body?.result).toEqual({});
  });
});
