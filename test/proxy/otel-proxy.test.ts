/**
 * A real proxy (the built CLI) in front of the fixture server with `--otlp-endpoint`: calls that
 * succeed, fail with a JSON-RPC error and return `isError` reach a loopback OTLP/HTTP receiver
 * as spans named and attributed by the MCP semantic conventions, and as the duration histogram.
 */
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import {
  type ChildServer,
  connectHttp,
  connectStdioProxy,
  fixtureCommand,
  newClient,
  startHttpProxy,
  startListening,
  tempDir,
  waitFor,
} from "./helpers.js";
import { attrs, durationPoints, otlpReceiver, spansOf } from "./otlp-receiver.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

it("exports every tools/call of a stdio proxy over OTLP/HTTP", async () => {
  const rx = await otlpReceiver();
  cleanups.push(() => new Promise((r) => rx.server.close(r)));
  const proxy = await connectStdioProxy({
    proxyArgs: [
      "--analytics",
      "no",
      "--sidecar-url",
      "http://127.0.0.1:9",
      "--outbox",
      join(tempDir(), "o.log"),
      "--no-missing-tool-reports",
    ],
    upstream: fixtureCommand(),
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=s%3Dcret" },
  });
  await proxy.client.callTool({ name: "echo", arguments: { text: "a" } });
  await proxy.client.callTool({ name: "fail", arguments: { code: -32602 } }).catch(() => undefined);
  await proxy.client.callTool({ name: "refuse", arguments: {} });
  // The injected feedback tool is answered by the proxy itself: no upstream call, no span.
  await proxy.close();

  const spans = await waitFor(() => spansOf(rx.got).length >= 3 && spansOf(rx.got), 20_000, "three spans");
  expect(spans.map((s) => s.name).sort()).toEqual(["tools/call echo", "tools/call fail", "tools/call refuse"]);
  const traces = rx.got.find((r) => r.path === "/v1/traces")!;
  expect(traces.headers["x-api-key"]).toBe("s=cret");
  const resource = attrs(traces.body.resourceSpans![0]!.resource.attributes);
  expect(resource["service.name"]).toBe("fixture-server");

  const byName = Object.fromEntries(spans.map((s) => [s.name, s]));
  const echo = attrs(byName["tools/call echo"]!.attributes);
  expect(echo).toMatchObject({
    "mcp.method.name": "tools/call",
    "gen_ai.tool.name": "echo",
    "gen_ai.operation.name": "execute_tool",
    "network.transport": "pipe",
  });
  expect(echo["mcp.protocol.version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  expect(echo["mcp.session.id"]).toBeTypeOf("string");
  expect(echo["jsonrpc.request.id"]).toBeTypeOf("string");
  expect(echo["error.type"]).toBeUndefined();
  expect(byName["tools/call echo"]!.status?.code ?? 0).toBe(0);

  expect(attrs(byName["tools/call fail"]!.attributes)["error.type"]).toBe("-32602");
  expect(byName["tools/call fail"]!.status?.code).toBe(2);
  expect(attrs(byName["tools/call refuse"]!.attributes)["error.type"]).toBe("tool_error");
  expect(byName["tools/call refuse"]!.status?.code).toBe(2);

  const points = await waitFor(() => durationPoints(rx.got).length >= 3 && durationPoints(rx.got), 20_000, "metrics");
  expect(points.map((p) => attrs(p.attributes)["gen_ai.tool.name"]).sort()).toEqual(["echo", "fail", "refuse"]);
  for (const p of points) expect(attrs(p.attributes)["mcp.session.id"]).toBeUndefined();
  expect(proxy.stderr()).not.toMatch(/OpenTelemetry export/);
});

it("names the HTTP transport and the MCP session of a proxy served over HTTP", async () => {
  const rx = await otlpReceiver();
  cleanups.push(() => new Promise((r) => rx.server.close(r)));
  const upstream: ChildServer = await startListening(fixtureCommand("--http", "0"));
  cleanups.push(() => upstream.stop());
  const proxy = await startHttpProxy([
    "--upstream-url",
    upstream.url,
    "--analytics",
    "no",
    "--sidecar-url",
    "http://127.0.0.1:9",
    "--outbox",
    join(tempDir(), "o.log"),
    "--otlp-endpoint",
    rx.url,
    "--name",
    "weather",
  ]);
  cleanups.push(() => proxy.stop());
  const { client, transport } = await connectHttp(proxy.url, newClient("http-client"));
  await client.callTool({ name: "echo", arguments: { text: "over http" } });
  await client.close();
  // SIGTERM: the proxy flushes its last spans on the way out.
  await proxy.stop();
  const spans = await waitFor(() => spansOf(rx.got).length >= 1 && spansOf(rx.got), 20_000, "the span");
  expect(spans.map((s) => s.name)).toEqual(["tools/call echo"]);
  const a = attrs(spans[0]!.attributes);
  expect(a["network.transport"]).toBe("tcp");
  expect(a["mcp.session.id"]).toBe(transport.sessionId);
  expect(
    attrs(rx.got.find((r) => r.path === "/v1/traces")!.body.resourceSpans![0]!.resource.attributes)["service.name"],
  ).toBe("weather");
});
