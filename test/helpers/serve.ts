/**
 * Start a real `patchworkmcp serve` child process on an ephemeral port with a
 * real SQLite file, for tests. Requires `npm run build` (the test script does it).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import Database from "better-sqlite3";
import { dirname, join, resolve } from "node:path";
import { isPostgresUrl, type SqlDb, sqliteDb } from "../../src/store/sql/db.js";
import { PgDb } from "../../src/store/sql/pg-db.js";
import { testBackend, testDatabaseSync } from "./postgres.js";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
export const CLI = join(REPO_ROOT, "dist/src/cli.js");

export function tempDir(prefix = "pwm-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A fresh database for a test, on the backend this run exercises (PATCHWORK_TEST_BACKEND):
 * a SQLite file in a new temporary directory, or a new database on the run's PostgreSQL server.
 */
export function testDbPath(prefix = "pwm-test-"): string {
  return testBackend() === "postgres" ? testDatabaseSync() : join(tempDir(prefix), "feedback.db");
}

/** True when this run exercises PostgreSQL (tests of SQLite's own file use it to skip). */
export const onPostgres = (): boolean => testBackend() === "postgres";

/** A child process that announced its URL on stderr. */
export interface ListeningProcess {
  url: string;
  proc: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM and wait for exit (resolves with the exit code). */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

/** Start a process and wait until it prints `listening on <url>` (or the pattern given) on stderr. */
export async function startListening(
  command: string[],
  options: { env?: NodeJS.ProcessEnv; pattern?: RegExp; cwd?: string } = {},
): Promise<ListeningProcess> {
  const [cmd, ...args] = command as [string, ...string[]];
  const proc = spawn(cmd, args, {
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  let err = "";
  proc.stderr!.setEncoding("utf8");
  proc.stderr!.on("data", (d: string) => {
    err += d;
  });
  proc.stdout!.resume();
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
  const pattern = options.pattern ?? /listening on (http:\/\/\S+)/;
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command.join(" ")} did not start:\n${err}`)), 30_000);
    const check = () => {
      const m = pattern.exec(err);
      if (m) {
        clearTimeout(timer);
        proc.stderr!.off("data", check);
        resolveUrl(m[1]!);
      }
    };
    proc.stderr!.on("data", check);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${command.join(" ")} exited with ${code}:\n${err}`));
    });
  });
  const running = () => proc.exitCode === null && proc.signalCode === null;
  return {
    url,
    proc,
    stderr: () => err,
    async stop() {
      if (running()) proc.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (running()) proc.kill("SIGKILL");
      await exited;
    },
  };
}

export interface ServeProcess extends ListeningProcess {
  port: number;
  dbPath: string;
  /** Where serve keeps its .env: beside a SQLite file, or (PostgreSQL) its working directory. */
  envDir: string;
}

export async function startServe(
  options: { dbPath?: string; args?: string[]; env?: Record<string, string>; envDir?: string } = {},
): Promise<ServeProcess> {
  const dbPath = options.dbPath ?? testDbPath();
  // With PostgreSQL the .env is in serve's working directory: a fresh one (or the one given), never the repository.
  const envDir = options.envDir ?? (isPostgresUrl(dbPath) ? tempDir("pwm-serve-cwd-") : dirname(dbPath));
  const child = await startListening(
    [process.execPath, CLI, "serve", "--port", "0", "--db", dbPath, ...(options.args ?? [])],
    {
      env: { ...process.env, FEEDBACK_API_KEY: "", ...options.env },
      cwd: envDir,
    },
  );
  return { ...child, port: Number(new URL(child.url).port), dbPath, envDir };
}

/** A raw connection to a test database on either backend, for checks below the store's API. */
export function openRawDb(location: string, options: { readonly?: boolean } = {}): SqlDb {
  if (isPostgresUrl(location)) return new PgDb(location);
  return sqliteDb(new Database(location, { readonly: options.readonly ?? false }));
}
