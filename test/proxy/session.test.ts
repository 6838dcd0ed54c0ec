/**
 * ProxySession's protocol logic with in-memory ends: the fast path that
 * forwards results without parsing them must only ever take plain results.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Frame, RpcId } from "../../proxy/jsonrpc.js";
import { Outbox } from "../../proxy/outbox.js";
import { type Deliverer, Reporter } from "../../proxy/reporter.js";
import { ProxySession, instructionsFor } from "../../proxy/session.js";
import type { UpstreamLink } from "../../proxy/upstream.js";
import { FEEDBACK_REPLIES } from "../../src/feedback/index.js";
import { tempDir, waitFor } from "./helpers.js";

function harness(deliverer: Deliverer = { deliver: async () => ({ ok: true, id: 1 }) }) {
  const toUpstream: Frame[] = [];
  const rawToUpstream: Buffer[] = [];
  const toClient: { frame?: Frame; raw?: Buffer; related?: RpcId }[] = [];
  const upstream: UpstreamLink = {
    start: async () => undefined,
    send: (frame) => {
      toUpstream.push(frame);
    },
    sendRaw: (line) => {
      rawToUpstream.push(line);
    },
    setProtocolVersion: () => undefined,
    close: async () => undefined,
  };
  const outbox = new Outbox(join(tempDir(), "o.log"));
  const reporter = new Reporter({
    deliverer,
    outbox,
    log: () => undefined,
    timeoutMs: 1000,
  });
  const session = new ProxySession({
    upstream,
    downstream: {
      send: (frame, related) => toClient.push({ frame, related }),
      sendRaw: (raw) => toClient.push({ raw }),
    },
    config: { toolName: "feedback", collisionToolName: "patchworkmcp_feedback", missingToolReports: false },
    reporter,
    log: () => undefined,
    sessionId: () => "s1",
    onUpstreamClosed: () => undefined,
  });
  const request = (id: RpcId, method: string, params: Record<string, unknown> = {}) =>
    session.fromDownstream({ msg: { jsonrpc: "2.0", id, method, params } });
  const line = (text: string) => upstream.onrawline!(Buffer.from(text));
  return { session, request, line, toUpstream, rawToUpstream, toClient, upstream, outbox };
}

describe("ProxySession fast path for results", () => {
  it("forwards a plain result unparsed, whatever nests inside it, in both SDK key orders", () => {
    const h = harness();
    h.request(7, "tools/call", { name: "x" });
    h.request("1", "tools/call", { name: "x" });
    h.request(1, "resources/read", { uri: "a" });
    const ts = '{"result":{"content":[],"structuredContent":{"id":9}},"jsonrpc":"2.0","id":7}';
    expect(h.line(ts)).toBe(true);
    expect(h.toClient.at(-1)!.raw!.toString()).toBe(ts);
    expect(h.line('{"jsonrpc":"2.0","id":"1","result":{"content":[]}}')).toBe(true);
    expect(h.line('{"jsonrpc":"2.0","id":1,"result":{"contents":[]}}')).toBe(true);
    expect(h.session.pendingCount).toBe(0);
  });

  it("leaves everything else to the full parser", () => {
    const h = harness();
    h.request(2, "tools/list");
    h.request(3, "initialize", { clientInfo: { name: "c", version: "1" } });
    h.request(4, "tools/call", { name: "x" });
    expect(h.line('{"result":{"tools":[]},"jsonrpc":"2.0","id":2}')).toBe(false);
    expect(h.line('{"result":{"protocolVersion":"2025-06-18"},"jsonrpc":"2.0","id":3}')).toBe(false);
    // A nested "id" closing the line is not the top-level one: two braces end it.
    expect(h.line('{"result":{"a":1,"x":{"b":2,"id":4}}}')).toBe(false);
    expect(h.line('{"error":{"code":-1,"message":"m"},"jsonrpc":"2.0","id":4}')).toBe(false);
    expect(h.line('{"result":{},"jsonrpc":"2.0","id":99}')).toBe(false);
    expect(h.line('{"method":"notifications/progress","params":{"progressToken":1,"id":4}}')).toBe(false);
    expect(h.session.pendingCount).toBe(3);
  });

  it("adds the feedback tool to a first tools/list page that came through the parser", () => {
    const h = harness();
    h.request(2, "tools/list");
    h.upstream.onmessage!({
      msg: {
        jsonrpc: "2.0",
        id: 2,
        result: { tools: [{ name: "a", inputSchema: { type: "object" } }], nextCursor: "c1" },
      },
    });
    const sent = h.toClient.at(-1)!.frame!.msg.result as { tools: { name: string }[]; nextCursor: string };
    expect(sent.tools.map((t) => t.name)).toEqual(["a", "feedback"]);
    expect(sent.nextCursor).toBe("c1");
    expect(h.session.toolsAvailable).toEqual(["a"]);
  });
});

describe("ProxySession fast path for tools/call", () => {
  const listed = (h: ReturnType<typeof harness>, names: string[]) => {
    h.request(1, "tools/list");
    h.upstream.onmessage!({
      msg: {
        jsonrpc: "2.0",
        id: 1,
        result: { tools: names.map((name) => ({ name, inputSchema: { type: "object" } })) },
      },
    });
  };
  const callLine = (id: number, name: string, extra: Record<string, unknown> = {}) =>
    Buffer.from(
      `${JSON.stringify({ method: "tools/call", params: { name, arguments: {}, ...extra }, jsonrpc: "2.0", id })}\n`,
    );

  it("forwards a call of a listed tool as the bytes received, and still answers it with an error if upstream goes", () => {
    const h = harness();
    listed(h, ["search"]);
    const line = callLine(5, "search");
    expect(h.session.fastRequest(line)).toBe(true);
    expect(h.rawToUpstream).toEqual([line]);
    expect(h.session.pendingCount).toBe(1);
    h.upstream.onclose!({ reason: "the upstream MCP server exited (exit code 1)", exitCode: 1 });
    expect(h.toClient.at(-1)!.frame!.msg).toMatchObject({ id: 5, error: { code: -32000 } });
  });

  it("leaves the feedback tool, tools never listed and calls with a progress token to the parser", () => {
    const h = harness();
    expect(h.session.fastRequest(callLine(1, "search"))).toBe(false); // nothing listed yet
    listed(h, ["search"]);
    expect(h.session.fastRequest(callLine(2, "feedback"))).toBe(false);
    expect(h.session.fastRequest(callLine(3, "guess"))).toBe(false);
    expect(h.session.fastRequest(callLine(4, "search", { _meta: { progressToken: "p" } }))).toBe(false);
    expect(h.rawToUpstream).toEqual([]);
  });
});

describe("ProxySession finishes the handshake before the client gets the initialize result", () => {
  const initResult = (tools: boolean) => ({
    jsonrpc: "2.0" as const,
    id: 1,
    result: {
      protocolVersion: "2025-06-18",
      capabilities: tools ? { tools: {} } : {},
      serverInfo: { name: "up", version: "2" },
    },
  });
  const tick = () => new Promise((r) => setImmediate(r));
  /** The proxy's own tools/list, answered by the test as upstream. */
  const answerProbe = (h: ReturnType<typeof harness>, names: string[]) => {
    const probe = h.toUpstream.find((f) => f.msg.method === "tools/list")!;
    expect(String(probe.msg.id)).toMatch(/^patchworkmcp-proxy:/);
    h.upstream.onmessage!({
      msg: {
        jsonrpc: "2.0",
        id: probe.msg.id,
        result: { tools: names.map((name) => ({ name, inputSchema: { type: "object" } })) },
      },
    });
  };

  it("lists upstream's tools first, so the instructions name the tool as offered; upstream's messages wait behind the result", async () => {
    const h = harness();
    h.request(1, "initialize", { clientInfo: { name: "c", version: "1" } });
    h.upstream.onmessage!({ msg: initResult(true) });
    await tick();
    expect(h.toClient).toEqual([]);
    expect(h.toUpstream.map((f) => f.msg.method)).toEqual(["initialize", "notifications/initialized", "tools/list"]);
    // A server that asks for roots as soon as it is initialized: the request must not overtake the result.
    h.upstream.onmessage!({ msg: { jsonrpc: "2.0", id: 0, method: "roots/list" } });
    expect(h.toClient).toEqual([]);
    answerProbe(h, ["feedback", "search"]);
    await tick();
    const [init, roots] = h.toClient;
    expect(init!.related).toBe(1);
    expect(init!.frame!.msg.result).toMatchObject({
      instructions: instructionsFor("patchworkmcp_feedback"),
      serverInfo: { name: "up" },
    });
    expect(roots!.frame!.msg.method).toBe("roots/list");
    expect(h.session.toolName).toBe("patchworkmcp_feedback");
    expect(h.session.toolsAvailable).toEqual(["feedback", "search"]);
    // The client's own notifications/initialized would be the second one upstream sees: it is not forwarded.
    h.session.fromDownstream({ msg: { jsonrpc: "2.0", method: "notifications/initialized" } });
    expect(h.toUpstream.filter((f) => f.msg.method === "notifications/initialized")).toHaveLength(1);
  });

  it("passes the result on at once when upstream has no tools, and forwards the client's initialized", async () => {
    const h = harness();
    h.request(1, "initialize", {});
    h.upstream.onmessage!({ msg: initResult(false) });
    expect(h.toClient[0]!.frame!.msg.result).toMatchObject({
      capabilities: { tools: {} },
      instructions: instructionsFor("feedback"),
    });
    h.session.fromDownstream({ msg: { jsonrpc: "2.0", method: "notifications/initialized" } });
    expect(h.toUpstream.map((f) => f.msg.method)).toEqual(["initialize", "notifications/initialized"]);
  });

  it("does not lose a second initialize answered while the first waits, nor tell upstream twice", async () => {
    const h = harness();
    h.request(1, "initialize", {});
    h.request(2, "initialize", {});
    h.upstream.onmessage!({ msg: initResult(true) });
    h.upstream.onmessage!({ msg: { ...initResult(true), id: 2 } });
    await tick();
    answerProbe(h, ["search"]);
    await tick();
    expect(h.toClient.map((c) => c.frame!.msg.id)).toEqual([1, 2]);
    expect(h.toUpstream.filter((f) => f.msg.method === "notifications/initialized")).toHaveLength(1);
  });

  it("does not send its own notifications/initialized when the client's went first", async () => {
    const h = harness();
    h.request(1, "initialize", {});
    h.session.fromDownstream({ msg: { jsonrpc: "2.0", method: "notifications/initialized" } });
    h.upstream.onmessage!({ msg: initResult(true) });
    await tick();
    expect(h.toUpstream.map((f) => f.msg.method)).toEqual(["initialize", "notifications/initialized", "tools/list"]);
    answerProbe(h, ["search"]);
    await tick();
    expect(h.toClient[0]!.frame!.msg.id).toBe(1);
  });

  it("lets the client's notifications/initialized through when its own could not be sent", async () => {
    const h = harness();
    let refuse = true;
    const send = h.upstream.send.bind(h.upstream);
    h.upstream.send = (frame) => {
      if (refuse && frame.msg.method === "notifications/initialized") return Promise.reject(new Error("upstream busy"));
      return send(frame);
    };
    h.request(1, "initialize", {});
    h.upstream.onmessage!({ msg: initResult(true) });
    await tick();
    expect(h.toClient[0]!.frame!.msg.id).toBe(1);
    refuse = false;
    h.session.fromDownstream({ msg: { jsonrpc: "2.0", method: "notifications/initialized" } });
    expect(h.toUpstream.map((f) => f.msg.method)).toEqual(["initialize", "notifications/initialized"]);
  });

  it("lets the result go, then the errors, when upstream closes while its tools are being listed", async () => {
    const h = harness();
    h.request(1, "initialize", {});
    h.upstream.onmessage!({ msg: initResult(true) });
    await tick();
    h.request(2, "ping");
    h.upstream.onclose!({ reason: "the upstream server exited with code 3", exitCode: 3 });
    expect(h.toClient.map((c) => c.frame!.msg.id)).toEqual([1, 2]);
    expect(h.toClient[0]!.frame!.msg.result).toMatchObject({ instructions: instructionsFor("feedback") });
    expect(h.toClient[1]!.frame!.msg.error).toMatchObject({ code: -32000 });
  });
});

describe("ProxySession answers the feedback tool", () => {
  const report = { what_i_needed: "a date filter", what_i_tried: "echo", gap_type: "missing_parameter" };
  const answered = (h: ReturnType<typeof harness>, id: RpcId) =>
    waitFor(() => h.toClient.find((c) => c.frame?.msg.id === id)?.frame?.msg.result, 5000, `the answer to ${id}`);

  it("tells the agent, with isError, when the sidecar refused the report, and queues nothing", async () => {
    const h = harness({
      deliver: async () => ({
        ok: false,
        retryable: false,
        message: "sidecar answered 422: Invalid input: what_i_needed: too long",
      }),
    });
    h.request(1, "tools/call", { name: "feedback", arguments: report });
    const result = (await answered(h, 1)) as { isError?: boolean; content: { text: string }[] };
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toBe(
      FEEDBACK_REPLIES.invalid(
        "the feedback service refused it (sidecar answered 422: Invalid input: what_i_needed: too long)",
      ),
    );
    expect(h.outbox.read()).toEqual([]);
  });

  it("says the report was kept when the sidecar could not take it now, and queues it", async () => {
    const h = harness({
      deliver: async () => ({ ok: false, retryable: true, message: "sidecar answered 503", retryAfterMs: 1000 }),
    });
    h.request(1, "tools/call", { name: "feedback", arguments: report });
    const result = (await answered(h, 1)) as { isError?: boolean; content: { text: string }[] };
    expect(result.isError).toBeUndefined();
    expect(result.content[0]!.text).toBe(FEEDBACK_REPLIES.queued());
    expect(h.outbox.read().map((e) => e.payload.what_i_needed)).toEqual(["a date filter"]);
  });
});
