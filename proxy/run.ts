/**
 * Running `patchworkmcp proxy` once its settings are checked: the reporter,
 * the upstream factory and the stdio or HTTP downstream. The HTTP pieces
 * (express, the SDK's transports) are loaded only when the settings ask for them.
 */
import { runStdioProxy } from "./downstream-stdio.js";
import { debugLog, stderrLog } from "./log.js";
import type { ProxySettings } from "./options.js";
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

/** Run until done; resolves with the exit code (HTTP mode runs until a signal). */
export async function runProxy(s: ProxySettings): Promise<number> {
  const deliverer = s.db !== undefined ? databaseDeliverer(s.db) : sidecarDeliverer(s.sidecarUrl, s.apiKey);
  const reporter = new Reporter({
    deliverer,
    outbox: new Outbox(s.outbox),
    log: stderrLog,
    timeoutMs: s.deliveryTimeout,
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
  if (s.listen === undefined) {
    const code = await runStdioProxy({
      makeUpstream,
      config,
      reporter,
      log: stderrLog,
      debug: debugLog(s.debug),
      maxLineBytes: s.maxMessageBytes,
      nice: s.nice,
    });
    await reporter.drain(s.deliveryTimeout + 2000);
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
  });
  stderrLog(`listening on ${running.url}`);
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => resolve());
  });
  stderrLog("stopping: closing every session");
  await running.close();
  await reporter.drain(s.deliveryTimeout + 2000);
  reporter.stop();
  return 0;
}
