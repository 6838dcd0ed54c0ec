/**
 * Real clients of protocol revision 2026-07-28 through the proxy, in front of
 * real servers that speak it: the Python `mcp` 2.x `Client` (auto: probes
 * `server/discover`; pinned: no probe at all) and `@modelcontextprotocol/client`
 * 2.x (auto and pinned), each a child process (test/fixtures/python/client_probe.py,
 * test/fixtures/mcp-v2/client-probe.ts), through the proxy over stdio and over
 * HTTP, in front of a Python `mcp` 2.x MCPServer (test/fixtures/python/plain_server.py)
 * and the TypeScript v2 SDK fixture (test/fixtures/mcp-v2/conformance-server.ts),
 * both over stdio. Each must negotiate 2026-07-28, see the feedback tool, get
 * the instructions wherever the client asks for them (a pinned Python client
 * never sends `server/discover`), have its feedback call succeed, and the
 * stored report must name the server (serverInfo comes in result `_meta` now)
 * and the client.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FEEDBACK_TOOL_NAME } from "../../src/feedback/index.js";
import { FeedbackStore } from "../../src/store/index.js";
import { fixture } from "../fixtures/build.js";
import { REPO_ROOT } from "../helpers/serve.js";
import { CLI, NODE, startHttpProxy, tempDir, type ChildServer } from "./helpers.js";

const PYTHON = join(REPO_ROOT, "drop-ins/python/.venv/bin/python");

interface Seen {
  protocolVersion?: string;
  era?: string;
  instructions?: string | null;
  tools?: string[];
  call?: { content?: { type: string; text?: string }[]; isError?: boolean; is_error?: boolean };
  error?: string;
}

const CLIENTS = {
  "Python mcp 2.x Client, auto": {
    cmd: [PYTHON, join(REPO_ROOT, "test/fixtures/python/client_probe.py")],
    mode: "auto",
    name: "mcp",
  },
  "Python mcp 2.x Client, pinned": {
    cmd: [PYTHON, join(REPO_ROOT, "test/fixtures/python/client_probe.py")],
    mode: "2026-07-28",
    name: "mcp",
  },
  "@modelcontextprotocol/client 2.x, auto": {
    cmd: [NODE, fixture("client-probe-v2")],
    mode: "auto",
    name: "client-probe",
  },
  "@modelcontextprotocol/client 2.x, pinned": {
    cmd: [NODE, fixture("client-probe-v2")],
    mode: "2026-07-28",
    name: "client-probe",
  },
} as const;
type ClientName = keyof typeof CLIENTS;

const UPSTREAMS = {
  "Python mcp 2.x server": {
    cmd: [PYTHON, join(REPO_ROOT, "test/fixtures/python/plain_server.py")],
    name: "plain-python-server",
    version: "3.1.4",
    tool: "list_invoices",
  },
  "TypeScript v2 SDK server": {
    cmd: [NODE, fixture("conformance-server-v2")],
    name: "mcp-conformance-test-server",
    version: "1.0.0",
    tool: "test_simple_text",
  },
} as const;
type UpstreamName = keyof typeof UPSTREAMS;

const FEEDBACK_ARGS = {
  what_i_needed: "Invoice totals grouped by month.",
  what_i_tried: "Listed the tools; nothing sums invoices.",
  gap_type: "missing_tool",
};

function probe(client: ClientName, target: string[]): Promise<Seen> {
  const c = CLIENTS[client];
  const [cmd, ...rest] = [
    ...c.cmd,
    "--mode",
    c.mode,
    "--call",
    FEEDBACK_TOOL_NAME,
    "--args",
    JSON.stringify(FEEDBACK_ARGS),
    ...target,
  ];
  return new Promise((resolve, reject) => {
    execFile(cmd!, rest, { timeout: 90_000 }, (err, stdout, stderr) => {
      try {
        resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "") as Seen);
      } catch {
        reject(new Error(`${client} printed no result (${err?.message ?? ""}): ${stdout}\n${stderr}`));
      }
    });
  });
}

const db = join(tempDir(), "feedback.db");
const proxyFiles = () => ["--db", db, "--outbox", join(tempDir(), "outbox.log")];
const httpProxies = new Map<UpstreamName, ChildServer>();

beforeAll(async () => {
  for (const [name, upstream] of Object.entries(UPSTREAMS) as [UpstreamName, (typeof UPSTREAMS)[UpstreamName]][])
    httpProxies.set(name, await startHttpProxy(proxyFiles(), [...upstream.cmd]));
}, 60_000);
afterAll(async () => {
  for (const p of httpProxies.values()) await p.stop();
});

const DOWNSTREAMS = {
  "over stdio": (u: UpstreamName) => ["--stdio", "--", NODE, CLI, "proxy", ...proxyFiles(), "--", ...UPSTREAMS[u].cmd],
  "over HTTP": (u: UpstreamName) => ["--url", httpProxies.get(u)!.url],
} as const;

describe.each(Object.keys(UPSTREAMS) as UpstreamName[])("in front of a %s", (upstreamName) => {
  const upstream = UPSTREAMS[upstreamName];
  describe.each(Object.keys(DOWNSTREAMS) as (keyof typeof DOWNSTREAMS)[])("the proxy %s", (downstream) => {
    it.each(Object.keys(CLIENTS) as ClientName[])(
      "%s speaks 2026-07-28, gets the instructions and the tool, and its report names server and client",
      async (client) => {
        const seen = await probe(client, DOWNSTREAMS[downstream](upstreamName));
        expect(seen.error).toBeUndefined();
        expect(seen.protocolVersion).toBe("2026-07-28");
        if (seen.era !== undefined) expect(seen.era).toBe("modern");
        expect(seen.tools).toEqual(expect.arrayContaining([upstream.tool, FEEDBACK_TOOL_NAME]));
        // The feedback tool sits at a fixed place: last on the first page.
        expect(seen.tools?.at(-1)).toBe(FEEDBACK_TOOL_NAME);
        // A pinned Python client never sends server/discover, so it never gets instructions from anyone.
        if (client !== "Python mcp 2.x Client, pinned")
          expect(seen.instructions).toContain(`\`${FEEDBACK_TOOL_NAME}\``);
        expect(seen.call?.isError ?? seen.call?.is_error ?? false).toBe(false);
        const text = seen.call?.content?.[0]?.text ?? "";
        const id = /report (\d+)/.exec(text)?.[1];
        expect(id, text).toBeDefined();
        const store = FeedbackStore.open(db);
        try {
          const report = store.getReport(Number(id))!;
          expect(report.server_name).toBe(upstream.name);
          expect(report.server_version).toBe(upstream.version);
          expect(report.client_type).toMatch(new RegExp(`^${CLIENTS[client].name}/`));
          expect(report.session_id).toBeTruthy();
          expect(report.tools_available).toContain(upstream.tool);
        } finally {
          store.close();
        }
      },
      120_000,
    );
  });
});
