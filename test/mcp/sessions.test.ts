import { afterEach, describe, expect, it, vi } from "vitest";
import { startServer } from "../../src/http/server.js";
import type { McpHttpOptions } from "../../src/mcp/http.js";
import { FeedbackStore } from "../../src/store/index.js";
import { testDbPath } from "../helpers/serve.js";
import { type Mounted, mountEndpoint, openRawSession, rawMcp } from "./helpers.js";

const IDLE_MS = 300;
/** The reaper's period for IDLE_MS (half the idle limit, at least a second). */
const REAPER_MS = 1000;

const mounted: Mounted[] = [];

const mount = async (options: Partial<McpHttpOptions> = {}, store?: FeedbackStore): Promise<Mounted> => {
  const m = await mountEndpoint(options, store);
  mounted.push(m);
  return m;
};

afterEach(async () => {
  vi.useRealTimers();
  while (mounted.length > 0) await mounted.pop()!.close();
});

/** Wait until `condition` holds, giving I/O a turn between checks; fails with `what` after 10 s. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

const ping = (url: string, session: string, key?: string) =>
  rawMcp(url, { key, session, body: { jsonrpc: "2.0", id: 5, method: "ping" } });

describe("MCP sessions", () => {
  it("reaps idle sessions but keeps one with an open GET stream", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    const { url, endpoint } = await mount({ sessionIdleMs: IDLE_MS, maxSessions: 3 });
    const idle = await openRawSession(url);
    const streaming = await openRawSession(url);
    const controller = new AbortController();
    const stream = await fetch(url, {
      method: "GET",
      headers: { Accept: "text/event-stream", "Mcp-Session-Id": streaming, "MCP-Protocol-Version": "2025-06-18" },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    expect(endpoint.sessionCount).toBe(2);

    vi.advanceTimersByTime(IDLE_MS + REAPER_MS);
    expect(endpoint.sessionCount).toBe(1);
    expect((await ping(url, idle)).status).toBe(404);
    // The streaming session outlived the idle one although it was last used before it.
    const alive = await ping(url, streaming);
    expect(alive.status).toBe(200);
    expect(alive.body).toMatchObject({ result: {} });

    controller.abort();
    // Once the server has seen the stream close, the next sweeps after the idle limit reap it.
    await until(() => {
      vi.advanceTimersByTime(REAPER_MS);
      return endpoint.sessionCount === 0;
    }, "the stream's session to be reaped after it closed");
    expect((await ping(url, streaming)).status).toBe(404);
  });

  it("does not reap a session that is used more often than the idle limit", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    const { url, endpoint } = await mount({ sessionIdleMs: IDLE_MS });
    const session = await openRawSession(url);
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(IDLE_MS - 50);
      expect((await ping(url, session)).status).toBe(200);
    }
    expect(endpoint.sessionCount).toBe(1);
  });

  it("closes the least recently used idle session when the table is full", async () => {
    const { url } = await mount({ maxSessions: 3 });
    const [a, b, c] = [await openRawSession(url), await openRawSession(url), await openRawSession(url)];
    expect((await ping(url, a)).status).toBe(200);
    const d = await openRawSession(url);
    expect((await ping(url, b)).status).toBe(404);
    for (const s of [a, c, d]) expect((await ping(url, s)).status).toBe(200);
  });
});

describe("MCP sessions per key", () => {
  it("caps each key's sessions so one shared key cannot crowd out another", async () => {
    const keyed = FeedbackStore.open(testDbPath("pwm-mcp-perkey-"));
    const agentKey = keyed.createKey("ingest").key;
    const devKey = keyed.createKey("admin").key;
    const { url } = await mount({ maxSessions: 4, maxSessionsPerKey: 2 }, keyed);
    const dev = await openRawSession(url, devKey);
    const agents = [];
    for (let i = 0; i < 5; i++) agents.push(await openRawSession(url, agentKey));
    // The agent key keeps only its two newest sessions; the developer's session is untouched.
    expect((await ping(url, dev, devKey)).status).toBe(200);
    const alive = await Promise.all(agents.map(async (s) => (await ping(url, s, agentKey)).status));
    expect(alive).toEqual([404, 404, 404, 200, 200]);
  });
});

describe("closing the server", () => {
  it("stops the reaper and closes every session, so no timer is left behind", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const running = await startServer({ port: 0, host: "127.0.0.1", dbPath: testDbPath() });
    const url = `${running.url}/mcp`;
    const sessions = [await openRawSession(url), await openRawSession(url)];
    const stream = await fetch(url, {
      method: "GET",
      headers: { Accept: "text/event-stream", "Mcp-Session-Id": sessions[0]!, "MCP-Protocol-Version": "2025-06-18" },
    });
    expect(stream.status).toBe(200);
    expect(running.context.mcp.sessionCount).toBe(2);
    // The automatic gap analysis ticker, the alerts runner, the autonomy worker, the tool-call retention
    // pass, the session reaper and the SDK's keep-alive on the open stream (the full-text index is the
    // grouping worker's on SQLite, and PostgreSQL's is kept by the database).
    expect(vi.getTimerCount()).toBe(6);

    await running.close();
    expect(running.context.mcp.sessionCount).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    // The session's open stream was ended by the server, not left hanging.
    const reader = stream.body!.getReader();
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true }));
      if (chunk.done) break;
    }
  });
});
