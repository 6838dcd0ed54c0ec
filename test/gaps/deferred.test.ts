/**
 * Deferred grouping in a real `serve` child process: reports are stored without a gap and the
 * grouping worker (a worker thread with its own SQLite connection) assigns them behind the
 * watermark. Every report ends in exactly one gap, a SIGKILL mid-burst loses nothing, and the
 * known-gap echo still arrives on the POST answer (fast path, express, MCP). Requires `npm run build`.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import { startServer } from "../../src/http/server.js";
import { FeedbackStore } from "../../src/store/index.js";
import { gapConsistency, gapIdOf, groupingSettled } from "../helpers/gaps.js";
import { request } from "../helpers/http.js";
import { startServe, testDbPath, type ServeProcess } from "../helpers/serve.js";

const running: ServeProcess[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

async function serve(dbPath: string): Promise<ServeProcess> {
  const s = await startServe({ dbPath, env: { FEEDBACK_RATE_LIMIT: "0", FEEDBACK_MAX_BYTES_PER_SERVER_DAY: "0" } });
  running.push(s);
  return s;
}

const NEEDS = ["Filter invoices by a date range", "Export customers as CSV", "Refund part of a payment"];
const report = (i: number, over: Record<string, unknown> = {}) => ({
  server_name: i % 4 === 0 ? "calendar" : "billing",
  tool_name: `tool_${i % 3}`,
  gap_type: "missing_parameter",
  what_i_needed: `${NEEDS[i % 3]} for run ${1000 + i}`,
  what_i_tried: `Called tool_${i % 3} with page=${i}`,
  session_id: `s-${i}`,
  ...over,
});

/** gapConsistency without the total (the deferred tests compare the other counts exactly). */
function consistency(path: string): { reports: number; unassigned: number; inDeadGap: number; mismatched: number } {
  const { counted: _, ...rest } = gapConsistency(path);
  return rest;
}

const post = (url: string, body: unknown) => request(`${url}/api/feedback`, { body });

describe("deferred grouping in serve", () => {
  it("stores first, then the worker puts every report in exactly one gap, with its lag visible", async () => {
    const dbPath = testDbPath("pwm-deferred-");
    const s = await serve(dbPath);
    const answers = await Promise.all(Array.from({ length: 120 }, (_, i) => post(s.url, report(i))));
    for (const a of answers) {
      expect(a.status).toBe(201);
      expect(a.body).toEqual({ id: expect.any(Number), status: "recorded" }); // nothing acted on: no echo, no wait
    }
    // Same need, same gap; the gap arrives moments after the answer.
    const first = await gapIdOf(s.url, answers[1]!.body.id);
    expect(await gapIdOf(s.url, answers[13]!.body.id)).toBe(first); // i = 1 and 13: billing, tool_1, same need
    const g = await groupingSettled(s.url);
    expect(g).toMatchObject({ pending: 0, assigned_upto: g.latest_id });
    expect(g.latest_id).toBe(120);
    const list = await request(`${s.url}/api/gaps?limit=200`);
    expect(list.body.grouping).toMatchObject({ pending: 0, assigned_upto: 120, latest_id: 120 });
    expect(list.body.items.reduce((n: number, x: { reports: number }) => n + x.reports, 0)).toBe(120);
    await s.stop();
    expect(consistency(dbPath)).toEqual({ reports: 120, unassigned: 0, inDeadGap: 0, mismatched: 0 });
  });

  it("echoes a planned gap on the POST answer, on the fast path, through express and over MCP", async () => {
    const dbPath = testDbPath("pwm-deferred-echo-");
    const s = await serve(dbPath);
    const seed = await post(s.url, report(1));
    const gapId = await gapIdOf(s.url, seed.body.id);
    const note = "Until then, fetch all invoices and filter them yourself.";
    expect(
      (await request(`${s.url}/api/gaps/${gapId}`, { method: "PATCH", body: { status: "planned", agent_note: note } }))
        .status,
    ).toBe(200);
    const echo = { id: gapId, status: "planned", reports: expect.any(Number), agent_note: note };

    const fast = await post(s.url, report(13));
    const viaExpress = await request(`${s.url}/api/feedback`, {
      rawBody: JSON.stringify(report(25)),
      headers: { "content-type": "application/vnd.agent+json" }, // not taken by the fast path
    });
    for (const res of [fast, viaExpress]) {
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ id: expect.any(Number), status: "recorded", gap: echo });
    }
    expect(viaExpress.body.gap.reports).toBe(fast.body.gap.reports + 1);
    // Another need on the same server waits for its gap too, and gets no echo: its gap was never acted on.
    const unrelated = await post(s.url, report(2));
    expect(unrelated.body).toEqual({ id: expect.any(Number), status: "recorded" });

    const client = new Client({ name: "deferred-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp`)));
    try {
      const reply = await client.callTool({ name: "feedback", arguments: report(37) });
      const text = (reply.content as { type: string; text: string }[]).map((c) => c.text).join("\n");
      expect(text).toContain("known gap");
      expect(text).toContain(note);
    } finally {
      await client.close();
    }
  });

  it("loses nothing when serve is SIGKILLed during a burst: after a restart every report is in one gap", async () => {
    const dbPath = testDbPath("pwm-deferred-kill-");
    const s = await serve(dbPath);
    const sent: Promise<unknown>[] = [];
    let stored = 0;
    // Keep posting until enough reports are stored that the worker is mid-pass, then kill.
    for (let i = 0; stored < 400; i++) {
      sent.push(
        post(s.url, report(i)).then(
          () => stored++,
          () => undefined,
        ),
      );
      if (i % 50 === 49) await Promise.race(sent.slice(-50));
    }
    await s.kill();
    await Promise.allSettled(sent);
    const before = consistency(dbPath);
    expect(before.inDeadGap).toBe(0);
    expect(before.mismatched).toBe(0); // assignments and counts moved in one transaction
    const again = await serve(dbPath);
    const g = await groupingSettled(again.url);
    expect(g.assigned_upto).toBe(g.latest_id);
    await again.stop();
    const after = consistency(dbPath);
    expect(after).toEqual({ reports: before.reports, unassigned: 0, inDeadGap: 0, mismatched: 0 });
    expect(after.reports).toBeGreaterThanOrEqual(400);
  });

  it("also groups when the sidecar runs from source in this process (the worker starts from the build)", async () => {
    const server = await startServer({ port: 0, host: "127.0.0.1", dbPath: testDbPath() });
    try {
      const posted = await request(`${server.url}/api/feedback`, { method: "POST", body: report(1) });
      expect(posted.status).toBe(201);
      expect(await gapIdOf(server.url, (posted.body as { id: number }).id)).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it("inline writers (CLI, stdio MCP) still assign in the transaction and move the watermark", () => {
    const dbPath = testDbPath("pwm-inline-");
    const store = FeedbackStore.open(dbPath);
    try {
      const [a] = store.insertMany([{ payload: report(1) as never }]);
      expect(a!.gap_id).toEqual(expect.any(Number));
      expect(store.gaps.progress()).toMatchObject({ pending: 0, assigned_upto: a!.id, latest_id: a!.id });
    } finally {
      store.close();
    }
  });
});
