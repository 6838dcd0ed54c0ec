/**
 * The proxy's OpenTelemetry sink against a real OTLP/HTTP receiver on loopback: the official
 * exporters POST OTLP JSON to /v1/traces and /v1/metrics, and the receiver decodes what came.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as incubating from "@opentelemetry/semantic-conventions/incubating";
import { afterEach, describe, expect, it } from "vitest";
import { type CallEvent, callEventSchema } from "../../src/analytics/index.js";
import { createOtelSink, DURATION_BUCKETS_S, MCP_SEMCONV, type OtelSink } from "../../proxy/otel.js";
import { parseOtlpHeaders } from "../../proxy/options.js";
import { attrs, durationPoints, otlpReceiver, spansOf } from "./otlp-receiver.js";

const open: { sinks: OtelSink[]; servers: Server[] } = { sinks: [], servers: [] };
afterEach(async () => {
  await Promise.all(open.sinks.splice(0).map((s) => s.shutdown()));
  await Promise.all(open.servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function event(over: Partial<CallEvent>): CallEvent {
  return callEventSchema.parse({
    server_name: "weather",
    tool_name: "forecast",
    started_at: "2026-11-30T10:00:00.000Z",
    duration_ms: 120,
    outcome: "ok",
    client_name: "claude-code",
    protocol_version: "2025-06-18",
    session_id: "sess-1",
    request_bytes: 10,
    response_bytes: 20,
    ...over,
  });
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const nanos = (iso: string, plusMs = 0) => BigInt(Date.parse(iso)) * 1_000_000n + BigInt(plusMs * 1_000_000);

describe("createOtelSink", () => {
  it("sends one span per tools/call named and attributed by the MCP semantic conventions", async () => {
    const rx = await otlpReceiver();
    open.servers.push(rx.server);
    const sink = createOtelSink({
      endpoint: rx.url,
      headers: { authorization: "Bearer t0k" },
      serviceName: "weather-proxy",
      serviceVersion: "1.4.0",
    });
    sink.record(event({}), { transport: "pipe", request_id: 7 });
    sink.record(
      event({ tool_name: "alerts", outcome: "error", error_code: -32602, duration_ms: 3, session_id: null }),
      { transport: "tcp", request_id: "r-8" },
    );
    sink.record(event({ tool_name: "radar", outcome: "tool_error", duration_ms: 2500 }), {
      transport: "tcp",
      request_id: 9,
    });
    await sink.shutdown();

    const traceRequests = rx.got.filter((r) => r.path === "/v1/traces");
    expect(traceRequests.length).toBeGreaterThan(0);
    expect(traceRequests[0]!.contentType).toMatch(/application\/json/);
    expect(traceRequests[0]!.headers.authorization).toBe("Bearer t0k");
    const resource = attrs(traceRequests[0]!.body.resourceSpans![0]!.resource.attributes);
    expect(resource["service.name"]).toBe("weather-proxy");
    expect(resource["service.version"]).toBe("1.4.0");

    const spans = spansOf(rx.got);
    expect(spans.map((s) => s.name).sort()).toEqual(["tools/call alerts", "tools/call forecast", "tools/call radar"]);
    const byName = Object.fromEntries(spans.map((s) => [s.name, s]));

    const ok = byName["tools/call forecast"]!;
    expect(ok.kind).toBe(2); // SPAN_KIND_SERVER
    expect(attrs(ok.attributes)).toEqual({
      "mcp.method.name": "tools/call",
      "gen_ai.tool.name": "forecast",
      "gen_ai.operation.name": "execute_tool",
      "mcp.protocol.version": "2025-06-18",
      "mcp.session.id": "sess-1",
      "jsonrpc.request.id": "7",
      "network.transport": "pipe",
    });
    expect(ok.status?.code ?? 0).toBe(0); // unset
    expect(BigInt(ok.startTimeUnixNano)).toBe(nanos("2026-11-30T10:00:00.000Z"));
    expect(BigInt(ok.endTimeUnixNano)).toBe(nanos("2026-11-30T10:00:00.000Z", 120));

    const rpcError = byName["tools/call alerts"]!;
    const a = attrs(rpcError.attributes);
    expect(a["error.type"]).toBe("-32602");
    expect(a["rpc.response.status_code"]).toBe("-32602");
    expect(a["jsonrpc.request.id"]).toBe("r-8");
    expect(a["network.transport"]).toBe("tcp");
    expect(a["mcp.session.id"]).toBeUndefined();
    expect(rpcError.status?.code).toBe(2); // STATUS_CODE_ERROR
    expect(rpcError.status?.message).toContain("-32602");

    const toolError = byName["tools/call radar"]!;
    expect(attrs(toolError.attributes)["error.type"]).toBe("tool_error");
    expect(toolError.status?.code).toBe(2);
    expect(BigInt(toolError.endTimeUnixNano) - BigInt(toolError.startTimeUnixNano)).toBe(2_500_000_000n);
  });

  it("records mcp.server.operation.duration in seconds with low-cardinality attributes only", async () => {
    const rx = await otlpReceiver();
    open.servers.push(rx.server);
    const sink = createOtelSink({ endpoint: `${rx.url}/`, serviceName: "weather-proxy" });
    sink.record(event({ duration_ms: 100 }), { transport: "pipe", request_id: 1 });
    sink.record(event({ duration_ms: 300, session_id: "sess-2" }), { transport: "pipe", request_id: 2 });
    sink.record(event({ outcome: "error", error_code: -32000, duration_ms: 50 }), { transport: "pipe", request_id: 3 });
    await sink.shutdown();

    const metric = rx.got
      .filter((r) => r.path === "/v1/metrics")
      .flatMap((r) => r.body.resourceMetrics ?? [])
      .flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
      .find((m) => m.name === MCP_SEMCONV.METRIC_MCP_SERVER_OPERATION_DURATION);
    expect(metric?.unit).toBe("s");
    const points = durationPoints(rx.got);
    // Two sessions, three request ids, but only two attribute sets: ok and error.type -32000.
    expect(points).toHaveLength(2);
    for (const p of points) {
      const a = attrs(p.attributes);
      expect(a["mcp.session.id"]).toBeUndefined();
      expect(a["jsonrpc.request.id"]).toBeUndefined();
      expect(a["mcp.method.name"]).toBe("tools/call");
      expect(a["gen_ai.tool.name"]).toBe("forecast");
      expect(a["gen_ai.operation.name"]).toBe("execute_tool");
      expect(a["mcp.protocol.version"]).toBe("2025-06-18");
      expect(a["network.transport"]).toBe("pipe");
      expect(p.explicitBounds).toEqual([...DURATION_BUCKETS_S]);
    }
    const okPoint = points.find((p) => attrs(p.attributes)["error.type"] === undefined)!;
    expect(Number(okPoint.count)).toBe(2);
    expect(okPoint.sum).toBeCloseTo(0.4, 9);
    const errPoint = points.find((p) => attrs(p.attributes)["error.type"] === "-32000")!;
    expect(Number(errPoint.count)).toBe(1);
    expect(errPoint.sum).toBeCloseTo(0.05, 9);
  });

  it("exports in the background while the caller goes on", async () => {
    const rx = await otlpReceiver();
    open.servers.push(rx.server);
    const sink = createOtelSink({
      endpoint: rx.url,
      serviceName: "p",
      spanExportDelayMs: 50,
      metricExportIntervalMs: 100,
    });
    open.sinks.push(sink);
    const result = sink.record(event({}), { transport: "pipe", request_id: 1 });
    expect(result).toBeUndefined(); // nothing to await
    expect(rx.got).toHaveLength(0);
    await until(() => spansOf(rx.got).length === 1 && durationPoints(rx.got).length > 0, "background export");
  });

  it("logs a failing collector once and keeps accepting calls", async () => {
    const rx = await otlpReceiver(400);
    open.servers.push(rx.server);
    const lines: string[] = [];
    const sink = createOtelSink({
      endpoint: rx.url,
      serviceName: "p",
      spanExportDelayMs: 20,
      metricExportIntervalMs: 60_000,
      log: (m) => lines.push(m),
    });
    sink.record(event({}), { transport: "pipe", request_id: 1 });
    await until(() => lines.length === 1, "the first export failure");
    sink.record(event({}), { transport: "pipe", request_id: 2 });
    await until(() => rx.got.filter((r) => r.path === "/v1/traces").length >= 2, "a second export attempt");
    await sink.shutdown();
    expect(rx.got.filter((r) => r.path === "/v1/metrics").length).toBeGreaterThan(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${rx.url}/v1/`);
    expect(lines[0]).toContain("failed");
  });

  it("does not let a collector that never answers hold shutdown", async () => {
    const sockets = new Set<import("node:net").Socket>();
    const silent = createServer(() => undefined); // reads the request, never answers
    silent.on("connection", (s) => sockets.add(s));
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    const sink = createOtelSink({
      endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      serviceName: "p",
      shutdownTimeoutMs: 100,
      log: () => undefined,
    });
    sink.record(event({}), { transport: "pipe", request_id: 1 });
    const outcome = await Promise.race([
      sink.shutdown().then(() => "stopped"),
      // The exporters' own timeout is 5 s; without the deadline shutdown would still be waiting.
      new Promise((r) => setTimeout(() => r("still waiting"), 2500)),
    ]);
    expect(outcome).toBe("stopped");
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  });

  it("ignores calls after shutdown", async () => {
    const rx = await otlpReceiver();
    open.servers.push(rx.server);
    const sink = createOtelSink({ endpoint: rx.url, serviceName: "p" });
    await sink.shutdown();
    sink.record(event({}), { transport: "pipe", request_id: 1 });
    await sink.shutdown();
    expect(spansOf(rx.got)).toHaveLength(0);
  });
});

describe("MCP semantic-convention names", () => {
  it("match the official package's incubating definitions", () => {
    for (const [constant, value] of Object.entries(MCP_SEMCONV))
      expect([constant, (incubating as Record<string, unknown>)[constant]]).toEqual([constant, value]);
  });
});

describe("parseOtlpHeaders", () => {
  it("reads OTEL_EXPORTER_OTLP_HEADERS pairs with percent-encoded values", () => {
    expect(parseOtlpHeaders("api-key=abc%3D%3D, x-team = core ,")).toEqual({ "api-key": "abc==", "x-team": "core" });
    expect(parseOtlpHeaders(undefined)).toEqual({});
  });
  it("names a pair that is not name=value", () => {
    expect(parseOtlpHeaders("just-a-token")).toMatch(/"just-a-token" is not one/);
    expect(parseOtlpHeaders("k=%E0%A4%A")).toMatch(/"k".*percent-encoding/);
  });
});
