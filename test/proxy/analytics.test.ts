/**
 * The analytics buffer and spill in-process, against a real loopback receiver
 * that validates every body with the contract: overflow folds into rollups, a
 * sidecar that is down gets an aggregated spill, the spill is replayed when it
 * is back, and several proxies can share one spill file.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CALL_LIMITS, type CallEvent } from "../../src/analytics/index.js";
import { CallAnalytics, rollupOf, sidecarCallsDeliverer } from "../../proxy/analytics.js";
import { CallSpill } from "../../proxy/analytics-spill.js";
import { CallRecorder, isErrorResult, recordedArguments } from "../../proxy/calls.js";
import { CallsReceiver } from "./calls-receiver.js";
import { startServe } from "../helpers/serve.js";
import { tempDir } from "./helpers.js";

const START = Date.parse("2026-12-01T10:15:00.000Z");

function event(i: number, extra: Partial<CallEvent> = {}): CallEvent {
  return {
    server_name: "srv",
    server_version: "1.0.0",
    tool_name: `tool_${i % 3}`,
    started_at: new Date(START + i * 1000).toISOString(),
    duration_ms: (i % 7) * 3,
    outcome: i % 5 === 0 ? "error" : "ok",
    error_code: i % 5 === 0 ? -32603 : null,
    client_name: "client",
    client_version: "1",
    protocol_version: "2025-06-18",
    session_id: "s1",
    request_bytes: 100,
    response_bytes: 200,
    arguments: null,
    ...extra,
  };
}

const receivers: CallsReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop();
});

async function receiver(): Promise<CallsReceiver> {
  const r = await new CallsReceiver().start();
  receivers.push(r);
  return r;
}

const logs: string[] = [];
const log = (m: string) => logs.push(m);

function analytics(url: string, spillPath: string, capacity = 10_000) {
  return new CallAnalytics({
    deliverer: sidecarCallsDeliverer(url, "key-1"),
    spill: new CallSpill(spillPath, log),
    log,
    capacity,
    timeoutMs: 2000,
  });
}

describe("call analytics buffer", () => {
  it("sends buffered events as one batch with the API key, and nothing when idle", async () => {
    const r = await receiver();
    const a = analytics(r.url, join(tempDir(), "spill.json"));
    for (let i = 0; i < 25; i++) a.sink(event(i), { transport: "pipe", request_id: i });
    await a.flush();
    expect(r.batches).toHaveLength(1);
    expect(r.batches[0]!.authorization).toBe("Bearer key-1");
    expect(r.calls.map((c) => c.started_at)).toEqual([...Array(25).keys()].map((i) => event(i).started_at));
    await a.flush();
    expect(r.batches).toHaveLength(1);
    expect(a.buffered).toBe(0);
  });

  it("a full buffer of events with recorded arguments reaches a real serve whole: POSTs stay within its body limit", async () => {
    const serve = await startServe({ dbPath: join(tempDir(), "feedback.db") });
    try {
      const a = new CallAnalytics({
        deliverer: sidecarCallsDeliverer(serve.url, undefined),
        spill: new CallSpill(join(tempDir(), "spill.json"), log),
        log,
        capacity: 10_000,
        timeoutMs: 10_000,
      });
      // About 3 MB of JSON in all: several times the sidecar's default 1 MiB body limit.
      const n = CALL_LIMITS.batch_items;
      for (let i = 0; i < n; i++)
        a.sink(event(i, { server_name: "big", arguments: { query: `q${i} ${"x".repeat(500)}` } }), {
          transport: "pipe",
          request_id: i,
        });
      await a.flush();
      const since = encodeURIComponent(new Date(START - 3_600_000).toISOString());
      const until = encodeURIComponent(new Date(START + 3 * 3_600_000).toISOString());
      const stats = (await (
        await fetch(`${serve.url}/api/tools?server_name=big&since=${since}&until=${until}`)
      ).json()) as {
        items: { calls: number }[];
      };
      expect(stats.items.reduce((sum, t) => sum + t.calls, 0)).toBe(n);
      expect(logs.filter((l) => l.includes("refused"))).toEqual([]);
    } finally {
      await serve.stop();
    }
  });

  it("past --analytics-buffer, calls fold into hourly rollups instead of being dropped", async () => {
    const r = await receiver();
    const a = analytics(r.url, join(tempDir(), "spill.json"), 4);
    for (let i = 0; i < 30; i++) a.sink(event(i), { transport: "pipe", request_id: i });
    expect(a.buffered).toBe(4);
    await a.flush();
    expect(r.calls).toHaveLength(4);
    // 26 calls over three tools, one hour: three rows.
    expect(r.rollups).toHaveLength(3);
    expect(r.rollups.reduce((n, x) => n + x.calls, 0)).toBe(26);
    expect(r.rollups.every((x) => x.hour === "2026-12-01T10:00:00.000Z")).toBe(true);
    const errors = [...Array(30).keys()].slice(4).filter((i) => i % 5 === 0).length;
    expect(r.rollups.reduce((n, x) => n + x.errors, 0)).toBe(errors);
    expect(r.rollups.reduce((n, x) => n + x.histogram.reduce((a, b) => a + b, 0), 0)).toBe(26);
  });

  it("while the sidecar is down, calls aggregate in the spill (bounded by keys), replayed as rollups once it is back", async () => {
    const r = await receiver();
    const spillPath = join(tempDir(), "spill.json");
    await r.stop();
    const a = analytics(r.url, spillPath);
    for (let i = 0; i < 3000; i++) a.sink(event(i % 60), { transport: "pipe", request_id: i });
    await a.flush();
    expect(existsSync(spillPath)).toBe(true);
    const spilled = JSON.parse(readFileSync(spillPath, "utf8")) as { rollups: { calls: number }[] };
    // 3000 calls, three tools in one hour: three rows, not 3000 lines.
    expect(spilled.rollups).toHaveLength(3);
    expect(spilled.rollups.reduce((n, x) => n + x.calls, 0)).toBe(3000);
    const size = statSync(spillPath).size;
    for (let i = 0; i < 3000; i++) a.sink(event(i % 60), { transport: "pipe", request_id: i });
    // Backing off: the next tick spills without trying the sidecar.
    await a.flush();
    expect(statSync(spillPath).size).toBeLessThan(size + 50);
    expect(a.counts.spilledCalls).toBe(6000);
    expect(logs.filter((l) => l.includes("aggregated in"))).toHaveLength(1);

    await r.start();
    // A fresh buffer (another proxy, or this one after its backoff) reaches the sidecar and replays the spill.
    const b = analytics(r.url, spillPath);
    b.sink(event(1), { transport: "pipe", request_id: 1 });
    await b.flush();
    expect(existsSync(spillPath)).toBe(false);
    expect(r.calls).toHaveLength(1);
    expect(r.rollups.reduce((n, x) => n + x.calls, 0)).toBe(6000);
    expect(r.invalid).toEqual([]);
  });

  it("a batch refused for its content (422) is dropped and counted, not spilled", async () => {
    const r = await receiver();
    r.failWith = 422;
    const spillPath = join(tempDir(), "spill.json");
    const a = analytics(r.url, spillPath);
    a.sink(event(1), { transport: "pipe", request_id: 1 });
    await a.flush();
    expect(a.counts.refusedCalls).toBe(1);
    expect(existsSync(spillPath)).toBe(false);
  });

  it("stop() sends what is left, or spills it when the sidecar is gone", async () => {
    const r = await receiver();
    const spillPath = join(tempDir(), "spill.json");
    const a = analytics(r.url, spillPath);
    a.start();
    a.sink(event(2), { transport: "pipe", request_id: 2 });
    await a.stop();
    expect(r.calls).toHaveLength(1);
    await r.stop();
    const b = analytics(r.url, spillPath);
    b.start();
    b.sink(event(3), { transport: "pipe", request_id: 3 });
    await b.stop();
    expect(JSON.parse(readFileSync(spillPath, "utf8")).rollups).toHaveLength(1);
  });
});

describe("call analytics spill", () => {
  it("is shared: concurrent writers under its lock lose no call", async () => {
    const path = join(tempDir(), "shared.json");
    const spills = [...Array(8).keys()].map(() => new CallSpill(path, log));
    await Promise.all(
      spills.flatMap((s, w) =>
        [...Array(5).keys()].map((k) => s.add([rollupOf(event(w * 5 + k, { client_name: `c${w}` }))])),
      ),
    );
    const rows = JSON.parse(readFileSync(path, "utf8")).rollups as { calls: number }[];
    expect(rows.reduce((n, x) => n + x.calls, 0)).toBe(40);
  });

  it("keeps at most its row limit and counts the calls it had to drop", async () => {
    const path = join(tempDir(), "capped.json");
    const spill = new CallSpill(path, log, 2);
    await spill.add([0, 1, 2, 3].map((i) => rollupOf(event(i, { tool_name: `t${i}` }))));
    expect(JSON.parse(readFileSync(path, "utf8")).rollups).toHaveLength(2);
    expect(spill.dropped).toBe(2);
    // Existing keys still count.
    await spill.add([rollupOf(event(0, { tool_name: "t0" }))]);
    expect(JSON.parse(readFileSync(path, "utf8")).rollups[0].calls).toBe(2);
  });

  it("a claim left by a proxy that died while sending is replayed by the next one", async () => {
    const dir = tempDir();
    const path = join(dir, "spill.json");
    // A pid that surely ran and is gone: a child that has exited.
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    const rows = [rollupOf(event(1)), rollupOf(event(2))];
    writeFileSync(`${path}.sending.${dead}.abcd1234`, JSON.stringify({ version: 1, rollups: rows }));
    const spill = new CallSpill(path, log);
    expect(spill.waiting).toBe(true);
    const claim = await spill.claim();
    expect(claim?.rollups.reduce((n, x) => n + x.calls, 0)).toBe(2);
    claim!.done();
    expect(spill.waiting).toBe(false);
  });
});

describe("call recorder pieces", () => {
  it("reads isError: true off a raw result line, and not a quoted mention", () => {
    expect(isErrorResult(Buffer.from('{"result":{"content":[],"isError":true},"jsonrpc":"2.0","id":1}\n'))).toBe(true);
    expect(isErrorResult(Buffer.from('{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError": true}}\n'))).toBe(true);
    expect(isErrorResult(Buffer.from('{"result":{"content":[],"isError":false},"jsonrpc":"2.0","id":1}\n'))).toBe(
      false,
    );
    const quoted = JSON.stringify({ result: { content: [{ type: "text", text: '{"isError":true}' }] }, id: 1 });
    expect(isErrorResult(Buffer.from(quoted))).toBe(false);
  });

  it("keeps arguments only when asked, and cuts long ones with a mark", () => {
    expect(recordedArguments({ a: 1 })).toEqual({ a: 1 });
    expect(recordedArguments(["x"])).toBeNull();
    const long = recordedArguments({ text: "x".repeat(10_000) });
    expect(long).toMatchObject({ _truncated: true, _chars: 10_011 });
    const seen: CallEvent[] = [];
    const off = new CallRecorder({ sinks: [(e) => seen.push(e)], recordArguments: false, log });
    const start = off.start("echo", 10, { secret: "x" });
    off.finish(
      start,
      { outcome: "ok", errorCode: null, responseBytes: 5 },
      {
        serverName: undefined,
        serverVersion: undefined,
        clientName: "c",
        clientVersion: undefined,
        protocolVersion: undefined,
        sessionId: "s",
      },
      { transport: "pipe", request_id: 1 },
    );
    expect(seen[0]).toMatchObject({ server_name: "unknown", arguments: null, tool_name: "echo", request_bytes: 10 });
  });

  it("a sink that throws is logged once and never stops the others", () => {
    const seen: string[] = [];
    const local: string[] = [];
    const rec = new CallRecorder({
      sinks: [
        () => {
          throw new Error("boom");
        },
        (e) => seen.push(e.tool_name),
      ],
      recordArguments: false,
      log: (m) => local.push(m),
    });
    const facts = {
      serverName: "s",
      serverVersion: undefined,
      clientName: undefined,
      clientVersion: undefined,
      protocolVersion: undefined,
      sessionId: undefined,
    };
    for (const t of ["a", "b"])
      rec.finish(rec.start(t, 1, undefined), { outcome: "ok", errorCode: null, responseBytes: 1 }, facts, {
        transport: "pipe",
        request_id: 1,
      });
    expect(seen).toEqual(["a", "b"]);
    expect(local).toHaveLength(1);
    expect(local[0]).toContain("boom");
  });
});
