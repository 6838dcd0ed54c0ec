/**
 * The proxy serving streamable HTTP (one upstream child per session), and the
 * proxy in front of streamable-HTTP upstreams.
 */
import Database from "better-sqlite3";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEEDBACK_REPLIES } from "../../src/feedback/index.js";
import { instructionsFor } from "../../proxy/session.js";
import {
  EVERYTHING,
  NODE,
  connectHttp,
  connectStdioProxy,
  fixtureCommand,
  freePort,
  newClient,
  startHttpProxy,
  startListening,
  tempDir,
  textOf,
  waitFor,
  type ChildServer,
} from "./helpers.js";

const report = { what_i_needed: "a date filter", what_i_tried: "echo", gap_type: "missing_parameter" };

const initializeBody = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
};
const post = (url: string, headers: Record<string, string>, body: unknown = initializeBody, signal?: AbortSignal) =>
  fetch(url, {
    method: "POST",
    ...(signal ? { signal } : {}),
    headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...headers },
    body: JSON.stringify(body),
  });

/** fetch cannot set Host; node:http can. */
function postWithHost(url: string, host: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          Accept: "application/json, text/event-stream",
          Host: host,
          ...headers,
        },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.once("error", reject);
    req.end(JSON.stringify(initializeBody));
  });
}

describe("HTTP downstream in front of server-everything over stdio", () => {
  const db = join(tempDir(), "feedback.db");
  let proxy: ChildServer;

  beforeAll(async () => {
    proxy = await startHttpProxy(
      ["--db", db, "--outbox", join(tempDir(), "o.log"), "--listen-key", "proxy-key"],
      [NODE, EVERYTHING, "stdio"],
    );
  });
  afterAll(() => proxy?.stop());

  const auth = { Authorization: "Bearer proxy-key" };

  it("lists upstream tools plus feedback, routes progress to the caller and records feedback with the session id", async () => {
    const { client, transport } = await connectHttp(proxy.url, newClient(), auth);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(["echo", "trigger-long-running-operation", "feedback"]));
      const seen: number[] = [];
      await client.callTool(
        { name: "trigger-long-running-operation", arguments: { duration: 1.5, steps: 3 } },
        undefined,
        { onprogress: (e) => seen.push(e.progress) },
      );
      // The last one races the result inside the SDK client (directly too), so only the earlier ones are certain.
      expect(seen.slice(0, 2)).toEqual([1, 2]);
      expect(
        textOf(await client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "hey", maxTokens: 5 } })),
      ).toContain("echo of");
      expect(textOf(await client.callTool({ name: "feedback", arguments: report }))).toBe(FEEDBACK_REPLIES.recorded(1));
      const row = new Database(db, { readonly: true })
        .prepare("SELECT server_name, session_id, client_type FROM reports")
        .get();
      expect(row).toEqual({
        server_name: "mcp-servers/everything",
        session_id: transport.sessionId,
        client_type: "test-client/1.0.0",
      });
    } finally {
      await client.close();
    }
  });

  it("answers an invalid feedback call with isError and the field messages, and stores nothing", async () => {
    const { client } = await connectHttp(proxy.url, newClient(), auth);
    try {
      const before = new Database(db, { readonly: true }).prepare("SELECT COUNT(*) AS n FROM reports").get();
      const result = await client.callTool({ name: "feedback", arguments: { what_i_needed: "x", gap_type: "nope" } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^Feedback was not recorded: what_i_tried: .*gap_type: gap_type must be one of/);
      expect(new Database(db, { readonly: true }).prepare("SELECT COUNT(*) AS n FROM reports").get()).toEqual(before);
    } finally {
      await client.close();
    }
  });

  it("gives each session its own upstream, so concurrent sessions never mix", async () => {
    const a = await connectHttp(proxy.url, newClient("a"), auth);
    const b = await connectHttp(proxy.url, newClient("b"), auth);
    try {
      const health = (await (await fetch(proxy.url.replace(/\/mcp$/, "/healthz"))).json()) as { sessions: number };
      expect(health.sessions).toBeGreaterThanOrEqual(2);
      const [ra, rb] = await Promise.all([
        a.client.callTool({ name: "echo", arguments: { message: "from a" } }),
        b.client.callTool({ name: "echo", arguments: { message: "from b" } }),
      ]);
      expect(textOf(ra)).toContain("from a");
      expect(textOf(rb)).toContain("from b");
      expect(a.transport.sessionId).not.toBe(b.transport.sessionId);
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });

  it("ends a session and its upstream child on DELETE", async () => {
    const sessions = async () =>
      ((await (await fetch(proxy.url.replace(/\/mcp$/, "/healthz"))).json()) as { sessions: number }).sessions;
    const before = await sessions();
    const { client, transport } = await connectHttp(proxy.url, newClient(), auth);
    expect(await sessions()).toBe(before + 1);
    await transport.terminateSession();
    await waitFor(async () => (await sessions()) === before, 10_000, "the session to end");
    await client.close();
  });

  it("requires the bearer key and rejects foreign Host and Origin headers", async () => {
    expect((await post(proxy.url, {})).status).toBe(401);
    expect((await post(proxy.url, { Authorization: "Bearer wrong-key" })).status).toBe(401);
    // No spelling of the path gets around the key (express routes /MCP and /mcp/ case- and slash-insensitively by default).
    for (const path of ["/MCP", "/mcp/", "/Mcp"])
      expect((await post(proxy.url.replace(/\/mcp$/, path), {})).status, path).toBe(401);
    expect(await postWithHost(proxy.url, "evil.example:80", auth)).toBe(403);
    expect((await post(proxy.url, { ...auth, Origin: "https://evil.example" })).status).toBe(403);
    const bad = await post(proxy.url, auth, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    expect(bad.status).toBe(400);
    const missing = await post(
      proxy.url,
      { ...auth, "Mcp-Session-Id": "no-such-session" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
    );
    expect(missing.status).toBe(404);
  });
});

interface SseEvent {
  id?: string;
  data: Record<string, unknown>;
}

/** Read SSE events off a response body until `enough` says stop (or the body ends). */
async function readEvents(res: Response, enough: (events: SseEvent[]) => boolean): Promise<SseEvent[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  let buf = "";
  while (!enough(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buf.indexOf("\n\n")) !== -1) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const id = /^id: ?(.*)$/m.exec(block)?.[1];
      const data = block
        .split("\n")
        .filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trim())
        .join("\n");
      if (data !== "")
        events.push({ ...(id !== undefined ? { id } : {}), data: JSON.parse(data) as Record<string, unknown> });
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}

describe("HTTP downstream: resumable streams", () => {
  it("replays what a broken stream missed, the call's result included, after Last-Event-ID", async () => {
    const proxy = await startHttpProxy(
      ["--db", join(tempDir(), "f.db"), "--outbox", join(tempDir(), "o.log")],
      fixtureCommand(),
    );
    try {
      const init = await post(proxy.url, {});
      await init.text();
      const headers = { "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-06-18" };
      await (await post(proxy.url, headers, { jsonrpc: "2.0", method: "notifications/initialized" })).text();
      const call = {
        jsonrpc: "2.0",
        id: 7,
        method: "tools/call",
        params: { name: "slow", arguments: { steps: 5, delayMs: 200 }, _meta: { progressToken: "p7" } },
      };
      const res = await post(proxy.url, headers, call);
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      // The client sees the first progress event, then its connection breaks.
      const [first] = await readEvents(res, (events) => events.length >= 1);
      expect(first!.data).toMatchObject({ method: "notifications/progress" });
      expect(first!.id).toBeDefined();
      // The call runs to its end while the client is away.
      await waitFor(() => proxy.stderr().includes("slow call 7 finished"), 20_000, "the slow call to finish");

      const resumed = await fetch(proxy.url, {
        headers: { ...headers, Accept: "text/event-stream", "Last-Event-ID": first!.id! },
      });
      expect(resumed.status).toBe(200);
      const missed = await readEvents(resumed, (events) => events.some((e) => e.data.id === 7));
      const progress = missed
        .filter((e) => e.data.method === "notifications/progress")
        .map((e) => (e.data.params as { progress: number }).progress);
      expect(progress.length).toBeGreaterThanOrEqual(3);
      expect(progress).toEqual([...progress].sort((a, b) => a - b));
      expect(progress[0]).toBeGreaterThan((first!.data.params as { progress: number }).progress);
      const result = missed.find((e) => e.data.id === 7);
      expect(result?.data).toHaveProperty("result");

      const unknown = await fetch(proxy.url, {
        headers: { ...headers, Accept: "text/event-stream", "Last-Event-ID": "no-such-event" },
      });
      expect(unknown.status).toBe(400);
      await unknown.text();
    } finally {
      await proxy.stop();
    }
  });
});

/** Every event of an SSE body (priming events with empty data too), until the server ends it. */
async function readToEnd(res: Response): Promise<{ id?: string; retry?: string; data: string }[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const field = (name: string) => new RegExp(`^${name}: ?(.*)$`, "m").exec(block)?.[1];
      const id = field("id");
      const retry = field("retry");
      return {
        ...(id !== undefined ? { id } : {}),
        ...(retry !== undefined ? { retry } : {}),
        data: field("data") ?? "",
      };
    });
}

describe("HTTP downstream: the proxy ends quiet call streams itself (--sse-poll-after, SEP-1699)", () => {
  const pollingProxy = (upstream: string[] = fixtureCommand(), flags: string[] = []) =>
    startHttpProxy(
      [
        "--db",
        join(tempDir(), "f.db"),
        "--outbox",
        join(tempDir(), "o.log"),
        "--sse-poll-after",
        "50",
        "--debug",
        ...flags,
      ],
      upstream,
    );

  /** A raw session at `version`; the call below stays pending until its gate file exists. */
  async function rawSession(url: string, version: string) {
    const init = await post(
      url,
      {},
      { ...initializeBody, params: { ...initializeBody.params, protocolVersion: version } },
    );
    await init.text();
    const headers = { "mcp-session-id": init.headers.get("mcp-session-id")!, "mcp-protocol-version": version };
    await (await post(url, headers, { jsonrpc: "2.0", method: "notifications/initialized" })).text();
    const gate = join(tempDir(), "gate");
    const call = {
      jsonrpc: "2.0",
      id: 9,
      method: "tools/call",
      params: { name: "wait_for", arguments: { path: gate } },
    };
    return { headers, gate, call };
  }

  it("ends a call's POST stream before its answer, and the GET with Last-Event-ID carries the answer, once", async () => {
    const proxy = await pollingProxy();
    try {
      const { headers, gate, call } = await rawSession(proxy.url, "2025-11-25");
      const res = await post(proxy.url, headers, call, AbortSignal.timeout(15_000));
      expect(res.headers.get("content-type")).toContain("text/event-stream");
      // The call cannot end before the gate opens, so the stream ending at all is the proxy's doing.
      const onPost = await readToEnd(res);
      expect(onPost.filter((e) => e.data !== "")).toEqual([]);
      const primed = onPost.at(-1);
      expect(primed?.id).toBeDefined();
      expect(primed?.retry).toBeDefined();
      expect(proxy.stderr()).toContain("ended the stream of request 9 after 50 ms");

      const resumed = await fetch(proxy.url, {
        headers: { ...headers, Accept: "text/event-stream", "Last-Event-ID": primed!.id! },
        signal: AbortSignal.timeout(15_000),
      });
      expect(resumed.status).toBe(200);
      writeFileSync(gate, "");
      // The resumed stream is not ended again: it carries the answer, and the answer ends it.
      const answers = (await readToEnd(resumed))
        .filter((e) => e.data !== "")
        .map((e) => JSON.parse(e.data) as Record<string, unknown>);
      expect(answers).toEqual([
        { jsonrpc: "2.0", id: 9, result: { content: [{ type: "text", text: `${gate} exists` }] } },
      ]);
    } finally {
      await proxy.stop();
    }
  });

  it("keeps the stream of a client too old to resume it (2025-06-18 gets no priming event id)", async () => {
    const proxy = await pollingProxy();
    try {
      const { headers, gate, call } = await rawSession(proxy.url, "2025-06-18");
      const res = await post(proxy.url, headers, call, AbortSignal.timeout(15_000));
      // Whatever the timer decided, it has run: from here the answer must still reach this stream.
      await waitFor(
        () => /stream of request 9 (is open )?after 50 ms/.test(proxy.stderr()),
        10_000,
        "the poll timer to fire",
      );
      writeFileSync(gate, "");
      const events = (await readToEnd(res)).filter((e) => e.data !== "");
      expect(events.map((e) => JSON.parse(e.data) as unknown)).toEqual([
        { jsonrpc: "2.0", id: 9, result: { content: [{ type: "text", text: `${gate} exists` }] } },
      ]);
    } finally {
      await proxy.stop();
    }
  });

  it.each([
    ["a stdio upstream", false],
    ["an HTTP upstream", true],
  ])("lets a real SDK client's call succeed across the ended stream, in front of %s", async (_name, overHttp) => {
    const upstream = overHttp ? await startListening(fixtureCommand("--http", "0")) : undefined;
    const proxy = upstream
      ? await startHttpProxy([
          "--upstream-url",
          upstream.url,
          "--db",
          join(tempDir(), "f.db"),
          "--outbox",
          join(tempDir(), "o.log"),
          "--sse-poll-after",
          "50",
          "--debug",
        ])
      : await pollingProxy();
    const resumes: string[] = [];
    const transport = new StreamableHTTPClientTransport(new URL(proxy.url), {
      fetch: (input, init) => {
        const lastEventId = new Headers(init?.headers).get("last-event-id");
        if ((init?.method ?? "GET") === "GET" && lastEventId) resumes.push(lastEventId);
        return fetch(input, init);
      },
    });
    const client = newClient();
    try {
      await client.connect(transport);
      const gate = join(tempDir(), "gate");
      const result = client.callTool({ name: "wait_for", arguments: { path: gate } });
      // The client noticed the ended stream and resumed it on its own; only then may the call end.
      await waitFor(() => resumes.length > 0, 15_000, "the SDK client to resume the ended stream");
      writeFileSync(gate, "");
      expect(textOf(await result)).toBe(`${gate} exists`);
      expect(proxy.stderr()).toMatch(/ended the stream of request \d+ after 50 ms/);
      // The session goes on as before.
      expect(textOf(await client.callTool({ name: "echo", arguments: { text: "after" } }))).toBe("after");
    } finally {
      await client.close();
      await proxy.stop();
      await upstream?.stop();
    }
  });
});

describe("HTTP downstream: sessions end", () => {
  it("names the collision tool in every session's instructions", async () => {
    const proxy = await startHttpProxy(
      ["--db", join(tempDir(), "f.db"), "--outbox", join(tempDir(), "o.log")],
      fixtureCommand("--feedback-tool"),
    );
    try {
      const first = await connectHttp(proxy.url);
      expect(first.client.getInstructions()).toBe(instructionsFor("patchworkmcp_feedback"));
      expect((await first.client.listTools()).tools.map((t) => t.name)).toContain("patchworkmcp_feedback");
      await first.client.close();
      const second = await connectHttp(proxy.url);
      expect(second.client.getInstructions()).toBe(instructionsFor("patchworkmcp_feedback"));
      expect(second.client.getInstructions()).toContain("`patchworkmcp_feedback` tool");
      expect(textOf(await second.client.callTool({ name: "feedback", arguments: { text: "x" } }))).toBe(
        "upstream feedback tool answered",
      );
      await second.client.close();
    } finally {
      await proxy.stop();
    }
  });

  it("reaps idle sessions and their upstream children", async () => {
    const proxy = await startHttpProxy(
      ["--db", join(tempDir(), "f.db"), "--outbox", join(tempDir(), "o.log"), "--session-idle-timeout", "0.5"],
      fixtureCommand(),
    );
    try {
      const { client } = await connectHttp(proxy.url);
      await client.listTools();
      await waitFor(() => proxy.stderr().includes("idle for"), 20_000, "the idle session to be reaped");
      const health = (await (await fetch(proxy.url.replace(/\/mcp$/, "/healthz"))).json()) as { sessions: number };
      expect(health.sessions).toBe(0);
      await expect(client.listTools()).rejects.toThrow();
    } finally {
      await proxy.stop();
    }
  });

  it("answers pending requests with an error and ends the session when the upstream child dies", async () => {
    const proxy = await startHttpProxy(
      ["--db", join(tempDir(), "f.db"), "--outbox", join(tempDir(), "o.log")],
      fixtureCommand(),
    );
    try {
      const { client } = await connectHttp(proxy.url);
      await expect(client.callTool({ name: "crash", arguments: {} })).rejects.toThrow(
        "The upstream MCP server exited (exit code 3) before answering this request.",
      );
      await waitFor(() => proxy.stderr().includes("ending its session"), 10_000, "the session to end");
      await expect(client.listTools()).rejects.toThrow();
      // The proxy itself keeps serving new sessions.
      const again = await connectHttp(proxy.url);
      expect((await again.client.listTools()).tools.length).toBeGreaterThan(1);
      await again.client.close();
    } finally {
      await proxy.stop();
    }
  });
});

describe("streamable-HTTP upstreams", () => {
  it("proxies server-everything over streamable HTTP to a stdio client", async () => {
    const port = await freePort();
    const upstream = await startListening([NODE, EVERYTHING, "streamableHttp"], {
      env: { PORT: String(port) },
      pattern: /listening on port (\d+)/,
    });
    const db = join(tempDir(), "feedback.db");
    const p = await connectStdioProxy({
      proxyArgs: ["--upstream-url", `http://127.0.0.1:${port}/mcp`, "--db", db, "--outbox", join(tempDir(), "o.log")],
    });
    try {
      expect((await p.client.listTools()).tools.map((t) => t.name)).toEqual(
        expect.arrayContaining(["echo", "get-sum", "feedback"]),
      );
      expect(textOf(await p.client.callTool({ name: "get-sum", arguments: { a: 20, b: 22 } }))).toContain("42");
      expect(
        textOf(
          await p.client.callTool({ name: "trigger-sampling-request", arguments: { prompt: "hey", maxTokens: 5 } }),
        ),
      ).toContain("echo of");
      const seen: number[] = [];
      await p.client.callTool(
        { name: "trigger-long-running-operation", arguments: { duration: 1.5, steps: 3 } },
        undefined,
        { onprogress: (e) => seen.push(e.progress) },
      );
      expect(seen.slice(0, 2)).toEqual([1, 2]);
      expect(textOf(await p.client.callTool({ name: "feedback", arguments: report }))).toBe(
        FEEDBACK_REPLIES.recorded(1),
      );
    } finally {
      await p.close();
      await upstream.stop();
    }
  });

  it("answers initialize with a clear error when the HTTP upstream cannot be reached", async () => {
    const port = await freePort();
    await expect(
      connectStdioProxy({
        proxyArgs: [
          "--upstream-url",
          `http://127.0.0.1:${port}/mcp`,
          "--db",
          join(tempDir(), "f.db"),
          "--outbox",
          join(tempDir(), "o.log"),
        ],
      }),
    ).rejects.toThrow("The upstream MCP server could not take this request: fetch failed");
  });

  it("answers pending requests with an error when an HTTP upstream dies mid-call", async () => {
    const upstream = await startListening(fixtureCommand("--http", "0"));
    const p = await connectStdioProxy({
      proxyArgs: [
        "--upstream-url",
        upstream.url,
        "--db",
        join(tempDir(), "f.db"),
        "--outbox",
        join(tempDir(), "o.log"),
      ],
    });
    try {
      await expect(p.client.callTool({ name: "crash", arguments: {} })).rejects.toThrow(
        "The upstream MCP server went away before answering this request.",
      );
    } finally {
      await p.close();
      await upstream.stop();
    }
  });

  it("passes custom headers to the upstream and serves it over HTTP with progress, sampling and elicitation", async () => {
    const upstream = await startListening(fixtureCommand("--http", "0"));
    const proxy = await startHttpProxy([
      "--upstream-url",
      upstream.url,
      "--upstream-header",
      "X-Trace: abc",
      "--db",
      join(tempDir(), "f.db"),
      "--outbox",
      join(tempDir(), "o.log"),
    ]);
    try {
      const { client } = await connectHttp(proxy.url);
      expect((await client.callTool({ name: "echo", arguments: { text: "x" } })).structuredContent).toEqual({
        meta: null,
        trace: "abc",
      });
      const seen: number[] = [];
      const slow = await client.callTool({ name: "slow", arguments: { steps: 3, delayMs: 100 } }, undefined, {
        onprogress: (e) => seen.push(e.progress),
      });
      expect(textOf(slow)).toBe("done after 3 steps");
      expect(seen).toEqual([1, 2, 3]);
      expect(textOf(await client.callTool({ name: "sample", arguments: { prompt: "hi" } }))).toContain(
        "sampled: echo of",
      );
      expect(textOf(await client.callTool({ name: "elicit", arguments: {} }))).toBe('elicited: accept {"name":"Ada"}');
      const big = textOf(await client.callTool({ name: "big", arguments: { bytes: 5 * 1024 * 1024 } }));
      expect(big.length).toBe(5 * 1024 * 1024);
      await client.close();
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  });
});
