/**
 * A real, throwaway PostgreSQL server for tests: initdb into a fresh temporary data
 * directory, listen on 127.0.0.1 only (an ephemeral port) with the unix socket inside
 * that directory, run as a non-root user (`postgres` through runuser when the tests run
 * as root), fast shutdown and removal of the directory at stop.
 *
 * The binaries come from Debian's packages (scripts/setup/40-postgresql.sh).
 * The whole run shares one server started by test/helpers/postgres-global.ts when
 * PATCHWORK_TEST_BACKEND=postgres; test files get a fresh database on it from
 * testDatabase().
 */
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { inject } from "vitest";

/** The role initdb creates; every connection uses it (trust authentication, loopback only). */
export const PG_USER = "patchwork";
/** The system user the server runs as when the tests run as root (created by Debian's package). */
export const PG_SYSTEM_USER = "postgres";
/** `sqlite` (default) or `postgres`: which store backend the run exercises. */
export const BACKEND_ENV = "PATCHWORK_TEST_BACKEND";
/** Base URL of the shared server (no database name), set by the global setup. */
export const PG_URL_ENV = "PATCHWORK_TEST_PG_URL";
export const SETUP_SCRIPT = "scripts/setup/40-postgresql.sh";

/** Where Debian's packages put each major version's server binaries. */
const DEBIAN_PG_ROOT = "/usr/lib/postgresql";
const REQUIRED_BINARIES = ["initdb", "pg_ctl", "postgres", "psql", "pg_isready"] as const;

/** An error a test helper raises, with a stable code. */
export class PgHarnessError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "PgHarnessError";
  }
}

function hasAll(dir: string): boolean {
  return REQUIRED_BINARIES.every((b) => {
    try {
      accessSync(join(dir, b), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Numeric version order of Debian's /usr/lib/postgresql/<v> directories ("9.6" < "15" < "16"). */
function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The PostgreSQL server bin directory, or undefined when none is installed. */
export function locatePgBin(root = DEBIAN_PG_ROOT, path = process.env.PATH ?? ""): string | undefined {
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((v) => /^\d+(\.\d+)*$/.test(v));
  } catch {
    // No Debian layout: fall through to PATH.
  }
  for (const v of versions.sort(compareVersions).reverse()) {
    const dir = join(root, v, "bin");
    if (hasAll(dir)) return dir;
  }
  return path
    .split(delimiter)
    .filter(Boolean)
    .find((dir) => hasAll(dir));
}

/** The PostgreSQL server bin directory (newest under /usr/lib/postgresql, else from PATH). */
export function findPgBin(root = DEBIAN_PG_ROOT, path?: string): string {
  const bin = locatePgBin(root, path);
  if (!bin) {
    throw new PgHarnessError(
      "PG_NOT_INSTALLED",
      `no PostgreSQL server binaries (${REQUIRED_BINARIES.join(", ")}) in ${root}/*/bin or on PATH; run ${SETUP_SCRIPT} to install them`,
    );
  }
  return bin;
}

/** True when apt-get exists, i.e. the setup script could install PostgreSQL here. */
export function aptAvailable(): boolean {
  return spawnSync("sh", ["-c", "command -v apt-get"], { stdio: "ignore" }).status === 0;
}

export interface PostgresServer {
  /** The loopback port the server listens on. */
  readonly port: number;
  /** The temporary directory holding the data directory, socket and log; removed by stop(). */
  readonly dir: string;
  readonly dataDir: string;
  /** `postgres://patchwork@127.0.0.1:PORT` (no database name). */
  readonly baseUrl: string;
  /** The URL of one database on this server. */
  url(dbName: string): string;
  /** CREATE DATABASE t_<random>; resolves with its URL. */
  createDatabase(): Promise<string>;
  /** Fast shutdown, then remove the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
}

const isRoot = () => process.getuid?.() === 0;

/** The command line that runs a server binary as the non-root user. */
function asServerUser(bin: string, args: string[]): [string, string[]] {
  return isRoot() ? ["runuser", ["-u", PG_SYSTEM_USER, "--", bin, ...args]] : [bin, args];
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: timeoutMs, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout, stderr: stderr || (err && code === null ? String(err) : "") });
    });
  });
}

/** A port nobody listens on right now (the kernel picks one for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === "object" ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function systemUserIds(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

function readLog(path: string): string {
  try {
    return tail(readFileSync(path, "utf8"));
  } catch {
    return "(no log)";
  }
}

/** Start a fresh server; the caller stops it. */
export async function startPostgres(options: { maxConnections?: number } = {}): Promise<PostgresServer> {
  const bin = findPgBin();
  const dir = mkdtempSync(join(tmpdir(), "pwm-pg-"));
  const dataDir = join(dir, "data");
  const logFile = join(dir, "server.log");
  const owner = isRoot() ? systemUserIds(PG_SYSTEM_USER) : undefined;
  const cleanupDir = () => rmSync(dir, { recursive: true, force: true });
  if (isRoot()) {
    if (!owner) {
      cleanupDir();
      throw new PgHarnessError(
        "PG_NO_SYSTEM_USER",
        `the tests run as root, and PostgreSQL refuses to; the "${PG_SYSTEM_USER}" system user it would run as does not exist (Debian's postgresql package creates it: run ${SETUP_SCRIPT})`,
      );
    }
    chownSync(dir, owner.uid, owner.gid);
  }
  const pgCtl = (args: string[], timeoutMs?: number) => {
    const [cmd, argv] = asServerUser(join(bin, "pg_ctl"), ["-D", dataDir, ...args]);
    return run(cmd, argv, dir, timeoutMs);
  };

  const [initCmd, initArgs] = asServerUser(join(bin, "initdb"), [
    "-D",
    dataDir,
    "-A",
    "trust",
    "-U",
    PG_USER,
    "--no-sync",
    "--encoding=UTF8",
    "--locale=C",
  ]);
  const init = await run(initCmd, initArgs, dir);
  if (init.code !== 0) {
    cleanupDir();
    const hint = isRoot() ? ` (it runs as "${PG_SYSTEM_USER}", which must be able to reach ${dir})` : "";
    throw new PgHarnessError("PG_INITDB_FAILED", `initdb failed${hint}:\n${tail(init.stderr || init.stdout)}`);
  }
  // Settings that hold for every start; the port is chosen per attempt.
  const maxConnections = options.maxConnections ?? 200;
  await appendFile(
    join(dataDir, "postgresql.conf"),
    [
      "",
      "# patchworkmcp test harness",
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir.replaceAll("'", "''")}'`,
      `max_connections = ${maxConnections}`,
      "",
    ].join("\n"),
  );

  // The free port may be taken between probing and binding: try a few.
  let port = 0;
  let started = false;
  let lastError = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    port = await freePort();
    const r = await pgCtl(["-l", logFile, "-w", "-t", "90", "-o", `-p ${port}`, "start"], 120_000);
    if (r.code === 0) {
      started = true;
      break;
    }
    lastError = `${tail(r.stderr || r.stdout)}\n--- server log ---\n${readLog(logFile)}`;
    if (!/could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(lastError)) break;
    // Make sure nothing half-started stays around before the next try.
    await pgCtl(["-m", "immediate", "-w", "stop"]);
  }
  if (!started) {
    await pgCtl(["-m", "immediate", "-w", "stop"]);
    cleanupDir();
    throw new PgHarnessError("PG_START_FAILED", `PostgreSQL did not start:\n${lastError}`);
  }

  // pg_ctl -w waits for the postmaster to report ready; confirm it accepts TCP connections.
  const ready = await run(join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-t", "60"], dir);
  if (ready.code !== 0) {
    await pgCtl(["-m", "immediate", "-w", "stop"]);
    const log = readLog(logFile);
    cleanupDir();
    throw new PgHarnessError("PG_NOT_READY", `PostgreSQL started but does not accept connections:\n${log}`);
  }

  // If the test process exits without stop() (process.exit, an uncaught error), do not leave a
  // server behind. A SIGKILLed process runs no handler: its server outlives it.
  let stopped = false;
  const onExit = () => {
    if (stopped) return;
    const [cmd, argv] = asServerUser(join(bin, "pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
    spawnSync(cmd, argv, { cwd: "/", stdio: "ignore", timeout: 30_000 });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", onExit);

  const baseUrl = `postgres://${PG_USER}@127.0.0.1:${port}`;
  return {
    port,
    dir,
    dataDir,
    baseUrl,
    url: (dbName) => `${baseUrl}/${dbName}`,
    createDatabase: () => createDatabaseAt(baseUrl, bin),
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off("exit", onExit);
      const r = await pgCtl(["-m", "fast", "-w", "-t", "60", "stop"]);
      if (r.code !== 0 && existsSync(join(dataDir, "postmaster.pid"))) {
        // A fast shutdown that did not finish: do not leave the server running.
        await pgCtl(["-m", "immediate", "-w", "stop"]);
      }
      cleanupDir();
    },
  };
}

/** Create a database with a random name on the server at baseUrl; resolves with its URL. */
async function createDatabaseAt(baseUrl: string, bin = findPgBin()): Promise<string> {
  const name = `t_${randomBytes(8).toString("hex")}`;
  const r = await run(
    join(bin, "psql"),
    ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", `${baseUrl}/postgres`, "-c", `CREATE DATABASE ${name}`],
    tmpdir(),
  );
  if (r.code !== 0) {
    throw new PgHarnessError(
      "PG_CREATE_DATABASE_FAILED",
      `CREATE DATABASE ${name} on ${baseUrl} failed:\n${tail(r.stderr)}`,
    );
  }
  return `${baseUrl}/${name}`;
}

/** Which store backend this run exercises, from PATCHWORK_TEST_BACKEND (unset means sqlite). */
export function testBackend(env: NodeJS.ProcessEnv = process.env): "sqlite" | "postgres" {
  const v = env[BACKEND_ENV];
  if (v === undefined || v === "" || v === "sqlite") return "sqlite";
  if (v === "postgres") return "postgres";
  throw new PgHarnessError("PG_BAD_BACKEND", `${BACKEND_ENV} must be "sqlite" or "postgres", not ${JSON.stringify(v)}`);
}

declare module "vitest" {
  export interface ProvidedContext {
    /** Base URL of the run's shared PostgreSQL server; "" when the backend is sqlite. */
    patchworkPgUrl: string;
  }
}

/** Base URL of the run's shared server (from the global setup), or undefined when there is none. */
export function sharedPgUrl(): string | undefined {
  let provided: string | undefined;
  try {
    provided = inject("patchworkPgUrl");
  } catch {
    // Not inside a vitest worker (a script importing this helper): the env var is all there is.
  }
  // Inside a vitest worker the project says (inject); the env var is for spawned scripts, and only
  // counts when this process runs on PostgreSQL (the sqlite project's workers inherit it too).
  if (provided !== undefined) return provided || undefined;
  return testBackend() === "postgres" ? process.env[PG_URL_ENV] || undefined : undefined;
}

/** A fresh, empty database on the run's shared server; resolves with its URL. */
export async function testDatabase(): Promise<string> {
  const base = sharedPgUrl();
  if (!base) {
    throw new PgHarnessError(
      "PG_NOT_ENABLED",
      `no shared PostgreSQL server in this run: set ${BACKEND_ENV}=postgres so test/helpers/postgres-global.ts starts one`,
    );
  }
  return createDatabaseAt(base);
}

/**
 * testDatabase() without awaiting, for the many tests that name their database where they build
 * the rest of their fixture (`testDbPath()` in serve.ts): psql run synchronously.
 */
export function testDatabaseSync(): string {
  const base = sharedPgUrl();
  if (!base) {
    throw new PgHarnessError(
      "PG_NOT_ENABLED",
      `no shared PostgreSQL server in this run: set ${BACKEND_ENV}=postgres so test/helpers/postgres-global.ts starts one`,
    );
  }
  const name = `t_${randomBytes(8).toString("hex")}`;
  const r = spawnSync(
    join(findPgBin(), "psql"),
    ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", `${base}/postgres`, "-c", `CREATE DATABASE ${name}`],
    { cwd: tmpdir(), encoding: "utf8" },
  );
  if (r.status !== 0)
    throw new PgHarnessError("PG_CREATE_DATABASE_FAILED", `CREATE DATABASE ${name} on ${base} failed:\n${r.stderr}`);
  return `${base}/${name}`;
}
