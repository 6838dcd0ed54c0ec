/** The proxy's flag parsing: typed settings, or sentences naming what is wrong. */
import { describe, expect, it } from "vitest";
import { parseProxySettings } from "../../proxy/options.js";

const base = { sidecarUrl: "http://localhost:8099", command: ["node", "server.js"] };

describe("proxy settings", () => {
  it("reads a stdio upstream with defaults", () => {
    const r = parseProxySettings(base);
    expect(r).toMatchObject({ ok: true, settings: { command: ["node", "server.js"], toolName: "feedback", collisionToolName: "patchworkmcp_feedback", missingToolReports: true, deliveryTimeout: 3000, sessionIdleTimeout: 1800, headers: {} } });
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
    expect(errors({ sidecarUrl: base.sidecarUrl })).toEqual(["name the upstream: `patchworkmcp proxy -- <command> [args…]` or `--upstream-url <url>`"]);
    expect(errors({ ...base, upstreamUrl: "http://x/mcp" })).toEqual(["give either an upstream command or --upstream-url, not both"]);
    expect(errors({ ...base, listen: "localhost:99999" })).toEqual(['--listen "localhost:99999" is not HOST:PORT (e.g. 127.0.0.1:8100)']);
    expect(errors({ ...base, upstreamHeader: ["no colon"] })).toEqual(['"no colon" is not a header: use Name: value']);
    expect(errors({ ...base, toolName: "report", collisionToolName: "report" })).toEqual(["--tool-name and --collision-tool-name must differ"]);
    expect(errors({ ...base, toolName: "has space" })).toEqual(["tool names are 1-64 letters, digits, '_', '-' or '.'"]);
    expect(errors({ ...base, upstreamHeaders: "{not json" })).toEqual(["FEEDBACK_PROXY_UPSTREAM_HEADERS must be a JSON object of strings"]);
    expect(errors({ ...base, sidecarUrl: "ftp://x" })).toEqual(["--sidecar-url must be an http(s) URL"]);
    expect(errors({ ...base, deliveryTimeout: "soon" })).toEqual(["--delivery-timeout must be a number of milliseconds"]);
  });
});
