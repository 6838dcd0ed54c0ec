/**
 * Idle HTTP sessions are reaped (clients rarely send DELETE), on fake time:
 * the HTTP downstream runs in this process on a loopback port with a real SDK
 * client, its upstream an in-memory server, and only the reaper's interval and
 * the clock are faked, so the test never waits for an idle timeout to pass.
 */
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startHttpProxy, type RunningHttpProxy } from "../../proxy/downstream-http.js";
import type { Frame, RpcMessage } from "../../proxy/jsonrpc.js";
import { Outbox } from "../../proxy/outbox.js";
import { Reporter } from "../../proxy/reporter.js";
import type { UpstreamLink } from "../../proxy/upstream.js";
import { connectHttp, tempDir } from "./helpers.js";

const IDLE_MS = 60_000;

/** An upstream that answers initialize and tools/list, and never answers `tools/call` of "hang". */
function memoryUpstream(closed: string[], seen: string[]) {
  return (label: string): UpstreamLink => {
    const link: UpstreamLink = {
      start: async () => undefined,
      setProtocolVersion: () => undefined,
      close: async () => {
        closed.push(label);
      },
      send: (frame: Frame) => {
        const m = frame.msg;
        if (typeof m.method === "string") seen.push(m.method);
        if (m.id === undefined || m.id === null || typeof m.method !== "string") return;
        let answer: RpcMessage | undefined;
        if (m.method === "initialize")
          answer = {
            jsonrpc: "2.0",
            id: m.id,
            result: {
              protocolVersion: "2025-06-18",
              capabilities: { tools: {} },
              serverInfo: { name: "mem", version: "1" },
            },
          };
        else if (m.method === "tools/list")
          answer = { jsonrpc: "2.0", id: m.id, result: { tools: [{ name: "hang", inputSchema: { type: "object" } }] } };
        if (answer) {
          const reply = answer;
          queueMicrotask(() => link.onmessage?.({ msg: reply }));
        }
      },
    };
    return link;
  };
}

async function start(closed: string[], logs: string[], seen: string[] = []): Promise<RunningHttpProxy> {
  const reporter = new Reporter({
    deliverer: { deliver: async () => ({ ok: true, id: 1 }) },
    outbox: new Outbox(join(tempDir(), "o.log")),
    log: () => undefined,
    timeoutMs: 1000,
  });
  return startHttpProxy({
    host: "127.0.0.1",
    port: 0,
    makeUpstream: memoryUpstream(closed, seen),
    config: { toolName: "feedback", collisionToolName: "patchworkmcp_feedback", missingToolReports: false },
    reporter,
    log: (m) => logs.push(m),
    allowedHosts: [],
    allowedOrigins: [],
    idleTimeoutMs: IDLE_MS,
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("HTTP downstream reaps idle sessions", () => {
  it("closes a session and its upstream once it has been idle for the timeout, not before", async () => {
    // Sockets and the SDK's own timeouts stay real; the reaper's interval and the clock are fake.
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    const closed: string[] = [];
    const logs: string[] = [];
    const proxy = await start(closed, logs);
    try {
      const { client } = await connectHttp(proxy.url);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(["hang", "feedback"]);
      expect(proxy.sessions()).toBe(1);
      await vi.advanceTimersByTimeAsync(IDLE_MS - 1000);
      expect(proxy.sessions()).toBe(1);
      // Traffic resets the clock.
      await client.listTools();
      await vi.advanceTimersByTimeAsync(IDLE_MS - 1000);
      expect(proxy.sessions()).toBe(1);
      expect(closed).toEqual([]);
      await vi.advanceTimersByTimeAsync(IDLE_MS / 2);
      expect(proxy.sessions()).toBe(0);
      expect(closed).toHaveLength(1);
      expect(logs.some((l) => /^session [0-9a-f-]{36} idle for \d+ s: closing it$/.test(l))).toBe(true);
      await expect(client.listTools()).rejects.toThrow(/Session not found/);
    } finally {
      await proxy.close();
    }
  });

  it("keeps a session with a call pending for up to four timeouts, then closes it too", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    const closed: string[] = [];
    const seen: string[] = [];
    const proxy = await start(closed, [], seen);
    try {
      const { client } = await connectHttp(proxy.url);
      await client.listTools();
      const call = client.callTool({ name: "hang", arguments: {} }).catch((err: unknown) => err);
      await vi.waitFor(() => {
        if (!seen.includes("tools/call")) throw new Error("the call has not reached upstream yet");
      });
      await vi.advanceTimersByTimeAsync(3 * IDLE_MS);
      expect(proxy.sessions()).toBe(1);
      await vi.advanceTimersByTimeAsync(IDLE_MS + IDLE_MS / 2);
      expect(proxy.sessions()).toBe(0);
      expect(closed).toHaveLength(1);
      await client.close();
      await call;
    } finally {
      await proxy.close();
    }
  });
});
