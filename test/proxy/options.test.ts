/** The proxy's flag parsing: typed settings, or sentences naming what is wrong. */
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerProxy } from "../../proxy/command.js";
import { parseProxySettings } from "../../proxy/options.js";

/** The options commander hands the proxy for these argv and env, without running it. */
async function flagsFor(argv: string[], env: Record<string, string>): Promise<Record<string, unknown>> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const program = new Command().exitOverride();
    registerProxy(program);
    let seen: Record<string, unknown> = {};
    program.commands[0]!.action((command: string[], opts: Record<string, unknown>) => {
      seen = { ...opts, command };
    });
    await program.parseAsync(["proxy", ...argv], { from: "user" });
    return seen;
  } finally {
    process.env = saved;
  }
}

const base = { sidecarUrl: "http://localhost:8099", command: ["node", "server.js"] };

describe("proxy settings", () => {
  it("reads a stdio upstream with defaults", () => {
    const r = parseProxySettings(base);
    expect(r).toMatchObject({
      ok: true,
      settings: {
        command: ["node", "server.js"],
        toolName: "feedback",
        collisionToolName: "patchworkmcp_feedback",
        missingToolReports: true,
        deliveryTimeout: 3000,
        sessionIdleTimeout: 1800,
        maxMessageBytes: 128 * 1024 * 1024,
        nice: 5,
        ssePollAfter: 0,
        privacy: "secrets+pii",
        headers: {},
      },
    });
  });

  it("reads --listen forms and headers from flags and the env var", () => {
    const r = parseProxySettings({
      sidecarUrl: base.sidecarUrl,
      upstreamUrl: "https://example.com/mcp",
      listen: "[::1]:8100",
      upstreamHeader: ["Authorization: Bearer abc", "X-Trace:1"],
      upstreamHeaders: '{"X-Env":"yes","X-Trace":"0"}',
    });
    expect(r.ok && r.settings.listen).toEqual({ host: "::1", port: 8100 });
    expect(r.ok && r.settings.headers).toEqual({ "X-Env": "yes", "X-Trace": "1", Authorization: "Bearer abc" });
    const lines = parseProxySettings({ ...base, listen: "9000", upstreamHeaders: "A: 1\nB: two words" });
    expect(lines.ok && lines.settings.listen).toEqual({ host: "127.0.0.1", port: 9000 });
    expect(lines.ok && lines.settings.headers).toEqual({ A: "1", B: "two words" });
  });

  it("says what is wrong", () => {
    const errors = (raw: Record<string, unknown>) => {
      const r = parseProxySettings(raw);
      return r.ok ? [] : r.errors;
    };
    expect(errors({ sidecarUrl: base.sidecarUrl })).toEqual([
      "name the upstream: `patchworkmcp proxy -- <command> [args…]` or `--upstream-url <url>`",
    ]);
    expect(errors({ ...base, upstreamUrl: "http://x/mcp" })).toEqual([
      "give either an upstream command or --upstream-url, not both",
    ]);
    expect(errors({ ...base, otlpEndpoint: "grpc://collector:4317" })).toEqual([
      "--otlp-endpoint must be an http(s) URL",
    ]);
    expect(errors({ ...base, otlpHeaders: "api-key" })).toEqual([
      '--otlp-headers must be name=value pairs separated by commas: "api-key" is not one',
    ]);
    const otlp = parseProxySettings({ ...base, otlpEndpoint: "http://c:4318", otlpHeaders: "a=1,b=x%20y" });
    expect(otlp.ok && [otlp.settings.otlpEndpoint, otlp.settings.otlpHeaders]).toEqual([
      "http://c:4318",
      { a: "1", b: "x y" },
    ]);
    expect(errors({ ...base, listen: "localhost:99999" })).toEqual([
      '--listen "localhost:99999" is not HOST:PORT (e.g. 127.0.0.1:8100)',
    ]);
    expect(errors({ ...base, upstreamHeader: ["no colon"] })).toEqual(['"no colon" is not a header: use Name: value']);
    expect(errors({ ...base, toolName: "report", collisionToolName: "report" })).toEqual([
      "--tool-name and --collision-tool-name must differ",
    ]);
    expect(errors({ ...base, toolName: "has space" })).toEqual([
      "tool names are 1-64 letters, digits, '_', '-' or '.'",
    ]);
    expect(errors({ ...base, upstreamHeaders: "{not json" })).toEqual([
      "FEEDBACK_PROXY_UPSTREAM_HEADERS must be a JSON object of strings",
    ]);
    expect(errors({ ...base, sidecarUrl: "ftp://x" })).toEqual(["--sidecar-url must be an http(s) URL"]);
    expect(errors({ ...base, deliveryTimeout: "soon" })).toEqual([
      "--delivery-timeout must be a number of milliseconds",
    ]);
    for (const nice of ["-1", "20", "2.5", "low"])
      expect(errors({ ...base, nice })).toEqual(["--nice must be a whole number from 0 to 19"]);
    expect(errors({ ...base, probeTimeout: "0" })).toEqual([
      "--probe-timeout must be a positive number of milliseconds",
    ]);
    expect(errors({ ...base, probeTimeout: "soon" })).toEqual(["--probe-timeout must be a number of milliseconds"]);
    expect(errors({ ...base, ssePollAfter: "-1" })).toEqual([
      "--sse-poll-after must be 0 (off) or a positive number of milliseconds",
    ]);
    expect(errors({ ...base, ssePollAfter: "1.5" })).toEqual([
      "--sse-poll-after must be a whole number of milliseconds",
    ]);
    expect(errors({ ...base, privacy: "all" })).toEqual(["--privacy must be one of: off, secrets, secrets+pii"]);
    expect(parseProxySettings({ ...base, ssePollAfter: "30000" })).toMatchObject({
      ok: true,
      settings: { ssePollAfter: 30000 },
    });
  });

  it("takes every flag from its environment variable", async () => {
    const flags = await flagsFor(["--", "node", "server.js"], {
      FEEDBACK_PROXY_UPSTREAM_URL: "http://u/mcp",
      FEEDBACK_PROXY_UPSTREAM_HEADERS: "A: 1",
      FEEDBACK_PROXY_CWD: "/srv",
      FEEDBACK_PROXY_LISTEN: "127.0.0.1:9",
      FEEDBACK_PROXY_LISTEN_KEY: "k",
      FEEDBACK_PROXY_ALLOWED_HOSTS: "a.test, b.test",
      FEEDBACK_PROXY_ALLOWED_ORIGINS: "http://a.test",
      FEEDBACK_PROXY_SESSION_IDLE_TIMEOUT: "60",
      FEEDBACK_PROXY_NAME: "memory",
      FEEDBACK_PROXY_TOOL_NAME: "gap",
      FEEDBACK_PROXY_COLLISION_TOOL_NAME: "gap2",
      FEEDBACK_SIDECAR_URL: "http://s:1",
      FEEDBACK_API_KEY: "key",
      FEEDBACK_PROXY_DB: "/tmp/x.db",
      FEEDBACK_OUTBOX: "/tmp/outbox",
      FEEDBACK_PROXY_MISSING_TOOL_REPORTS: "0",
      FEEDBACK_PROXY_DELIVERY_TIMEOUT_MS: "500",
      FEEDBACK_PROXY_MAX_MESSAGE_BYTES: "1048576",
      FEEDBACK_PROXY_NICE: "0",
      FEEDBACK_PROXY_PROBE_TIMEOUT_MS: "250",
      FEEDBACK_PROXY_SSE_POLL_AFTER_MS: "45000",
      FEEDBACK_PROXY_DEBUG: "yes",
      FEEDBACK_ANALYTICS: "no",
      FEEDBACK_ANALYTICS_URL: "http://a:2",
      FEEDBACK_RECORD_ARGUMENTS: "yes",
      FEEDBACK_PRIVACY: "secrets",
      FEEDBACK_ANALYTICS_BUFFER: "50",
      FEEDBACK_ANALYTICS_SPILL: "/tmp/spill.json",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://otel:4318",
      OTEL_EXPORTER_OTLP_HEADERS: "api-key=abc",
    });
    expect(flags).toEqual({
      command: ["node", "server.js"],
      upstreamUrl: "http://u/mcp",
      upstreamHeaders: "A: 1",
      cwd: "/srv",
      listen: "127.0.0.1:9",
      listenKey: "k",
      allowedHosts: ["a.test", "b.test"],
      allowedOrigins: ["http://a.test"],
      sessionIdleTimeout: "60",
      name: "memory",
      toolName: "gap",
      collisionToolName: "gap2",
      sidecarUrl: "http://s:1",
      apiKey: "key",
      db: "/tmp/x.db",
      outbox: "/tmp/outbox",
      missingToolReports: false,
      deliveryTimeout: "500",
      maxMessageBytes: "1048576",
      nice: "0",
      probeTimeout: "250",
      ssePollAfter: "45000",
      debug: true,
      analytics: false,
      analyticsUrl: "http://a:2",
      recordArguments: true,
      privacy: "secrets",
      analyticsBuffer: "50",
      analyticsSpill: "/tmp/spill.json",
      otlpEndpoint: "http://otel:4318",
      otlpHeaders: "api-key=abc",
    });
    const defaults = await flagsFor(["--upstream-header", "A: 1", "--upstream-header", "B: 2", "--", "x"], {});
    expect(defaults).toMatchObject({
      upstreamHeader: ["A: 1", "B: 2"],
      missingToolReports: true,
      toolName: "feedback",
      debug: false,
      probeTimeout: "10000",
      ssePollAfter: "0",
      recordArguments: false,
      privacy: "secrets+pii",
      analyticsBuffer: "10000",
    });
    expect(await flagsFor(["--no-missing-tool-reports", "--", "x"], {})).toMatchObject({ missingToolReports: false });
    expect(await flagsFor(["--missing-tool-reports", "no", "--", "x"], {})).toMatchObject({
      missingToolReports: false,
    });
    expect(await flagsFor(["--", "x"], { FEEDBACK_PROXY_MISSING_TOOL_REPORTS: "yes" })).toMatchObject({
      missingToolReports: true,
    });
  });

  it("analytics: on by default, the spill beside the outbox, the buffer checked", () => {
    const r = parseProxySettings({ ...base, outbox: "/var/pwm/outbox.log" });
    expect(r.ok && r.settings).toMatchObject({
      analytics: true,
      recordArguments: false,
      analyticsBuffer: 10_000,
      analyticsSpill: "/var/pwm/calls-spill.json",
    });
    const off = parseProxySettings({ ...base, analytics: false, analyticsSpill: "/tmp/s.json", analyticsBuffer: "5" });
    expect(off.ok && off.settings).toMatchObject({
      analytics: false,
      analyticsSpill: "/tmp/s.json",
      analyticsBuffer: 5,
    });
    expect(parseProxySettings({ ...base, analyticsBuffer: "0" })).toEqual({
      ok: false,
      errors: ["--analytics-buffer must be at least 1 event"],
    });
    expect(parseProxySettings({ ...base, analyticsBuffer: "lots" })).toEqual({
      ok: false,
      errors: ["--analytics-buffer must be a number of events"],
    });
    expect(parseProxySettings({ ...base, analyticsUrl: "ftp://x" })).toEqual({
      ok: false,
      errors: ["--analytics-url must be an http(s) URL"],
    });
  });
});
