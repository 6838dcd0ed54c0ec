/**
 * How clients of protocol revision 2026-07-28 see our own MCP endpoints
 * (`mcp` over stdio, `/mcp` over streamable HTTP), which serve 2025-11-25 on
 * SDK 1.x: a client in auto mode (the Python `mcp` 2.x `Client`, whose default
 * it is, and `@modelcontextprotocol/client` 2.x with `versionNegotiation:
 * 'auto'`) probes `server/discover`, gets a legacy answer, and falls back to
 * `initialize` at 2025-11-25 with everything working. A client pinned to
 * 2026-07-28 has no fallback and must fail, not half-work.
 * Each client runs as a real child process (test/fixtures/mcp-v2/client-probe.ts,
 * test/fixtures/python/client_probe.py).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixture } from "../fixtures/build.js";
import { CLI, REPO_ROOT, startServe, tempDir, type ServeProcess, testDbPath } from "../helpers/serve.js";

const PYTHON = join(REPO_ROOT, "drop-ins/python/.venv/bin/python");
const PY_PROBE = join(REPO_ROOT, "test/fixtures/python/client_probe.py");

interface Seen {
  protocolVersion?: string;
  era?: string;
  serverInfo?: { name: string; version: string } | null;
  instructions?: string | null;
  tools?: string[];
  call?: { content?: { type: string; text?: string }[]; isError?: boolean };
  error?: string;
}

const CLIENTS = {
  "Python mcp 2.x Client": (args: string[]) => [PYTHON, PY_PROBE, ...args],
  "@modelcontextprotocol/client 2.x": (args: string[]) => [process.execPath, fixture("client-probe-v2"), ...args],
} as const;
type ClientName = keyof typeof CLIENTS;

function probe(client: ClientName, args: string[]): Promise<Seen> {
  const [cmd, ...rest] = CLIENTS[client](args);
  return new Promise((resolve, reject) => {
    execFile(cmd!, rest, { timeout: 90_000 }, (err, stdout, stderr) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as Seen);
      } catch {
        reject(new Error(`${client} probe printed no result (${err?.message ?? ""}): ${stdout}\n${stderr}`));
      }
    });
  });
}

let serve: ServeProcess;
let dbPath: string;
beforeAll(async () => {
  dbPath = testDbPath();
  serve = await startServe({ dbPath });
}, 60_000);
afterAll(() => serve?.stop());

const endpoints = {
  "/mcp over HTTP": () => ["--url", `${serve.url}/mcp`],
  "mcp over stdio": () => ["--stdio", "--", process.execPath, CLI, "mcp", "--db", dbPath],
} as const;

describe.each(Object.keys(CLIENTS) as ClientName[])("%s", (client) => {
  describe.each(Object.keys(endpoints) as (keyof typeof endpoints)[])("against %s", (endpoint) => {
    it("in auto mode falls back to 2025-11-25 and works", async () => {
      const seen = await probe(client, ["--mode", "auto", "--call", "get_stats", ...endpoints[endpoint]()]);
      expect(seen.error).toBeUndefined();
      expect(seen.protocolVersion).toBe("2025-11-25");
      if (seen.era !== undefined) expect(seen.era).toBe("legacy");
      expect(seen.serverInfo?.name).toBe("patchworkmcp");
      expect(seen.instructions).toContain("list_reports");
      expect(seen.tools).toEqual(expect.arrayContaining(["list_reports", "get_report", "get_stats"]));
      expect(seen.call?.isError ?? false).toBe(false);
      expect(seen.call?.content?.[0]?.text).toBeTruthy();
    }, 120_000);

    it("pinned to 2026-07-28 fails (no fallback) instead of half-working", async () => {
      const seen = await probe(client, ["--mode", "2026-07-28", ...endpoints[endpoint]()]);
      expect(seen.error).toBeTruthy();
      expect(seen.tools).toBeUndefined();
    }, 120_000);
  });
});
