/**
 * Start a real `patchworkmcp serve` child process on an ephemeral port with a
 * real SQLite file, for tests. Requires `npm run build` (the test script does it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const CLI = join(REPO_ROOT, "dist/src/cli.js");

export function tempDir(prefix = "pwm-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface ServeProcess {
  url: string;
  port: number;
  dbPath: string;
  proc: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

export async function startServe(options: { dbPath?: string; args?: string[]; env?: Record<string, string> } = {}): Promise<ServeProcess> {
  const dbPath = options.dbPath ?? join(tempDir(), "feedback.db");
  const proc = spawn(process.execPath, [CLI, "serve", "--port", "0", "--db", dbPath, ...(options.args ?? [])], {
    env: { ...process.env, FEEDBACK_API_KEY: "", ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  proc.stderr!.setEncoding("utf8");
  proc.stderr!.on("data", (d: string) => {
    err += d;
  });
  proc.stdout!.resume();
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${err}`)), 30_000);
    const onData = () => {
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        proc.stderr!.off("data", onData);
        resolveUrl(m[1]!);
      }
    };
    proc.stderr!.on("data", onData);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${err}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    dbPath,
    proc,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
      await exited;
    },
  };
}
