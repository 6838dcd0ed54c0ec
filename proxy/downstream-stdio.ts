/**
 * Downstream over stdio: the client speaks newline-delimited JSON-RPC on our
 * stdin/stdout. stdin EOF ends the proxy (and the upstream with it); the
 * upstream's exit answers every pending request with an error and ends the
 * proxy with a non-zero code.
 */
import { randomUUID } from "node:crypto";
import { getPriority, setPriority } from "node:os";
import { NICE_MAX } from "../src/net/thread-priority.js";
import { INVALID_REQUEST, PARSE_ERROR, errorFrame, parseLine, serialise } from "./jsonrpc.js";
import { idAtEnds } from "./line-sniff.js";
import { coalescingWriter } from "./coalesce.js";
import { MAX_LINE_BYTES, readLines } from "./line-reader.js";
import type { CallRecorder } from "./calls.js";
import type { Log } from "./log.js";
import type { Reporter } from "./reporter.js";
import { ProxySession, type SessionConfig } from "./session.js";
import type { UpstreamFactory } from "./upstream.js";

export interface StdioProxyOptions {
  makeUpstream: UpstreamFactory;
  config: SessionConfig;
  reporter: Reporter;
  log: Log;
  /** Troubleshooting details (`--debug`). */
  debug?: Log;
  /** Longest line taken from the client (default MAX_LINE_BYTES). */
  maxLineBytes?: number;
  /** Lower the proxy's own CPU priority by this much once upstream runs (0: leave it). */
  nice?: number;
  /** Records every upstream `tools/call`. */
  calls?: CallRecorder | undefined;
}

/**
 * Yield the CPU to the server. On a machine with few cores the proxy is a third
 * busy process next to client and server, and a proxy that wakes and preempts
 * the server costs more than one that waits for a free core. Relative, like
 * `nice -n`, and done after the upstream is spawned so that it keeps its own
 * priority. On Linux this lowers the main thread, the one that relays.
 */
function lowerPriority(by: number, log: Log): void {
  try {
    setPriority(Math.min(NICE_MAX, getPriority() + by));
  } catch (err) {
    log(`could not lower the proxy's priority (--nice ${by}): ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Resolves with the exit code once the proxy is done. */
export async function runStdioProxy(options: StdioProxyOptions): Promise<number> {
  const { log } = options;
  const maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES;
  const upstream = options.makeUpstream("upstream");
  const sessionId = `stdio-${randomUUID()}`;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));
  let ending = false;

  // Backpressure both ways: a server that stops reading pauses our stdin, a client that stops
  // reading pauses the server's stdout, so neither can make the proxy buffer without bound.
  const debug = options.debug ?? (() => undefined);
  const toStdout = coalescingWriter(process.stdout, (full) => {
    debug(
      full
        ? "the client is not reading: pausing the upstream's output"
        : "the client caught up: reading upstream again",
    );
    upstream.pauseReading?.(full);
  });
  upstream.onpressure = (full) => {
    debug(
      full
        ? "the upstream is not reading: pausing the client's input"
        : "the upstream caught up: reading the client again",
    );
    if (full) process.stdin.pause();
    else process.stdin.resume();
  };
  const write = (line: Buffer | string) => {
    if (process.stdout.writable) toStdout(line);
  };
  const session = new ProxySession({
    upstream,
    config: options.config,
    reporter: options.reporter,
    log,
    ...(options.debug ? { debug: options.debug } : {}),
    sessionId: () => sessionId,
    calls: options.calls,
    transport: "pipe",
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
  if (options.nice) lowerPriority(options.nice, log);
  readLines(
    process.stdin,
    (line) => {
      if (session.fastRequest(line)) return;
      const frames = parseLine(line);
      if (frames === undefined) {
        session.toClient(errorFrame(null, PARSE_ERROR, "Parse error: the line is not a JSON-RPC message."));
        return;
      }
      for (const frame of frames) session.fromDownstream(frame);
    },
    () => end(0),
    {
      maxLineBytes,
      onOversized: (line) => {
        const id = idAtEnds(line.head, line.tail)?.id ?? null;
        log(`the client sent a message of ${line.bytes} bytes, over --max-message-bytes (${maxLineBytes}); dropped it`);
        const why = `Invalid request: the message was ${line.bytes} bytes, more than the proxy passes on (--max-message-bytes ${maxLineBytes}).`;
        session.toClient(errorFrame(id, INVALID_REQUEST, why));
      },
    },
  );
  return finished;
}
