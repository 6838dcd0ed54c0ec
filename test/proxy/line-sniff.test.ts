/**
 * The byte readers behind the proxy's no-parse paths: they must find exactly
 * what JSON.parse would, or decline.
 */
import { describe, expect, it } from "vitest";
import { idAtEnds, resultId, toolCallOf } from "../../proxy/line-sniff.js";

const line = (s: string) => Buffer.from(`${s}\n`);
const ts = (body: Record<string, unknown>, id: unknown) => line(JSON.stringify({ ...body, jsonrpc: "2.0", id }));
const py = (body: Record<string, unknown>, id: unknown) => line(JSON.stringify({ jsonrpc: "2.0", id, ...body }));
const call = (name: string, extra: Record<string, unknown> = {}) => ({
  method: "tools/call",
  params: { name, arguments: { text: "x", id: 9 }, ...extra },
});

describe("toolCallOf", () => {
  it("reads id and name in both SDK key orders, for number and string ids", () => {
    for (const id of [0, 7, -3, 123456789012345, "abc", "patchworkmcp-proxy:1a2b:3", "a.b_c-d"]) {
      expect(toolCallOf(ts(call("search_notes"), id))).toEqual({ id, name: "search_notes" });
      expect(toolCallOf(py(call("search_notes"), id))).toEqual({ id, name: "search_notes" });
    }
    expect(toolCallOf(Buffer.from(`${JSON.stringify({ ...call("a/b.c-d"), jsonrpc: "2.0", id: 1 })}\r\n`))).toEqual({
      id: 1,
      name: "a/b.c-d",
    });
    expect(toolCallOf(ts({ method: "tools/call", params: { name: "bare" } }, 4))).toEqual({ id: 4, name: "bare" });
  });

  it("reads string ids of up to 40 characters, at either end", () => {
    const id40 = "k".repeat(40);
    expect(toolCallOf(ts(call("x"), id40))).toEqual({ id: id40, name: "x" });
    expect(toolCallOf(py(call("x"), id40))).toEqual({ id: id40, name: "x" });
    expect(toolCallOf(ts(call("x"), `${id40}k`))).toBeUndefined();
    expect(toolCallOf(py(call("x"), `${id40}k`))).toBeUndefined();
  });

  it("declines whatever it cannot read for certain", () => {
    const declined = [
      ts(call("x", { _meta: { progressToken: 1 } }), 1), // a progress token: parsed
      ts({ method: "tools/call", params: { arguments: { _meta: 1 }, name: "x" } }, 1), // name not first
      ts(call('na"me'), 1),
      ts(call("ünï"), 1),
      ts(call(""), 1),
      ts(call("x".repeat(129)), 1),
      ts(call("x"), 1.5),
      ts(call("x"), 1e20),
      ts(call("x"), "with space"),
      ts(call("x"), 'q"uote'),
      ts(call("x"), ""),
      ts(call("x"), null),
      ts({ method: "tools/list", params: {} }, 1),
      line(JSON.stringify({ ...call("x"), jsonrpc: "2.0" })), // a notification
      line(`{"method":"tools/call","params":{"name":"x","arguments":{"id":5}}}`), // the only id is nested
      line(`[${JSON.stringify({ ...call("x"), jsonrpc: "2.0", id: 1 })}]`), // a batch
      line(`{"method":"tools/call","params":{"name":"x"},"jsonrpc":"2.0","id":01}`), // not JSON
    ];
    for (const l of declined) expect(toolCallOf(l), l.toString()).toBeUndefined();
  });

  it("finds _meta in a long line too", () => {
    expect(toolCallOf(ts(call("x", { pad: "p".repeat(5000), _meta: { progressToken: "t" } }), 1))).toBeUndefined();
    expect(toolCallOf(ts(call("x", { pad: "p".repeat(5000) }), 1))).toEqual({ id: 1, name: "x" });
  });
});

describe("resultId", () => {
  it("reads the id of a plain result in both key orders", () => {
    expect(
      resultId(line(JSON.stringify({ result: { content: [], structuredContent: { id: 9 } }, jsonrpc: "2.0", id: 7 }))),
    ).toBe(7);
    expect(resultId(line(JSON.stringify({ jsonrpc: "2.0", id: "s-1", result: { contents: [] } })))).toBe("s-1");
  });

  it("declines errors, requests, notifications and nested ids", () => {
    for (const s of [
      JSON.stringify({ error: { code: -1, message: "m" }, jsonrpc: "2.0", id: 4 }),
      JSON.stringify({ jsonrpc: "2.0", id: 4, error: { code: -1, message: "m" } }),
      JSON.stringify({ method: "roots/list", jsonrpc: "2.0", id: 4 }),
      JSON.stringify({ method: "notifications/progress", params: { progressToken: 1, id: 4 } }),
      '{"result":{"a":1,"x":{"b":2,"id":4}}}',
      '{"result":{},"jsonrpc":"2.0","id":4.0}',
    ]) {
      expect(resultId(line(s)), s).toBeUndefined();
    }
  });
});

describe("idAtEnds", () => {
  it("reads the id off the first and last bytes of a line too long to keep", () => {
    const body = JSON.stringify({
      method: "tools/call",
      params: { name: "x", arguments: { blob: "b".repeat(500) } },
      jsonrpc: "2.0",
      id: 42,
    });
    expect(idAtEnds(Buffer.from(body.slice(0, 64)), Buffer.from(body.slice(-64)))).toEqual({ id: 42 });
    const pyBody = JSON.stringify({ jsonrpc: "2.0", id: "k", method: "tools/call", params: { blob: "b".repeat(500) } });
    expect(idAtEnds(Buffer.from(pyBody.slice(0, 64)), Buffer.from(pyBody.slice(-64)))).toMatchObject({ id: "k" });
    expect(idAtEnds(Buffer.from('{"method":"x","params":{'), Buffer.from('"id":3}}'))).toBeUndefined();
  });
});
