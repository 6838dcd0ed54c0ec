/**
 * The PostgreSQL test harness itself: a real server from Debian's binaries, in a temporary
 * data directory, on a loopback port, as a non-root user, gone after stop().
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  aptAvailable,
  BACKEND_ENV,
  findPgBin,
  locatePgBin,
  PG_URL_ENV,
  type PostgresServer,
  SETUP_SCRIPT,
  sharedPgUrl,
  startPostgres,
  testBackend,
  testDatabase,
} from "./helpers/postgres.js";

// Skip only where nothing could install PostgreSQL; with apt present a missing server
// is a setup defect and the tests fail with findPgBin()'s message.
const unavailable = !locatePgBin() && !aptAvailable();
if (unavailable)
  console.warn(`postgres-harness: skipped, no PostgreSQL binaries and no apt-get to run ${SETUP_SCRIPT}`);

function psql(url: string, sql: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      join(locatePgBin() ?? "", "psql"),
      ["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
      { cwd: tmpdir(), encoding: "utf8" },
      (err, stdout, stderr) => (err ? reject(new Error(`psql ${sql}: ${stderr || err}`)) : resolve(stdout.trim())),
    );
  });
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: "utf8" }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd}: ${stderr || err}`)) : resolve(stdout.trim()),
    );
  });
}

/** The addresses with a listening TCP socket on this port, from /proc/net/tcp and tcp6. */
function listeningAddresses(port: number): string[] {
  const out: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 4 || cols[3] !== "0A") continue; // 0A = LISTEN
      const [addrHex, portHex] = (cols[1] ?? "").split(":") as [string, string];
      if (Number.parseInt(portHex, 16) !== port) continue;
      out.push(addrHex.length === 8 ? ipv4(addrHex) : `ipv6:${addrHex}`);
    }
  }
  return out;
}

/** /proc/net/tcp holds IPv4 addresses as little-endian hex. */
function ipv4(hex: string): string {
  const bytes = hex.match(/../g)!.map((b) => Number.parseInt(b, 16));
  return bytes.reverse().join(".");
}

function tcpConnects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

describe.skipIf(unavailable)("PostgreSQL test harness (startPostgres)", () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("creates separate databases that each answer queries", async () => {
    const a = await server.createDatabase();
    const b = await server.createDatabase();
    expect(a).not.toBe(b);
    expect(a).toMatch(new RegExp(`^postgres://patchwork@127\\.0\\.0\\.1:${server.port}/t_[0-9a-f]{16}$`));
    const nameA = a.slice(a.lastIndexOf("/") + 1);
    const nameB = b.slice(b.lastIndexOf("/") + 1);
    expect(await psql(a, "SELECT current_database()")).toBe(nameA);
    expect(await psql(b, "SELECT current_database()")).toBe(nameB);
    expect(server.url(nameA)).toBe(a);

    await psql(a, "CREATE TABLE only_in_a (x int); INSERT INTO only_in_a VALUES (42)");
    expect(await psql(a, "SELECT x FROM only_in_a")).toBe("42");
    expect(await psql(b, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'")).toBe("0");
  });

  it("uses UTF8, the C locale, durable commits and room for many connections", async () => {
    const db = await server.createDatabase();
    const row = await psql(
      db,
      "SELECT pg_encoding_to_char(encoding), datcollate FROM pg_database WHERE datname = current_database()",
    );
    expect(row).toBe("UTF8|C");
    expect(await psql(db, "SHOW fsync")).toBe("on");
    expect(Number(await psql(db, "SHOW max_connections"))).toBeGreaterThanOrEqual(100);
    expect(await psql(db, "SELECT 'é✓'")).toBe("é✓");
  });

  it("runs the server as a non-root user", async () => {
    const pid = Number(readFileSync(join(server.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    expect(pid).toBeGreaterThan(0);
    const user = await run("ps", ["-o", "user=", "-p", String(pid)]);
    expect(user).not.toBe("");
    expect(user).not.toBe("root");
    if (process.getuid?.() === 0) expect(user).toBe("postgres");
    // The data directory lives in the server's temporary directory.
    expect(server.dataDir.startsWith(server.dir)).toBe(true);
  });

  it("listens on 127.0.0.1 only, with its unix socket inside its temporary directory", async () => {
    expect(listeningAddresses(server.port)).toEqual(["127.0.0.1"]);
    const db = await server.createDatabase();
    expect(await psql(db, "SHOW listen_addresses")).toBe("127.0.0.1");
    expect(await psql(db, "SHOW unix_socket_directories")).toBe(server.dir);
    expect(existsSync(join(server.dir, `.s.PGSQL.${server.port}`))).toBe(true);
  });

  it("stops: the port closes and the temporary directory is removed (twice is harmless)", async () => {
    const other = await startPostgres();
    expect(other.port).not.toBe(server.port);
    expect(await tcpConnects(other.port)).toBe(true);
    await other.stop();
    expect(await tcpConnects(other.port)).toBe(false);
    expect(listeningAddresses(other.port)).toEqual([]);
    expect(existsSync(other.dir)).toBe(false);
    await other.stop();
    // The first server is untouched by the second one's shutdown.
    expect(await psql(server.url("postgres"), "SELECT 1")).toBe("1");
  });
});

describe.skipIf(unavailable)("a test process that exits without stop()", () => {
  it("takes its server down with it", async () => {
    // A real child process: start a server, then exit without calling stop().
    const script = [
      "const { startPostgres } = await import(process.argv[1]);",
      "const s = await startPostgres();",
      "console.log(JSON.stringify({ port: s.port, dir: s.dir }));",
      "process.exit(0);",
    ].join("\n");
    const helper = join(import.meta.dirname, "helpers/postgres.ts");
    const out = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, helper]);
    const { port, dir } = JSON.parse(out) as { port: number; dir: string };
    expect(port).toBeGreaterThan(0);
    expect(existsSync(dir)).toBe(false);
    expect(await tcpConnects(port)).toBe(false);
  });
});

describe("findPgBin", () => {
  it("picks the newest complete /usr/lib/postgresql/<v>/bin, then PATH, else says how to install", () => {
    const root = mkdtempSync(join(tmpdir(), "pwm-pgbin-"));
    try {
      const fake = (dir: string, names: string[]) => {
        mkdirSync(dir, { recursive: true });
        for (const n of names) writeFileSync(join(dir, n), "#!/bin/sh\n", { mode: 0o755 });
      };
      const all = ["initdb", "pg_ctl", "postgres", "psql", "pg_isready"];
      fake(join(root, "lib/9.6/bin"), all);
      fake(join(root, "lib/15/bin"), all);
      fake(join(root, "lib/16/bin"), ["psql", "pg_isready"]); // client only: not a server
      fake(join(root, "path/bin"), all);
      expect(findPgBin(join(root, "lib"), "")).toBe(join(root, "lib/15/bin"));
      expect(findPgBin(join(root, "nowhere"), `/nonexistent:${join(root, "path/bin")}`)).toBe(join(root, "path/bin"));
      expect(locatePgBin(join(root, "nowhere"), join(root, "lib/16/bin"))).toBeUndefined();
      expect(() => findPgBin(join(root, "nowhere"), "")).toThrow(
        `PG_NOT_INSTALLED: no PostgreSQL server binaries (initdb, pg_ctl, postgres, psql, pg_isready) in ${join(root, "nowhere")}/*/bin or on PATH; run ${SETUP_SCRIPT}`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("the run's shared server (test/helpers/postgres-global.ts)", () => {
  it.skipIf(testBackend() === "postgres")("is absent unless the backend is postgres, and says so", async () => {
    expect(sharedPgUrl()).toBeUndefined();
    expect(process.env[PG_URL_ENV]).toBeUndefined();
    await expect(testDatabase()).rejects.toThrow(
      `PG_NOT_ENABLED: no shared PostgreSQL server in this run: set ${BACKEND_ENV}=postgres`,
    );
  });

  it.skipIf(testBackend() !== "postgres")("hands out a fresh database per call", async () => {
    const a = await testDatabase();
    const b = await testDatabase();
    expect(a).not.toBe(b);
    expect(a.startsWith(`${sharedPgUrl()}/t_`)).toBe(true);
    expect(await psql(a, "SELECT current_database()")).toBe(a.slice(a.lastIndexOf("/") + 1));
    expect(await psql(b, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).toBe("0");
  });

  it("rejects an unknown backend name", () => {
    expect(() => testBackend({ [BACKEND_ENV]: "mysql" })).toThrow(/PG_BAD_BACKEND: PATCHWORK_TEST_BACKEND must be/);
    expect(testBackend({})).toBe("sqlite");
  });
});
