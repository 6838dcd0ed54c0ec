/**
 * The hot-route fast paths (src/http/fast-paths.ts) against the express routes
 * they stand in for: the real app on a loopback port with a real SQLite file,
 * in-process so the test can see which path answered (the app's onFastPath
 * hook). `application/json` without Origin takes the fast path;
 * `application/merge+json` (or any Origin, encoding, chunked body…) goes
 * through express. They must agree, and the fast one must really be fast.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApp, finishApp } from "../../src/http/app.js";
import type { FastPathRoute } from "../../src/http/fast-paths.js";
import { FeedbackStore } from "../../src/store/index.js";
import { request, validReport } from "../helpers/http.js";

let server: Server;
let store: FeedbackStore;
let url: string;
let base: string;
const fastHits: FastPathRoute[] = [];

beforeAll(async () => {
  store = FeedbackStore.open(join(mkdtempSync(join(tmpdir(), "pwm-fast-")), "feedback.db"));
  const context = createApp({ store, onFastPath: (route) => fastHits.push(route) });
  finishApp(context.app);
  server = createServer(context.handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `${url}/api`;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  store?.close();
});
beforeEach(() => {
  fastHits.length = 0;
});

/** Run `call` and say which fast path (if any) answered it. */
async function via<T>(call: () => Promise<T>): Promise<{ result: T; fast: FastPathRoute[] }> {
  const before = fastHits.length;
  const result = await call();
  return { result, fast: fastHits.slice(before) };
}

describe("the ingestion fast path and the express route", () => {
  const post = (body: string, contentType: string, key?: string) =>
    request(`${base}/feedback`, {
      rawBody: body,
      headers: { "content-type": contentType, ...(key ? { "idempotency-key": key } : {}) },
    });

  it("answer identically, whichever path a request takes", async () => {
    const bodies = [
      JSON.stringify(validReport({ session_id: "paths" })),
      JSON.stringify({ gap_type: "nope", tools_available: [3] }),
      "{broken",
      "[]",
      JSON.stringify(validReport({ what_i_needed: "x".repeat(5000) })),
      `\ufeff${JSON.stringify(validReport({ session_id: "bom" }))}`,
    ];
    for (const body of bodies) {
      const fast = await via(() => post(body, "application/json"));
      const slow = await via(() => post(body, "application/merge+json"));
      expect(fast.fast, body.slice(0, 40)).toEqual(["ingest"]);
      expect(slow.fast, body.slice(0, 40)).toEqual([]);
      expect(slow.result.status, body.slice(0, 40)).toBe(fast.result.status);
      if (fast.result.status >= 400) expect(slow.result.body).toEqual(fast.result.body);
      expect(slow.result.headers.get("content-type")).toBe(fast.result.headers.get("content-type"));
      expect(slow.result.headers.get("x-content-type-options")).toBe("nosniff");
      expect(fast.result.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("leave an empty body to express, which reads it as {}", async () => {
    const empty = await via(() => post("", "application/json"));
    expect(empty.fast).toEqual([]);
    expect(empty.result.status).toBe(422);
  });

  it("list identically, whichever path a request takes", async () => {
    // A same-origin Origin header sends a GET through express; without one it takes the fast path.
    const cases: [string, boolean][] = [
      ["", true],
      ["?server_name=alpha&limit=3", true],
      ["?q=quaternion", true],
      // Invalid or repeated parameters are left to express, which explains them.
      ["?limit=500", false],
      ["?gap_type=nope", false],
      ["?cursor=bad", true],
      ["?limit=2&limit=3", false],
      ["?reviewed=maybe&since=x", false],
    ];
    for (const [query, takesFastPath] of cases) {
      const fast = await via(() => request(`${base}/feedback${query}`));
      const slow = await via(() => request(`${base}/feedback${query}`, { headers: { origin: url } }));
      expect(fast.fast, query).toEqual(takesFastPath ? ["list"] : []);
      expect(slow.fast, query).toEqual([]);
      expect(slow.result.status, query).toBe(fast.result.status);
      expect(slow.result.body, query).toEqual(fast.result.body);
      expect(slow.result.headers.get("content-type")).toBe(fast.result.headers.get("content-type"));
    }
  });

  it("share one idempotency key space", async () => {
    const first = await via(() => post(JSON.stringify(validReport()), "application/json", "cross-path-key"));
    const again = await via(() => post(JSON.stringify(validReport()), "application/merge+json", "cross-path-key"));
    const third = await via(() =>
      post(JSON.stringify(validReport()), "application/json; charset=utf-8", "cross-path-key"),
    );
    expect([first.fast, again.fast, third.fast]).toEqual([["ingest"], [], ["ingest"]]);
    expect(first.result.status).toBe(201);
    expect([again.result.status, third.result.status]).toEqual([200, 200]);
    expect(new Set([first.result.body.id, again.result.body.id, third.result.body.id]).size).toBe(1);
    expect(third.result.headers.get("idempotent-replayed")).toBe("true");
    const badKey = await via(() => post(JSON.stringify(validReport()), "application/json", "k".repeat(201)));
    expect(badKey.fast).toEqual(["ingest"]);
    expect(badKey.result.status).toBe(400);
  });
});
