/**
 * Running `patchworkmcp proxy` once its settings are checked: the reporter,
 * the upstream factory and the stdio or HTTP downstream. The HTTP pieces
 * (express, the SDK's transports) are loaded only when the settings ask for them.
 */
import type { CallAnalytics } from "./analytics.js";
import { type CallSink, CallRecorder } from "./calls.js";
import { runStdioProxy } from "./downstream-stdio.js";
import { debugLog, stderrLog } from "./log.js";
import type { ProxySettings } from "./options.js";
import type { OtelSink } from "./otel.js";
import { Outbox } from "./outbox.js";
import { Reporter, databaseDeliverer, sidecarDeliverer } from "./reporter.js";
import type { SessionConfig } from "./session.js";
import type { UpstreamFactory } from "./upstream.js";
import { StdioUpstream } from "./upstream-stdio.js";

async function upstreamFactory(s: ProxySettings): Promise<UpstreamFactory> {
  if (s.upstreamUrl !== undefined) {
    const url = new URL(s.upstreamUrl);
    const { HttpUpstream } = await import("./upstream-http.js");
    return (label) => new HttpUpstream({ url, headers: s.headers, label, log: stderrLog });
  }
  const [cmd, ...args] = s.command as [string, ...string[]];
  return (label) =>
    new StdioUpstream({ command: cmd, args, cwd: s.cwd, label, log: stderrLog, maxLineBytes: s.maxMessageBytes });
}

/**
 * The recorder every session hands its finished tool calls to, and its sinks: the
 * analytics buffer that sends them (when --analytics is on) and the OpenTelemetry
 * export (with --otlp-endpoint). The OpenTelemetry SDK is loaded only when asked for.
 */
async function callRecording(
  s: ProxySettings,
): Promise<{ calls?: CallRecorder; analytics?: CallAnalytics | undefined; otel?: OtelSink | undefined }> {
  const analytics = s.analytics ? await analyticsBuffer(s) : undefined;
  const otel =
    s.otlpEndpoint === undefined
      ? undefined
      : (await import("./otel.js")).createLazyOtelSink({
          endpoint: s.otlpEndpoint,
          headers: s.otlpHeaders,
          serviceName: s.name,
        });
  const sinks: CallSink[] = [];
  if (analytics) sinks.push(analytics.sink);
  if (otel) sinks.push((event, context) => otel.record(event, context));
  if (sinks.length === 0) return {};
  return { calls: new CallRecorder({ sinks, recordArguments: s.recordArguments, log: stderrLog }), analytics, otel };
}

async function analyticsBuffer(s: ProxySettings): Promise<CallAnalytics> {
  const [{ CallAnalytics, argumentsScrubber, databaseCallsDeliverer, sidecarCallsDeliverer }, { CallSpill }] =
    await Promise.all([import("./analytics.js"), import("./analytics-spill.js")]);
  const db = s.analyticsUrl === undefined ? s.db : undefined;
  const analytics = new CallAnalytics({
    deliverer:
      db !== undefined ? databaseCallsDeliverer(db) : sidecarCallsDeliverer(s.analyticsUrl ?? s.sidecarUrl, s.apiKey),
    // Arguments leave the process scrubbed with --privacy; --db scrubs them for the file's own modes.
    scrubArguments: s.recordArguments && db === undefined ? await argumentsScrubber(s.privacy) : undefined,
    spill: new CallSpill(s.analyticsSpill, stderrLog),
    log: stderrLog,
    debug: debugLog(s.debug),
    capacity: s.analyticsBuffer,
    // Off the request path, so a slow sidecar can take longer than a report may: a batch that times
    // out after it was sent is kept and may be counted twice, so fewer timeouts mean fewer doubles.
    timeoutMs: Math.max(s.deliveryTimeout, ANALYTICS_TIMEOUT_MS),
    stopTimeoutMs: s.deliveryTimeout,
  });
  return analytics;
}

const ANALYTICS_TIMEOUT_MS = 10_000;

/** Run until done; resolves with the exit code (HTTP mode runs until a signal). */
export async function runProxy(s: ProxySettings): Promise<number> {
  const deliverer = s.db !== undefined ? databaseDeliverer(s.db) : sidecarDeliverer(s.sidecarUrl, s.apiKey);
  const reporter = new Reporter({
    deliverer,
    outbox: new Outbox(s.outbox),
    log: stderrLog,
    timeoutMs: s.deliveryTimeout,
    privacy: s.privacy,
  });
  reporter.start();
  const config: SessionConfig = {
    toolName: s.toolName,
    collisionToolName: s.collisionToolName,
    serverName: s.name,
    missingToolReports: s.missingToolReports,
    recordArguments: s.recordArguments,
    learned: {},
    ownRequestTimeoutMs: s.probeTimeout,
  };
  const makeUpstream = await upstreamFactory(s);
  const { calls, analytics, otel } = await callRecording(s);
  analytics?.start();
  const stopAnalytics = async () => {
    await Promise.all([analytics?.stop(), otel?.shutdown()]);
  };
  if (s.listen === undefined) {
    const code = await runStdioProxy({
      makeUpstream,
      config,
      reporter,
      log: stderrLog,
      debug: debugLog(s.debug),
      maxLineBytes: s.maxMessageBytes,
      nice: s.nice,
      calls,
    });
    await Promise.all([reporter.drain(s.deliveryTimeout + 2000), stopAnalytics()]);
    reporter.stop();
    return code;
  }
  const { startHttpProxy } = await import("./downstream-http.js");
  const running = await startHttpProxy({
    host: s.listen.host,
    port: s.listen.port,
    makeUpstream,
    config,
    reporter,
    log: stderrLog,
    debug: debugLog(s.debug),
    apiKey: s.listenKey,
    allowedHosts: s.allowedHosts,
    allowedOrigins: s.allowedOrigins,
    idleTimeoutMs: s.sessionIdleTimeout * 1000,
    ssePollAfterMs: s.ssePollAfter,
    calls,
  });
  stderrLog(`listening on ${running.url}`);
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => resolve());
  });
  stderrLog("stopping: closing every session");
  await running.close();
  await Promise.all([reporter.drain(s.deliveryTimeout + 2000), stopAnalytics()]);
  reporter.stop();
  return 0;
}
