/**
 * Tool-call analytics end to end: the built proxy as a child process in front of
 * the fixture server and server-everything, real SDK clients (and a raw line
 * client where exact bytes matter), and a loopback receiver that validates
 * every POST /api/calls body with the contract. Each recorded outcome is checked
 * against what the client itself saw.
 */
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CallEvent } from "../../src/analytics/index.js";
import { CallsReceiver } from "./calls-receiver.js";
import {
  connectHttp,
  connectStdioProxy,
  EVERYTHING,
  fixtureCommand,
  newClient,
  NODE,
  RawClient,
  startHttpProxy,
  startListening,
  tempDir,
  waitFor,
  type ChildServer,
} from "./helpers.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function receiver(): Promise<CallsReceiver> {
  const r = await new CallsReceiver().start();
  cleanups.push(() => r.stop());
  return r;
}

/** The proxy's flags for a receiver, with the outbox (and the spill beside it) in a temp dir. */
const analyticsFlags = (r: CallsReceiver, ...more: string[]) => [
  "--sidecar-url",
  r.url,
  "--api-key",
  "ingest-key",
  "--outbox",
  join(tempDir(), "outbox.log"),
  "--no-missing-tool-reports",
  ...more,
];

const byTool = (calls: CallEvent[], tool: string) => calls.filter((c) => c.tool_name === tool);

/** What the client saw of a call: its result's isError, or the JSON-RPC error code it threw with. */
async function clientView(call: () => Promise<unknown>): Promise<{ outcome: string; code: number | null }> {
  try {
    const result = (await call()) as { isError?: boolean };
    return { outcome: result.isError === true ? "tool_error" : "ok", code: null };
  } catch (err) {
    if (err instanceof McpError) return { outcome: "error", code: err.code };
    throw err;
  }
}

describe("proxy tool-call analytics", () => {
  it("stdio → stdio fixture: ok, JSON-RPC error and isError are recorded with client, server, session and sizes; the feedback tool is not", async () => {
    const r = await receiver();
    const proxy = await connectStdioProxy({ proxyArgs: analyticsFlags(r), upstream: fixtureCommand() });
    const seen = {
      ok: await clientView(() => proxy.client.callTool({ name: "echo", arguments: { text: "hello" } })),
      error: await clientView(() => proxy.client.callTool({ name: "fail", arguments: { code: -32602 } })),
      tool_error: await clientView(() => proxy.client.callTool({ name: "refuse", arguments: {} })),
    };
    expect(seen).toEqual({
      ok: { outcome: "ok", code: null },
      error: { outcome: "error", code: -32602 },
      tool_error: { outcome: "tool_error", code: null },
    });
    await proxy.client.callTool({
      name: "feedback",
      arguments: { what_i_needed: "a tool that lists invoices", what_i_tried: "echo", gap_type: "missing_tool" },
    });
    await proxy.close();
    const calls = await waitFor(() => r.calls.length >= 3 && r.calls, 20_000, "three recorded calls");
    expect(r.invalid).toEqual([]);
    expect(calls.map((c) => c.tool_name).sort()).toEqual(["echo", "fail", "refuse"]);
    expect(r.batches.every((b) => b.authorization === "Bearer ingest-key")).toBe(true);
    const [echo] = byTool(calls, "echo");
    expect(echo).toMatchObject({
      server_name: "fixture-server",
      server_version: "1.2.3",
      outcome: "ok",
      error_code: null,
      client_name: "test-client",
      client_version: "1.0.0",
      arguments: null,
    });
    expect(echo!.protocol_version).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(echo!.session_id).toMatch(/^stdio-/);
    expect(echo!.request_bytes).toBeGreaterThan(40);
    expect(echo!.response_bytes).toBeGreaterThan(40);
    expect(byTool(calls, "fail")[0]).toMatchObject({ outcome: "error", error_code: -32602 });
    expect(byTool(calls, "refuse")[0]).toMatchObject({ outcome: "tool_error", error_code: null });
    expect(new Set(calls.map((c) => c.session_id)).size).toBe(1);
  });

  it("raw lines: sizes are the exact bytes each way; arguments only with --record-arguments; cancelled and crashed calls are errors with the client's code", async () => {
    const r = await receiver();
    const client = new RawClient(fixtureCommand(), analyticsFlags(r, "--record-arguments"));
    cleanups.push(async () => {
      client.proc.kill();
      await client.exit;
    });
    await client.initialize();
    const request = { id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "sized" } } };
    client.send(request);
    await client.response(1);
    const requestBytes = Buffer.byteLength(`${JSON.stringify({ jsonrpc: "2.0", ...request })}\n`);
    const answer = client.rawLines.find((l) => (JSON.parse(l) as { id?: number }).id === 1)!;

    // A call the client gives up on: it gets no answer, and the call is recorded as cancelled.
    client.send({ id: 2, method: "tools/call", params: { name: "wait_for", arguments: { path: "/nonexistent/x" } } });
    await waitFor(() => client.stderr.includes("wait_for call"), 20_000, "the wait_for call upstream");
    client.send({ method: "notifications/cancelled", params: { requestId: 2, reason: "user gave up" } });

    const echo = await waitFor(() => byTool(r.calls, "echo")[0], 20_000, "the echo call");
    expect(echo.request_bytes).toBe(requestBytes);
    expect(echo.response_bytes).toBe(Buffer.byteLength(answer) + 1);
    expect(echo.arguments).toEqual({ text: "sized" });
    expect(echo.client_name).toBe("raw");
    expect(echo.protocol_version).toBe("2025-06-18");
    const cancelled = await waitFor(() => byTool(r.calls, "wait_for")[0], 20_000, "the cancelled call");
    expect(cancelled).toMatchObject({ outcome: "error", error_code: -32800, response_bytes: 0 });

    // The upstream dies mid-call: the client gets -32000, and so does the record.
    client.send({ id: 3, method: "tools/call", params: { name: "crash", arguments: {} } });
    const crashed = await client.response(3);
    expect((crashed.error as { code: number }).code).toBe(-32000);
    await client.exit;
    const record = await waitFor(() => byTool(r.calls, "crash")[0], 20_000, "the crashed call");
    expect(record).toMatchObject({ outcome: "error", error_code: -32000, arguments: {} });
    expect(r.invalid).toEqual([]);
  });

  it("records no arguments by default, over a raw line", async () => {
    const r = await receiver();
    const client = new RawClient(fixtureCommand(), analyticsFlags(r));
    cleanups.push(async () => {
      client.proc.kill();
      await client.exit;
    });
    await client.initialize();
    client.send({ id: 1, method: "tools/call", params: { name: "echo", arguments: { text: "secret-ish" } } });
    await client.response(1);
    client.proc.stdin.end();
    await client.exit;
    const [echo] = await waitFor(() => r.calls.length > 0 && r.calls, 20_000, "the call");
    expect(echo!.arguments).toBeNull();
  });

  it("--analytics no records nothing (a proxy with it on, started after, is heard)", async () => {
    const r = await receiver();
    const off = await connectStdioProxy({
      proxyArgs: analyticsFlags(r, "--analytics", "no"),
      upstream: fixtureCommand(),
      client: newClient("off-client"),
    });
    await off.client.callTool({ name: "echo", arguments: { text: "x" } });
    await off.close();
    const on = await connectStdioProxy({
      proxyArgs: analyticsFlags(r),
      upstream: fixtureCommand(),
      client: newClient("on-client"),
    });
    await on.client.callTool({ name: "echo", arguments: { text: "x" } });
    await on.close();
    await waitFor(() => r.calls.length > 0, 20_000, "the second proxy's call");
    expect(r.calls.map((c) => c.client_name)).toEqual(["on-client"]);
  });

  it("HTTP → HTTP fixture: outcomes and the MCP session id", async () => {
    const r = await receiver();
    const upstream: ChildServer = await startListening(fixtureCommand("--http", "0"));
    cleanups.push(() => upstream.stop());
    const proxy = await startHttpProxy(["--upstream-url", upstream.url, ...analyticsFlags(r, "--record-arguments")]);
    cleanups.push(() => proxy.stop());
    const { client, transport } = await connectHttp(proxy.url, newClient("http-client"));
    cleanups.push(() => client.close());
    const seen = [
      await clientView(() => client.callTool({ name: "echo", arguments: { text: "over http" } })),
      await clientView(() => client.callTool({ name: "fail", arguments: { code: -32001 } })),
      await clientView(() => client.callTool({ name: "refuse", arguments: {} })),
    ];
    const calls = await waitFor(() => r.calls.length >= 3 && r.calls, 20_000, "three recorded calls");
    expect(calls.map((c) => [c.tool_name, c.outcome, c.error_code])).toEqual([
      ["echo", seen[0]!.outcome, null],
      ["fail", "error", -32001],
      ["refuse", "tool_error", null],
    ]);
    expect(seen[1]).toEqual({ outcome: "error", code: -32001 });
    for (const c of calls) {
      expect(c.session_id).toBe(transport.sessionId);
      expect(c.client_name).toBe("http-client");
      expect(c.server_name).toBe("fixture-server");
      expect(c.request_bytes).toBeGreaterThan(0);
      expect(c.response_bytes).toBeGreaterThan(0);
    }
    expect(calls[0]!.arguments).toEqual({ text: "over http" });
  });

  it("stdio → server-everything: what is recorded agrees with what the client saw, call by call", async () => {
    const r = await receiver();
    const proxy = await connectStdioProxy({ proxyArgs: analyticsFlags(r), upstream: [NODE, EVERYTHING, "stdio"] });
    const attempts: [string, Record<string, unknown>][] = [
      ["echo", { message: "hi" }],
      ["get-sum", { a: 2, b: 3 }],
      ["get-sum", { a: "two", b: 3 }],
      ["no-such-tool", {}],
    ];
    const seen: { outcome: string; code: number | null }[] = [];
    for (const [name, args] of attempts)
      seen.push(await clientView(() => proxy.client.callTool({ name, arguments: args })));
    await proxy.close();
    const calls = await waitFor(() => r.calls.length >= attempts.length && r.calls, 20_000, "every call");
    expect(calls.map((c) => [c.tool_name, c.outcome, c.error_code])).toEqual(
      attempts.map(([name], i) => [name, seen[i]!.outcome, seen[i]!.code]),
    );
    expect(seen.slice(0, 2).map((s) => s.outcome)).toEqual(["ok", "ok"]);
    expect(seen.slice(2).every((s) => s.outcome !== "ok")).toBe(true);
    expect(calls[0]!.server_name).not.toBe("unknown");
  });
});
