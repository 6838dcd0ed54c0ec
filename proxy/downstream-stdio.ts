/**
 * Downstream over stdio: the client speaks newline-delimited JSON-RPC on our
 * stdin/stdout. stdin EOF ends the proxy (and the upstream with it); the
 * upstream's exit answers every pending request with an error and ends the
 * proxy with a non-zero code.
 */
import { randomUUID } from "node:crypto";
import { PARSE_ERROR, errorFrame, parseLine, serialise } from "./jsonrpc.js";
import { coalescingWriter } from "./coalesce.js";
import { readLines } from "./line-reader.js";
import type { Log } from "./log.js";
import type { Reporter } from "./reporter.js";
import { ProxySession, type SessionConfig } from "./session.js";
import type { UpstreamFactory } from "./upstream.js";

export interface StdioProxyOptions {
  makeUpstream: UpstreamFactory;
  config: SessionConfig;
  reporter: Reporter;
  log: Log;
}

/** Resolves with the exit code once the proxy is done. */
export async function runStdioProxy(options: StdioProxyOptions): Promise<number> {
  const { log } = options;
  const upstream = options.makeUpstream("upstream");
  const sessionId = `stdio-${randomUUID()}`;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let ending = false;

  const toStdout = coalescingWriter(process.stdout);
  const write = (line: Buffer | string) => {
    if (process.stdout.writable) toStdout(line);
  };
  const session = new ProxySession({
    upstream,
    config: options.config,
    reporter: options.reporter,
    log,
    sessionId: () => sessionId,
    downstream: { send: (frame) => write(serialise(frame)), sendRaw: write },
    onUpstreamClosed: (info) => {
      if (!ending) log(`${info.reason}; stopping`);
      end(info.exitCode !== undefined && info.exitCode !== null && info.exitCode > 0 ? info.exitCode : 1);
    },
  });

  const end = (code: number) => {
    if (ending) return;
    ending = true;
    void upstream.close().finally(() => {
      // Let what is queued for stdout drain before the exit code is set.
      process.stdout.write("", () => finish(code));
    });
  };

  process.stdout.on("error", () => end(0));
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, () => end(0));

  try {
    await upstream.start();
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
    return 1;
  }
  readLines(
    process.stdin,
    (line) => {
      const frames = parseLine(line);
      if (frames === undefined) {
        write(serialise(errorFrame(null, PARSE_ERROR, "Parse error: the line is not a JSON-RPC message.")));
        return;
      }
      for (const frame of frames) session.fromDownstream(frame);
    },
    () => end(0),
  );
  return finished;
}
