/**
 * Real clients of protocol revision 2026-07-28 against our own MCP endpoints
 * (`/mcp` over streamable HTTP, `mcp` over stdio), which serve it natively
 * next to 2025-11-25 (the v2 SDK, src/mcp): the Python `mcp` 2.x `Client`
 * and `@modelcontextprotocol/client` 2.x, each in auto mode (probes
 * `server/discover`) and pinned to 2026-07-28 (no fallback), each a real
 * child process (test/fixtures/python/client_probe.py,
 * test/fixtures/mcp-v2/client-probe.ts). Each must negotiate 2026-07-28,
 * get our instructions from `server/discover` (a pinned Python client never
 * sends it), and have its list_gaps and feedback calls work, the report
 * landing in the database; over HTTP a read key still cannot call an admin
 * tool. 2025-11-25 clients are covered by the rest of test/mcp (SDK 1.x
 * clients, the 2025 conformance run).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FeedbackStore } from "../../src/store/index.js";
import { fixture } from "../fixtures/build.js";
import { CLI, REPO_ROOT, type ServeProcess, startServe, testDbPath } from "../helpers/serve.js";
import { seed } from "./helpers.js";

const PYTHON = join(REPO_ROOT, "drop-ins/python/.venv/bin/python");
const PY_PROBE = join(REPO_ROOT, "test/fixtures/python/client_probe.py");

interface CallResult {
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
  structured_content?: Record<string, unknown>;
  isError?: boolean;
  is_error?: boolean;
}

interface Seen {
  protocolVersion?: string;
  era?: string;
  serverInfo?: { name: string; version: string } | null;
  instructions?: string | null;
  tools?: string[];
  calls?: { result?: CallResult; error?: string }[];
  error?: string;
}

const CLIENTS = {
  "Python mcp 2.x Client, auto": { cmd: [PYTHON, PY_PROBE], mode: "auto", discovers: true },
  "Python mcp 2.x Client, pinned": { cmd: [PYTHON, PY_PROBE], mode: "2026-07-28", discovers: false },
  "@modelcontextprotocol/client 2.x, auto": { cmd: [process.execPath], mode: "auto", discovers: true },
  "@modelcontextprotocol/client 2.x, pinned": { cmd: [process.execPath], mode: "2026-07-28", discovers: true },
} as const;
type ClientName = keyof typeof CLIENTS;

function probe(client: ClientName, args: string[]): Promise<Seen> {
  const { cmd } = CLIENTS[client];
  // The TypeScript probe is bundled on first use (fixture()), so it is resolved here, not at module load.
  const argv = cmd.length === 1 ? [cmd[0], fixture("client-probe-v2")] : [...cmd];
  const [bin, ...rest] = [...argv, "--mode", CLIENTS[client].mode, ...args];
  return new Promise((resolve, reject) => {
    execFile(bin!, rest, { timeout: 90_000 }, (err, stdout, stderr) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as Seen);
      } catch {
        reject(new Error(`${client} probe printed no result (${err?.message ?? ""}): ${stdout}\n${stderr}`));
      }
    });
  });
}

const isError = (r: CallResult | undefined) => r?.isError ?? r?.is_error ?? false;
const structured = (r: CallResult | undefined) => r?.structuredContent ?? r?.structured_content;
const textOf = (r: CallResult | undefined) => r?.content?.find((c) => c.type === "text")?.text ?? "";

let serve: ServeProcess;
let dbPath: string;
let adminKey = "";
let readKey = "";
beforeAll(async () => {
  dbPath = testDbPath("pwm-mcp-2026-");
  seed(dbPath, 6);
  const store = FeedbackStore.open(dbPath);
  adminKey = store.createKey("admin", "reviewer").key;
  readKey = store.createKey("read", "dashboard").key;
  store.close();
  serve = await startServe({ dbPath });
}, 60_000);
afterAll(() => serve?.stop());

const endpoints = {
  "/mcp over HTTP": () => ["--url", `${serve.url}/mcp`, "--key", adminKey],
  "mcp over stdio": () => ["--stdio", "--", process.execPath, CLI, "mcp", "--db", dbPath],
} as const;

/** The stored report a feedback reply names. */
function storedReport(reply: string) {
  const id = /report (\d+)/.exec(reply)?.[1];
  expect(id, reply).toBeDefined();
  const store = FeedbackStore.open(dbPath);
  try {
    return store.getReportDetail(Number(id));
  } finally {
    store.close();
  }
}

describe.each(Object.keys(CLIENTS) as ClientName[])("%s", (client) => {
  describe.each(Object.keys(endpoints) as (keyof typeof endpoints)[])("against %s", (endpoint) => {
    it("speaks 2026-07-28, gets the instructions, and list_gaps and feedback work", async () => {
      const needed = `Invoice totals by month (${client} via ${endpoint}).`;
      const calls = [
        { name: "list_gaps", arguments: {} },
        {
          name: "feedback",
          arguments: { what_i_needed: needed, what_i_tried: "Listed the tools.", gap_type: "missing_tool" },
        },
      ];
      const seen = await probe(client, ["--calls", JSON.stringify(calls), ...endpoints[endpoint]()]);
      expect(seen.error, JSON.stringify(seen)).toBeUndefined();
      expect(seen.protocolVersion).toBe("2026-07-28");
      if (seen.era !== undefined) expect(seen.era).toBe("modern");
      if (CLIENTS[client].discovers) {
        // server/discover carried our instructions (the admin ones: stdio is the local user's, HTTP used an admin key).
        expect(seen.instructions).toContain("list_reports");
        expect(seen.instructions).toContain("add_note");
        expect(seen.instructions).toContain("feedback");
        expect(seen.serverInfo?.name).toBe("patchworkmcp");
      }
      expect(seen.tools).toEqual(expect.arrayContaining(["feedback", "list_gaps", "list_reports", "set_status"]));

      const [gaps, feedback] = seen.calls ?? [];
      expect(gaps?.error).toBeUndefined();
      expect(isError(gaps?.result), textOf(gaps?.result)).toBe(false);
      expect(structured(gaps?.result)).toMatchObject({ count: expect.any(Number), gaps: expect.any(Array) });

      expect(feedback?.error).toBeUndefined();
      expect(isError(feedback?.result), textOf(feedback?.result)).toBe(false);
      expect(storedReport(textOf(feedback?.result))?.what_i_needed).toBe(needed);
    }, 120_000);
  });

  it("over HTTP with a read key: sees no admin tool, and calling one is refused", async () => {
    const calls = [
      { name: "set_status", arguments: { id: 1, status: "dismissed" } },
      { name: "list_reports", arguments: { limit: 1 } },
    ];
    const seen = await probe(client, ["--url", `${serve.url}/mcp`, "--key", readKey, "--calls", JSON.stringify(calls)]);
    expect(seen.error).toBeUndefined();
    expect(seen.protocolVersion).toBe("2026-07-28");
    if (CLIENTS[client].discovers) {
      expect(seen.instructions).toContain("list_reports");
      expect(seen.instructions).not.toContain("add_note");
    }
    expect(seen.tools).toContain("list_reports");
    expect(seen.tools).not.toContain("set_status");
    const [admin, read] = seen.calls ?? [];
    // HTTP 403 naming the scope: a client error, or an isError result carrying the message.
    const refusal = admin?.error ?? (isError(admin?.result) ? textOf(admin?.result) : undefined);
    expect(refusal, JSON.stringify(admin)).toMatch(/403|feedback:admin/);
    expect(isError(read?.result), JSON.stringify(read)).toBe(false);
    const store = FeedbackStore.open(dbPath);
    try {
      expect(store.getReport(1)?.status).not.toBe("dismissed");
    } finally {
      store.close();
    }
  }, 120_000);
});
