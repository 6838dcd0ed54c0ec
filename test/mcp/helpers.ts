/** Shared fixtures for the MCP tests: seeded SQLite files and real SDK clients. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Authenticator } from "../../src/auth/index.js";
import { GAP_TYPES, RESOLUTIONS, type FeedbackPayload } from "../../src/feedback/index.js";
import { IngestQueue } from "../../src/ingest/index.js";
import { type McpHttpEndpoint, type McpHttpOptions, mcpEndpoint } from "../../src/mcp/http.js";
import { FeedbackStore } from "../../src/store/index.js";
import { CLI, testDbPath } from "../helpers/serve.js";

export const SERVERS = ["billing", "calendar", "search"] as const;
export const CLIENTS = ["cursor", "claude-code"] as const;

/** Report i of a seeded set: every filterable field cycles with a different period. */
export function seededPayload(i: number): FeedbackPayload {
  return {
    what_i_needed: `need ${i}: ${i % 10 === 0 ? "invoice totals per project" : "something else"}`,
    what_i_tried: `tried tool_${i % 4}`,
    gap_type: GAP_TYPES[i % GAP_TYPES.length]!,
    server_name: SERVERS[i % SERVERS.length]!,
    tool_name: `tool_${i % 4}`,
    resolution: RESOLUTIONS[i % RESOLUTIONS.length]!,
    tools_available: ["tool_0", "tool_1"],
    session_id: `session-${i % 7}`,
    client_type: CLIENTS[i % CLIENTS.length]!,
  };
}

/** Day (UTC) report i was created on in a seeded set: 0..9 days after 2026-03-01. */
export const seededDay = (i: number): string => `2026-03-${String(1 + (i % 10)).padStart(2, "0")}`;

/** Insert `count` seeded reports (i = 0..count-1, ids 1..count on a fresh file) with spread-out dates. */
export function seed(dbPath: string, count: number): void {
  const store = FeedbackStore.open(dbPath);
  try {
    const items = Array.from({ length: count }, (_, i) => ({ payload: seededPayload(i) }));
    const results = store.insertMany(items);
    const setDate = store.db.prepare("UPDATE reports SET created_at = ? WHERE id = ?");
    store.db.transaction(() => {
      for (const [i, r] of results.entries()) setDate.run(`${seededDay(i)}T12:00:00.000Z`, r.id);
    })();
  } finally {
    store.close();
  }
}

export interface StdioSession {
  client: Client;
  stderr(): string;
  close(): Promise<void>;
}

/** An SDK client talking to a real `patchworkmcp mcp` child process. */
export async function stdioClient(options: {
  dbPath: string;
  args?: string[];
  env?: Record<string, string>;
}): Promise<StdioSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "mcp", "--db", options.dbPath, ...(options.args ?? [])],
    env: { ...(process.env as Record<string, string>), FEEDBACK_SERVER_NAME: "", FEEDBACK_ONLY: "", ...options.env },
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (d: Buffer) => {
    err += d.toString("utf8");
  });
  const client = new Client({ name: "patchworkmcp-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, stderr: () => err, close: () => client.close() };
}

/** An SDK client over streamable HTTP, optionally with a bearer key. */
export async function httpClient(
  url: string,
  key?: string,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: key ? { headers: { Authorization: `Bearer ${key}` } } : {},
  });
  const client = new Client({ name: "patchworkmcp-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

export function textOf(result: unknown): string {
  const content = (result as CallToolResult).content;
  return content.map((c) => (c.type === "text" ? c.text : "")).join("");
}

export interface ListedPage {
  reports: { id: number; server_name: string; gap_type: string; status: string }[];
  count: number;
  nextCursor: string | null;
}

/** Call list_reports until the last page; returns every id seen, in order. */
export async function walk(client: Client, args: Record<string, unknown>): Promise<{ ids: number[]; pages: number }> {
  const ids: number[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const result = await client.callTool({
      name: "list_reports",
      arguments: { ...args, ...(cursor ? { cursor } : {}) },
    });
    if (result.isError) throw new Error(`list_reports failed: ${textOf(result)}`);
    const page = result.structuredContent as unknown as ListedPage;
    ids.push(...page.reports.map((r) => r.id));
    cursor = page.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  return { ids, pages };
}

export const INIT = {
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
};

export interface RawOptions {
  key?: string | undefined;
  session?: string;
  body?: unknown;
  rawBody?: string;
  method?: string;
  headers?: Record<string, string>;
  /** Overrides the endpoint URL. */
  url?: string;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body:
    | { id?: unknown; result?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } }
    | undefined;
}

/** One raw request to an /mcp endpoint; parses a JSON body or the first SSE data event. */
export async function rawMcp(url: string, options: RawOptions): Promise<RawResponse> {
  const res = await fetch(options.url ?? url, {
    method: options.method ?? "POST",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2025-06-18",
      ...(options.key ? { Authorization: `Bearer ${options.key}` } : {}),
      ...(options.session ? { "Mcp-Session-Id": options.session } : {}),
      ...options.headers,
    },
    ...(options.rawBody !== undefined
      ? { body: options.rawBody }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  const text = await res.text();
  let body: RawResponse["body"];
  if (res.headers.get("content-type")?.includes("text/event-stream")) {
    const data = text.split("\n").find((l) => l.startsWith("data: ") && l.length > 6);
    body = data ? (JSON.parse(data.slice(6)) as RawResponse["body"]) : undefined;
  } else {
    body = text ? (JSON.parse(text) as RawResponse["body"]) : undefined;
  }
  return { status: res.status, headers: res.headers, body };
}

/** initialize + notifications/initialized over raw HTTP; returns the session id. */
export async function openRawSession(url: string, key?: string): Promise<string> {
  const init = await rawMcp(url, { key, body: INIT });
  if (init.status !== 200) throw new Error(`initialize answered HTTP ${init.status}: ${JSON.stringify(init.body)}`);
  const session = init.headers.get("mcp-session-id");
  if (!session) throw new Error("initialize returned no Mcp-Session-Id");
  const ack = await rawMcp(url, { key, session, body: { jsonrpc: "2.0", method: "notifications/initialized" } });
  if (ack.status !== 202) throw new Error(`notifications/initialized answered HTTP ${ack.status}`);
  return session;
}

export interface Mounted {
  url: string;
  store: FeedbackStore;
  endpoint: McpHttpEndpoint;
  close(): Promise<void>;
}

/** The /mcp endpoint in-process on its own node:http server (no express: the MCP layer needs none). */
export async function mountEndpoint(options: Partial<McpHttpOptions> = {}, store?: FeedbackStore): Promise<Mounted> {
  const db = store ?? FeedbackStore.open(testDbPath("pwm-mcp-endpoint-"));
  const endpoint = mcpEndpoint({
    store: db,
    auth: new Authenticator({ store: db }),
    queue: new IngestQueue(db),
    ...options,
  });
  const server = await new Promise<Server>((resolve) => {
    const s = createServer((req, res) => {
      endpoint.handle(req, res).catch((err: unknown) => res.writeHead(500).end(String(err)));
    }).listen(0, "127.0.0.1", () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    store: db,
    endpoint,
    async close() {
      await endpoint.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      db.close();
    },
  };
}
