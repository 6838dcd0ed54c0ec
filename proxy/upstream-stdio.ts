/**
 * A stdio upstream: the server runs as a child process in its own process
 * group. Lines on its stdout are the protocol (anything that is not JSON-RPC is
 * diverted to stderr: noisy servers would otherwise corrupt the client's
 * stream), its stderr is relayed with a prefix, and closing kills the whole
 * group so wrappers like `npx` leave no grandchildren behind.
 */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from "node:child_process";
import { Socket } from "node:net";
import { parseLine, serialise, type Frame } from "./jsonrpc.js";
import { coalescingWriter, type LineWriter } from "./coalesce.js";
import { lineContent, readLines, type OversizedLine } from "./line-reader.js";
import type { Log } from "./log.js";
import type { UpstreamClosed, UpstreamLink } from "./upstream.js";

/** Windows has no process groups to signal; there the child alone is killed. */
const GROUPS = process.platform !== "win32";

/**
 * Ends the upstream's process group should the proxy die without closing it
 * (SIGKILL, a crash): a shell blocked reading a pipe that only the proxy holds
 * open. The kernel closes the pipe when the proxy dies, however it dies, and
 * the shell then signals the group. Many servers (the SDK's among them) do not
 * exit when their stdin closes, so the closed stdin alone would leave them running.
 */
const WATCHDOG = 'read -r _; kill -TERM -"$1" 2>/dev/null; sleep 2; kill -KILL -"$1" 2>/dev/null';

function startWatchdog(pgid: number): ChildProcess | undefined {
  if (!GROUPS) return undefined;
  const watchdog = spawn("/bin/sh", ["-c", WATCHDOG, "patchworkmcp-proxy-watchdog", String(pgid)], {
    stdio: ["pipe", "ignore", "ignore"],
    detached: true,
  });
  watchdog.on("error", () => undefined);
  watchdog.stdin?.on("error", () => undefined);
  // Neither the shell nor its pipe may keep the proxy's event loop alive.
  watchdog.unref();
  if (watchdog.stdin instanceof Socket) watchdog.stdin.unref();
  return watchdog;
}

export interface StdioUpstreamOptions {
  command: string;
  args: string[];
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Prefix for relayed stderr lines. */
  label: string;
  log: Log;
  /** Longest line taken from the server's stdout (default MAX_LINE_BYTES). */
  maxLineBytes?: number;
  /** How long to wait after SIGTERM before SIGKILL, in ms. */
  killGraceMs?: number;
  /** How long a server may take to exit by itself once its stdin is closed, in ms. */
  stdinGraceMs?: number;
}

export class StdioUpstream implements UpstreamLink {
  onmessage?: (frame: Frame) => void;
  onrawline?: (line: Buffer) => boolean;
  onclose?: (info: UpstreamClosed) => void;
  onpressure?: (full: boolean) => void;
  ontoolong?: (line: OversizedLine) => void;
  private child?: ChildProcessWithoutNullStreams;
  private watchdog?: ChildProcess;
  private write?: LineWriter;
  private exited?: Promise<void>;
  private closedInfo?: UpstreamClosed;
  private stopping = false;

  constructor(private readonly options: StdioUpstreamOptions) {}

  async start(): Promise<void> {
    const { command, args, cwd, env, label, log } = this.options;
    // Its own process group (POSIX), so the whole tree can be signalled at once.
    const child = spawn(command, args, {
      cwd,
      env: env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"],
      detached: GROUPS,
    });
    this.child = child;
    this.write = coalescingWriter(child.stdin, (full) => this.onpressure?.(full));
    let stdoutEnd!: () => void;
    const stdoutEnded = new Promise<void>((resolve) => (stdoutEnd = resolve));
    this.exited = new Promise((resolve) => {
      let done = false;
      const finish = (info: UpstreamClosed) => {
        if (done) return;
        done = true;
        this.closedInfo = info;
        resolve();
        this.onclose?.(info);
      };
      child.once("error", (err) => {
        finish({ reason: `the upstream command "${command}" could not be started: ${err.message}`, exitCode: null });
      });
      child.once("exit", (code, signal) => {
        const how = code !== null ? `exit code ${code}` : `signal ${signal ?? "unknown"}`;
        // Grandchildren (npx → node) may outlive the direct child: end the group too.
        this.signalGroup("SIGTERM");
        this.watchdog?.kill("SIGKILL");
        // 'exit' can overtake the last lines still in the stdout pipe: read them
        // first, so an answer written just before exiting is not turned into an error.
        const timer = setTimeout(
          () => finish({ reason: `the upstream MCP server exited (${how})`, exitCode: code }),
          1000,
        );
        void stdoutEnded.then(() => {
          clearTimeout(timer);
          finish({ reason: `the upstream MCP server exited (${how})`, exitCode: code });
        });
      });
    });
    child.stdin.on("error", () => {
      // EPIPE after the child died: the exit handler reports it.
    });
    readLines(
      child.stdout,
      (line) => {
        if (this.onrawline?.(line)) return;
        const frames = parseLine(line);
        if (frames === undefined) {
          log(
            `${label} wrote a non-JSON-RPC line to stdout (not forwarded): ${lineContent(line).subarray(0, 200).toString()}`,
          );
          return;
        }
        for (const frame of frames) this.onmessage?.(frame);
      },
      () => stdoutEnd(),
      { maxLineBytes: this.options.maxLineBytes, onOversized: (line) => this.ontoolong?.(line) },
    );
    readLines(
      child.stderr,
      (line) => process.stderr.write(`[${label}] ${lineContent(line).toString()}\n`),
      () => undefined,
    );
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    if (child.pid !== undefined && child.exitCode === null) this.watchdog = startWatchdog(child.pid);
  }

  send(frame: Frame): void {
    this.sendRaw(serialise(frame));
  }

  sendRaw(line: Buffer | string): void {
    const child = this.child;
    if (!child || this.closedInfo || !child.stdin.writable) {
      throw new Error(this.closedInfo?.reason ?? "the upstream MCP server is not running");
    }
    this.write!(line);
  }

  pauseReading(paused: boolean): void {
    if (paused) this.child?.stdout.pause();
    else this.child?.stdout.resume();
  }

  setProtocolVersion(): void {
    // stdio carries no version header.
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child || this.stopping) return this.exited;
    this.stopping = true;
    if (!this.closedInfo) {
      // The MCP stdio shutdown order: close stdin and give the server a moment to finish and exit,
      // then SIGTERM the whole group (the child if it is still there, and anything it started),
      // then SIGKILL.
      child.stdin.end();
      const exited = this.exited ?? Promise.resolve();
      const onItsOwn = await Promise.race([
        exited.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), this.options.stdinGraceMs ?? 1000).unref()),
      ]);
      this.signalGroup("SIGTERM");
      if (!onItsOwn) {
        const timer = setTimeout(() => this.signalGroup("SIGKILL"), this.options.killGraceMs ?? 2000);
        await exited;
        clearTimeout(timer);
      }
    }
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      if (GROUPS) process.kill(-pid, signal);
      else this.child?.kill(signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }
}
