/**
 * The parts ProxySession routes to, in memory: the tool catalogue, the
 * initialize gate, the proxy's own requests and the feedback calls.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FEEDBACK_REPLIES, type FeedbackPayload, feedbackToolDefinition, LIMITS } from "../../src/feedback/index.js";
import { clientTypeOf, FeedbackCalls, type SessionFacts } from "../../proxy/feedback-call.js";
import { InitializeGate, instructionsFor, introductionOf, withInstructions } from "../../proxy/initialize-gate.js";
import type { Frame, RpcId } from "../../proxy/jsonrpc.js";
import { Outbox } from "../../proxy/outbox.js";
import { OwnRequests } from "../../proxy/own-requests.js";
import { Reporter } from "../../proxy/reporter.js";
import type { PrivacyMode } from "../../src/privacy/index.js";
import { ToolCatalogue } from "../../proxy/tool-catalogue.js";
import { tempDir, waitFor } from "./helpers.js";

const tool = (name: string) => ({ name, inputSchema: { type: "object" } });

function catalogue(learned?: { toolName?: string }) {
  const logs: string[] = [];
  let renamed = 0;
  const now = 1000;
  const c = new ToolCatalogue({
    toolName: "feedback",
    collisionToolName: "patchworkmcp_feedback",
    learned,
    log: (m) => logs.push(m),
    onRenamed: () => renamed++,
    now: () => now,
  });
  return { c, logs, renamed: () => renamed };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("ToolCatalogue", () => {
  it("appends the feedback tool to the first page only, and learns every page's names", () => {
    const { c } = catalogue();
    c.setCapability(true);
    const first = c.clientPage({ tools: [tool("a")], nextCursor: "n1" }, true)!;
    expect(first).toEqual({ tools: [tool("a"), feedbackToolDefinition("feedback")], nextCursor: "n1" });
    expect(c.settled).toBe(false); // one page of two
    expect(c.clientPage({ tools: [tool("b")] }, false)).toBeUndefined();
    expect(c.upstreamTools).toEqual(["a", "b"]);
    expect(c.settled).toBe(true);
    expect(c.isUpstreamTool("b")).toBe(true);
    expect(c.isUpstreamTool("feedback")).toBe(false);
  });

  it("offers the collision name when upstream has the tool, tells a client that saw the old name, and teaches later sessions", () => {
    const learned: { toolName?: string } = {};
    const { c, logs, renamed } = catalogue(learned);
    c.setCapability(true);
    c.clientPage({ tools: [tool("a")] }, true);
    expect(renamed()).toBe(0);
    const page = c.clientPage({ tools: [tool("feedback"), tool("patchworkmcp_feedback")] }, true)!;
    expect(c.toolName).toBe("patchworkmcp_feedback_2");
    expect((page.tools as { name: string }[]).map((t) => t.name)).toEqual([
      "feedback",
      "patchworkmcp_feedback",
      "patchworkmcp_feedback_2",
    ]);
    expect(renamed()).toBe(1);
    expect(logs[0]).toMatch(/upstream already has a tool named "feedback": keeping it/);
    expect(c.isUpstreamTool("feedback")).toBe(true);
    expect(learned.toolName).toBe("patchworkmcp_feedback_2");
    expect(catalogue(learned).c.toolName).toBe("patchworkmcp_feedback_2");
  });

  it("does not announce a rename to a client that has not been given a list yet", async () => {
    const { c, renamed } = catalogue();
    c.setCapability(true);
    await c.refresh(async () => ({ tools: [tool("feedback")] }));
    expect(c.toolName).toBe("patchworkmcp_feedback");
    expect(renamed()).toBe(0);
  });

  it("is the only source of tools/list when upstream has no tools capability", () => {
    const { c } = catalogue();
    expect(c.upstreamHasNoTools).toBe(false);
    expect(c.canRefresh).toBe(false);
    c.setCapability(false);
    expect(c.upstreamHasNoTools).toBe(true);
    expect(c.settled).toBe(true);
    expect(c.ownList(undefined)).toEqual({ result: { tools: [feedbackToolDefinition("feedback")] } });
    expect(c.ownList("x")).toEqual({ error: "Invalid cursor: this tool list has one page." });
  });

  it("offers the feedback tool alone when upstream's first page failed, and knows the list is not complete", () => {
    const { c, logs } = catalogue();
    c.setCapability(true);
    expect(c.failedPage(false, "boom")).toBeUndefined();
    expect(c.failedPage(true, "boom")).toEqual({ tools: [feedbackToolDefinition("feedback")] });
    expect(logs[0]).toMatch(/tools\/list failed \(boom\)/);
    expect(c.unlisted).toBe(false);
    expect(c.settled).toBe(false);
  });

  it("lists every page with the proxy's own requests, once for concurrent callers", async () => {
    const { c } = catalogue();
    c.setCapability(true);
    expect(c.unlisted).toBe(true);
    const cursors: (string | undefined)[] = [];
    const fetchPage = async (cursor: string | undefined) => {
      cursors.push(cursor);
      return cursor === undefined ? { tools: [tool("a")], nextCursor: "p2" } : { tools: [tool("b")] };
    };
    await Promise.all([c.refresh(fetchPage), c.refresh(fetchPage)]);
    expect(cursors).toEqual([undefined, "p2"]);
    expect(c.upstreamTools).toEqual(["a", "b"]);
    expect(c.unlisted).toBe(false);
    expect(c.settled).toBe(true);
  });

  it("keeps what it knew when a listing of its own fails", async () => {
    const { c } = catalogue();
    c.setCapability(true);
    c.clientPage({ tools: [tool("a")] }, true);
    await c.refresh(async () => undefined);
    expect(c.upstreamTools).toEqual(["a"]);
  });

  it("goes stale on list_changed until listed again", async () => {
    const { c } = catalogue();
    c.setCapability(true);
    c.clientPage({ tools: [tool("a")] }, true);
    expect(c.settled).toBe(true);
    c.listChanged();
    expect(c.settled).toBe(false);
    await c.refresh(async () => ({ tools: [tool("a")] }));
    expect(c.settled).toBe(true);
  });
});

describe("InitializeGate", () => {
  const initFrame = (id: RpcId, instructions?: string): Frame => ({
    msg: {
      jsonrpc: "2.0",
      id,
      result: {
        protocolVersion: "2025-06-18",
        capabilities: { tools: { listChanged: true } },
        serverInfo: { name: "up", version: "2" },
        ...(instructions === undefined ? {} : { instructions }),
      },
    },
  });
  function gate(sendInitialized: () => Promise<void> | void = () => undefined) {
    const sent: { frame: Frame; related?: RpcId }[] = [];
    const logs: string[] = [];
    const g = new InitializeGate({
      downstream: { send: (frame, related) => sent.push({ frame, related }) },
      sendInitialized,
      log: (m) => logs.push(m),
      waitMs: 3000,
    });
    return { g, sent, logs };
  }

  it("reads the introduction and appends the instructions to upstream's own", () => {
    const frame = initFrame(1, "Use search first.");
    expect(introductionOf(frame.msg.result!)).toEqual({
      name: "up",
      version: "2",
      protocolVersion: "2025-06-18",
      hasTools: true,
    });
    expect(introductionOf({}).hasTools).toBe(false);
    const out = withInstructions(frame, "patchworkmcp_feedback").msg.result!;
    expect(out.instructions).toBe(`Use search first.\n\n${instructionsFor("patchworkmcp_feedback")}`);
    expect(out.capabilities).toEqual({ tools: { listChanged: true } });
    expect(withInstructions({ msg: { jsonrpc: "2.0", id: 1, result: {} } }, "feedback").msg.result).toEqual({
      capabilities: { tools: {} },
      instructions: instructionsFor("feedback"),
    });
    expect(instructionsFor("x")).toContain("`x`");
  });

  it("holds what is for the client until the answer is ready, then sends the answer first, built then", async () => {
    const { g, sent } = gate();
    let name = "feedback";
    let finish!: () => void;
    g.hold(
      () => withInstructions(initFrame(1), name),
      1,
      () => new Promise<void>((r) => (finish = r)),
      () => "",
    );
    expect(g.holding).toBe(true);
    g.send({ msg: { jsonrpc: "2.0", id: 0, method: "roots/list" } });
    expect(sent).toEqual([]);
    name = "patchworkmcp_feedback";
    finish();
    await vi.waitFor(() => {
      if (sent.length < 2) throw new Error("not yet");
    });
    expect(sent[0]!.related).toBe(1);
    expect(sent[0]!.frame.msg.result!.instructions).toBe(instructionsFor("patchworkmcp_feedback"));
    expect(sent[1]!.frame.msg.method).toBe("roots/list");
    expect(g.holding).toBe(false);
    g.send({ msg: { jsonrpc: "2.0", method: "notifications/message" } });
    expect(sent).toHaveLength(3);
  });

  it("lets the answer go after waitMs when learning takes too long, and says so", async () => {
    vi.useFakeTimers();
    const { g, sent, logs } = gate();
    g.hold(
      () => initFrame(1),
      1,
      () => new Promise<void>(() => undefined),
      () => 'the instructions name "feedback"',
    );
    await vi.advanceTimersByTimeAsync(2999);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent.map((s) => s.frame.msg.id)).toEqual([1]);
    expect(logs).toEqual([
      'upstream did not list its tools within 3000 ms of initialize; the instructions name "feedback"',
    ]);
  });

  it("queues a second held answer behind the first, and opens at once when told (upstream closed)", () => {
    const { g, sent } = gate();
    const never = () => new Promise<void>(() => undefined);
    g.hold(
      () => initFrame(1),
      1,
      never,
      () => "",
    );
    g.hold(
      () => initFrame(2),
      2,
      never,
      () => "",
    );
    g.send({ msg: { jsonrpc: "2.0", id: 3, error: { code: -32000, message: "closed" } } }, 3);
    expect(sent).toEqual([]);
    g.open();
    expect(sent.map((s) => s.frame.msg.id)).toEqual([1, 2, 3]);
  });

  it("lets upstream hear notifications/initialized once, from whichever side goes first", async () => {
    let told = 0;
    const a = gate(() => {
      told++;
    });
    expect(await a.g.finishHandshake()).toBe(true);
    expect(a.g.clientInitialized()).toBe(false);
    expect(await a.g.finishHandshake()).toBe(true);
    expect(told).toBe(1);

    const b = gate(() => {
      told++;
    });
    expect(b.g.clientInitialized()).toBe(true);
    expect(await b.g.finishHandshake()).toBe(true);
    expect(told).toBe(1);

    const c = gate(() => Promise.reject(new Error("busy")));
    expect(await c.g.finishHandshake()).toBe(false);
    expect(c.g.clientInitialized()).toBe(true);
  });
});

describe("OwnRequests", () => {
  function own(instance = "aaaa") {
    const sent: Frame[] = [];
    const debug: string[] = [];
    const o = new OwnRequests({
      send: (f) => void sent.push(f),
      debug: (m) => debug.push(m),
      timeoutMs: 1000,
      instance,
    });
    return { o, sent, debug };
  }

  it("sends under reserved ids and settles with upstream's answer", async () => {
    const { o, sent } = own();
    const pending = o.request("tools/list", { cursor: "c" });
    expect(sent[0]!.msg).toEqual({
      jsonrpc: "2.0",
      id: "patchworkmcp-proxy:aaaa:1",
      method: "tools/list",
      params: { cursor: "c" },
    });
    expect(o.claim({ jsonrpc: "2.0", id: "patchworkmcp-proxy:aaaa:1", result: { tools: [] } })).toBe(true);
    expect((await pending)?.result).toEqual({ tools: [] });
  });

  it("claims and drops an answer that comes after its wait ended, and leaves other ids alone", async () => {
    vi.useFakeTimers();
    const { o, debug } = own();
    const pending = o.request("tools/list");
    await vi.advanceTimersByTimeAsync(1000);
    expect(await pending).toBeUndefined();
    expect(o.claim({ jsonrpc: "2.0", id: "patchworkmcp-proxy:aaaa:1", result: {} })).toBe(true);
    expect(debug).toEqual([
      "dropped upstream's answer to the proxy's own request patchworkmcp-proxy:aaaa:1: it came after the wait ended",
    ]);
    // A client's ids, and those of another proxy chained in front of this one, are not ours.
    expect(o.claim({ jsonrpc: "2.0", id: 1, result: {} })).toBe(false);
    expect(o.claim({ jsonrpc: "2.0", id: "patchworkmcp-proxy:bbbb:1", result: {} })).toBe(false);
  });

  it("resolves everything waiting when upstream closes, and asks nothing more", async () => {
    const { o, sent } = own();
    const pending = o.request("tools/list");
    o.close();
    expect(await pending).toBeUndefined();
    expect(await o.request("tools/list")).toBeUndefined();
    expect(sent).toHaveLength(1);
  });

  it("gives up at once when upstream cannot take the request", async () => {
    const o = new OwnRequests({ send: () => Promise.reject(new Error("gone")), debug: () => undefined });
    expect(await o.request("tools/list")).toBeUndefined();
  });
});

describe("FeedbackCalls", () => {
  function calls(
    options: {
      missingToolReports?: boolean;
      recordArguments?: boolean;
      privacy?: PrivacyMode;
      serverName?: string;
      facts?: Partial<SessionFacts>;
    } = {},
  ) {
    const delivered: FeedbackPayload[] = [];
    const logs: string[] = [];
    const reporter = new Reporter({
      deliverer: {
        deliver: async (payload) => {
          delivered.push(payload);
          return { ok: true, id: delivered.length };
        },
      },
      outbox: new Outbox(join(tempDir(), "o.log")),
      log: () => undefined,
      timeoutMs: 1000,
      ...(options.privacy ? { privacy: options.privacy } : {}),
    });
    const facts: SessionFacts = {
      upstreamName: "weather",
      upstreamVersion: "2.0.0",
      clientType: "cursor/1.0",
      toolsAvailable: ["forecast"],
      sessionId: "s-9",
      ...options.facts,
    };
    const f = new FeedbackCalls({
      reporter,
      log: (l) => logs.push(l),
      serverName: options.serverName,
      missingToolReports: options.missingToolReports ?? true,
      recordArguments: options.recordArguments,
      facts: () => facts,
    });
    return { f, delivered, logs, facts };
  }
  const report = { what_i_needed: "hourly data", what_i_tried: "forecast", gap_type: "missing_parameter" };

  it("records a call with what the session knows, which the agent's own values win over", async () => {
    const { f, delivered } = calls();
    expect(await f.answer(report)).toEqual({ content: [{ type: "text", text: FEEDBACK_REPLIES.recorded(1) }] });
    expect(await f.answer({ ...report, client_type: "mine", session_id: "own", tools_available: ["x"] })).toEqual({
      content: [{ type: "text", text: FEEDBACK_REPLIES.recorded(2) }],
    });
    expect(delivered[0]).toMatchObject({
      server_name: "weather",
      server_version: "2.0.0",
      client_type: "cursor/1.0",
      tools_available: ["forecast"],
      session_id: "s-9",
    });
    expect(delivered[1]).toMatchObject({ client_type: "mine", session_id: "own", tools_available: ["x"] });
  });

  it("names the server by --server-name over upstream's serverInfo, clipped to the limit", async () => {
    const { f, delivered } = calls({ serverName: "n".repeat(LIMITS.server_name + 5) });
    await f.answer({ ...report, server_name: "agent-said" });
    expect(delivered[0]!.server_name).toBe("n".repeat(LIMITS.server_name));
  });

  it("answers an invalid call with isError and the field messages, submitting nothing", async () => {
    const { f, delivered } = calls();
    const result = await f.answer({ what_i_needed: "x" });
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toContain("what_i_tried");
    expect(delivered).toEqual([]);
  });

  it("reports a missing tool once per name, and never one upstream lists or the feedback tool", async () => {
    const { f, delivered, logs } = calls();
    let settles = 0;
    const tools = {
      settle: async () => {
        settles++;
        return true;
      },
      known: (name: string) => name === "forecast" || name === "feedback",
    };
    for (const name of ["nowcast", "nowcast", "forecast", "feedback", "nowcast"])
      f.noticeUnknownTool(name, { at: "now" }, tools);
    // All five were noticed before any answer came back: each asks, one report is filed.
    await waitFor(() => settles === 5 && logs.length >= 1);
    expect(delivered.map((d) => [d.gap_type, d.tool_name])).toEqual([["missing_tool", "nowcast"]]);
    // Argument names, never their values (no --record-arguments).
    expect(delivered[0]!.what_i_tried).toContain('and arguments named "at",');
    expect(delivered[0]!.what_i_tried).not.toContain('"now"');
    // Once reported, the name is not even looked up again.
    f.noticeUnknownTool("nowcast", undefined, tools);
    expect(settles).toBe(5);
  });

  it("shows argument values in a missing-tool report only with --record-arguments", async () => {
    const tools = { settle: async () => true, known: () => false };
    const names = calls();
    names.f.noticeUnknownTool("lookup", { email: "someone@example.com", limit: 5 }, tools);
    names.f.noticeUnknownTool("nothing", {}, tools);
    names.f.noticeUnknownTool("scalar", "text", tools);
    await waitFor(() => names.delivered.length === 3);
    const tried = Object.fromEntries(names.delivered.map((d) => [d.tool_name, d.what_i_tried]));
    expect(tried.lookup).toContain('and arguments named "email", "limit", but');
    expect(tried.lookup).not.toContain("someone@example.com");
    expect(tried.nothing).toContain("and no arguments, but");
    expect(tried.scalar).toContain("and arguments that were not an object, but");
    expect(tried.scalar).not.toContain("text,");

    // The values are scrubbed (the reporter's default --privacy, secrets+pii) before the report is built.
    const values = calls({ recordArguments: true });
    values.f.noticeUnknownTool("lookup", { email: "someone@example.com", limit: 5, api_key: "k-1" }, tools);
    await waitFor(() => values.delivered.length === 1);
    expect(values.delivered[0]!.what_i_tried).toContain(
      'and arguments {"email":"[email]","limit":5,"api_key":"[secret:key_value]"}',
    );
    const raw = calls({ recordArguments: true, privacy: "off" });
    raw.f.noticeUnknownTool("lookup", { email: "someone@example.com", limit: 5 }, tools);
    await waitFor(() => raw.delivered.length === 1);
    expect(raw.delivered[0]!.what_i_tried).toContain('and arguments {"email":"someone@example.com","limit":5}');
  });

  it("files no missing-tool report when switched off or while upstream's tools are unknown", async () => {
    const off = calls({ missingToolReports: false });
    let settled = 0;
    const settle = (known: boolean) => async () => {
      settled++;
      return known;
    };
    off.f.noticeUnknownTool("nowcast", undefined, { settle: settle(true), known: () => false });
    const unknown = calls();
    unknown.f.noticeUnknownTool("nowcast", undefined, { settle: settle(false), known: () => false });
    await waitFor(() => settled === 1);
    await new Promise((r) => setImmediate(r));
    expect([...off.delivered, ...unknown.delivered]).toEqual([]);
  });

  it("reads client_type off initialize's clientInfo", () => {
    expect(clientTypeOf({ name: "cursor", version: "1.2" })).toBe("cursor/1.2");
    expect(clientTypeOf({ name: "claude" })).toBe("claude");
    expect(clientTypeOf({ version: "1" })).toBeUndefined();
    expect(clientTypeOf("cursor")).toBeUndefined();
    expect(clientTypeOf({ name: "c".repeat(LIMITS.client_type + 3) })).toHaveLength(LIMITS.client_type);
  });
});
