/** The 2026-07-28 rules the proxy applies itself: era per request, header checks, caller ids, Mcp-Param-*, SSE retry. */
import { describe, expect, it } from "vitest";
import { callerOf, headerProblem, isModernRequest } from "../../proxy/era.js";
import type { RpcMessage } from "../../proxy/jsonrpc.js";
import { paramHeaderProblem, paramHeaderValues, paramHeadersOf } from "../../proxy/param-headers.js";
import { sseParser } from "../../proxy/sse.js";

const envelope = (extra: Record<string, unknown> = {}) => ({
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "agent", version: "2.0" },
  ...extra,
});
const call = (meta = envelope()): RpcMessage => ({
  jsonrpc: "2.0",
  id: 1,
  method: "tools/call",
  params: { name: "weather", arguments: { city: "Zürich", days: 3 }, _meta: meta },
});
const headers = (h: Record<string, string>) => (name: string) => h[name];

describe("era of a request", () => {
  it("is modern only when its own envelope names a later revision", () => {
    expect(isModernRequest(call())).toBe(true);
    expect(isModernRequest({ jsonrpc: "2.0", id: 1, method: "initialize", params: {} })).toBe(false);
    expect(isModernRequest(call(envelope({ "io.modelcontextprotocol/protocolVersion": "2025-11-25" })))).toBe(false);
  });
});

describe("standard header checks", () => {
  const ok = { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "weather" };
  it("accepts headers that mirror the body, base64 names included", () => {
    expect(headerProblem(call(), headers(ok))).toBeUndefined();
    const b64 = `=?base64?${Buffer.from("weather").toString("base64")}?=`;
    expect(headerProblem(call(), headers({ ...ok, "mcp-name": b64 }))).toBeUndefined();
  });
  it("answers a missing or disagreeing header with -32020", () => {
    for (const bad of [
      { ...ok, "mcp-method": "tools/list" },
      { ...ok, "mcp-name": "other" },
      { ...ok, "mcp-protocol-version": "2025-11-25" },
      { "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call" },
      { ...ok, "mcp-name": "=?base64?!!!?=" },
    ])
      expect(headerProblem(call(), headers(bad))?.code, JSON.stringify(bad)).toBe(-32020);
  });
});

describe("caller of a session-less request", () => {
  it("is stable per client and trace, and differs between them", () => {
    const a = callerOf(call())!;
    expect(a.clientType).toBe("agent/2.0");
    expect(callerOf(call())!.sessionId).toBe(a.sessionId);
    const other = callerOf(call(envelope({ "io.modelcontextprotocol/clientInfo": { name: "other", version: "1" } })))!;
    expect(other.sessionId).not.toBe(a.sessionId);
    const traced = (span: string) =>
      callerOf(call(envelope({ traceparent: `00-${"ab".repeat(16)}-${span}-01` })))!.sessionId;
    expect(traced("1".repeat(16))).toBe(traced("2".repeat(16)));
    expect(traced("1".repeat(16))).not.toBe(a.sessionId);
  });
});

describe("Mcp-Param-* headers", () => {
  const schema = {
    type: "object",
    properties: { city: { type: "string", "x-mcp-header": "City" }, days: { type: "integer", "x-mcp-header": "Days" } },
  };
  const marks = paramHeadersOf(schema);
  it("are stated for the marked arguments, non-ASCII as base64", () => {
    expect(paramHeaderValues(marks, { city: "Zürich", days: 3 })).toEqual({
      "mcp-param-city": `=?base64?${Buffer.from("Zürich").toString("base64")}?=`,
      "mcp-param-days": "3",
    });
  });
  it("agree with the body or get -32020", () => {
    const given = paramHeaderValues(marks, { city: "Zürich", days: 3 });
    expect(paramHeaderProblem(marks, { city: "Zürich", days: 3 }, headers(given))).toBeUndefined();
    expect(paramHeaderProblem(marks, { city: "Bern", days: 3 }, headers(given))?.code).toBe(-32020);
    expect(paramHeaderProblem(marks, { city: "Zürich", days: 3 }, headers({ "mcp-param-days": "3" }))?.code).toBe(
      -32020,
    );
    expect(paramHeaderProblem(marks, { days: 3 }, headers({ "mcp-param-days": "3.0" }))).toBeUndefined();
  });
});

describe("SSE reader", () => {
  it("reports retry and events across chunk boundaries, CRLF split included", () => {
    const events: unknown[] = [];
    const retries: number[] = [];
    const p = sseParser(
      (e) => events.push(e),
      (ms) => retries.push(ms),
    );
    for (const part of ["id: 1\r", "\nretry: 500\r\nda", "ta: \r\n\r\n", 'data: {"a":1}\n\n'])
      p.push(new TextEncoder().encode(part));
    expect(retries).toEqual([500]);
    expect(events).toEqual([{ id: "1", data: "" }, { data: '{"a":1}' }]);
  });
});
