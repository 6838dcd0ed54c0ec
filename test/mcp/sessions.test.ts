/**
 * Session housekeeping of the /mcp router, mounted in-process with short
 * limits (real loopback HTTP, real SQLite file): idle sessions are reaped,
 * sessions with an open stream are not, and a full table makes room.
 */
import express from "express";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authenticator } from "../../src/http/auth.js";
import { IngestQueue } from "../../src/http/ingest-queue.js";
import { mcpRouter } from "../../src/mcp/http.js";
import { FeedbackStore } from "../../src/store/index.js";
import { tempDir } from "../helpers/serve.js";
import { openRawSession, rawMcp } from "./helpers.js";

let store: FeedbackStore;
let server: Server;
let url: string;

const ping = (session: string) => rawMcp(url, { session, body: { jsonrpc: "2.0", id: 5, method: "ping" } });

/**
 * Poll for a condition. Every request to a session counts as activity, so the
 * pause between polls (1.5 s) is longer than the idle limit (300 ms) plus the
 * reaper's period (1 s): a poll never keeps alive the session it watches.
 */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 1500));
    if (await condition()) return;
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeAll(async () => {
  store = FeedbackStore.open(join(tempDir("pwm-mcp-sessions-"), "feedback.db"));
  const app = express();
  app.use(
    "/mcp",
    mcpRouter({
      store,
      auth: new Authenticator({ store }),
      queue: new IngestQueue(store),
      sessionIdleMs: 300,
      maxSessions: 3,
    }),
  );
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  store.close();
});

describe("MCP sessions", () => {
  it("reaps idle sessions but keeps one with an open GET stream", async () => {
    const idle = await openRawSession(url);
    const streaming = await openRawSession(url);
    const controller = new AbortController();
    const stream = await fetch(url, {
      method: "GET",
      headers: { Accept: "text/event-stream", "Mcp-Session-Id": streaming, "MCP-Protocol-Version": "2025-06-18" },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    await until(async () => (await ping(idle)).status === 404, "the idle session to be reaped");
    // The streaming session outlived the idle one although it was last used before it.
    const alive = await ping(streaming);
    expect(alive.status).toBe(200);
    expect(alive.body).toMatchObject({ result: {} });
    controller.abort();
    await until(
      async () => (await ping(streaming)).status === 404,
      "the stream's session to be reaped after it closed",
    );
  });

  it("closes the least recently used idle session when the table is full", async () => {
    const [a, b, c] = [await openRawSession(url), await openRawSession(url), await openRawSession(url)];
    expect((await ping(a)).status).toBe(200);
    const d = await openRawSession(url);
    expect((await ping(b)).status).toBe(404);
    for (const s of [a, c, d]) expect((await ping(s)).status).toBe(200);
  });
});

describe("MCP sessions per key", () => {
  it("caps each key's sessions so one shared key cannot crowd out another", async () => {
    const keyed = FeedbackStore.open(join(tempDir("pwm-mcp-perkey-"), "feedback.db"));
    const agentKey = keyed.createKey("ingest").key;
    const devKey = keyed.createKey("admin").key;
    const app = express();
    app.use(
      "/mcp",
      mcpRouter({
        store: keyed,
        auth: new Authenticator({ store: keyed }),
        queue: new IngestQueue(keyed),
        maxSessions: 4,
        maxSessionsPerKey: 2,
      }),
    );
    const srv = await new Promise<Server>((resolve) => {
      const s = app.listen(0, "127.0.0.1", () => resolve(s));
    });
    const at = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/mcp`;
    const pingAs = (key: string, session: string) =>
      rawMcp(at, { key, session, body: { jsonrpc: "2.0", id: 9, method: "ping" } });
    try {
      const dev = await openRawSession(at, devKey);
      const agents = [];
      for (let i = 0; i < 5; i++) agents.push(await openRawSession(at, agentKey));
      // The agent key keeps only its two newest sessions; the developer's session is untouched.
      expect((await pingAs(devKey, dev)).status).toBe(200);
      const alive = await Promise.all(agents.map(async (s) => (await pingAs(agentKey, s)).status));
      expect(alive).toEqual([404, 404, 404, 200, 200]);
    } finally {
      srv.closeAllConnections();
      await new Promise((r) => srv.close(r));
      keyed.close();
    }
  });
});
