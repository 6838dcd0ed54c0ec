/**
 * The report server over streamable HTTP at /mcp, serving both protocol eras
 * side by side (the v2 SDK's `classifyInboundRequest` decides per request):
 * - 2025-11-25 and older: stateful, one SDK server per session opened by
 *   `initialize`, with GET for the server's stream and DELETE to end it;
 * - 2026-07-28: stateless, every POST carries its own `_meta` envelope and is
 *   answered by a fresh server from the SDK's `createMcpHandler` (no session,
 *   no GET stream); malformed modern claims get that revision's errors.
 *
 * Auth runs on every request, not only at initialize: a session is bound to
 * the credential that opened it and gets that key's scope (ingest sees only
 * `feedback`, read adds the read tools, admin the writing tools). A call to a
 * tool above the session's scope is refused with HTTP 403 naming the missing
 * scope. With no key configured the endpoint is open, but only to loopback
 * clients. Host/Origin checks (DNS rebinding) run app-wide before this router.
 *
 * MCP messages can be megabytes, so /mcp reads its own JSON bodies with its
 * own limit (json-body.ts). Idle sessions are reaped (clients rarely send
 * DELETE); `close()` stops the reaper and closes every session.
 *
 * This is a plain node:http handler, so the MCP layer needs no web framework:
 * the sidecar's express app mounts it at /mcp.
 */
import {
  NodeStreamableHTTPServerTransport,
  type NodeMcpRequestHandler,
  toNodeHandler,
} from "@modelcontextprotocol/node";
import {
  classifyInboundRequest,
  createMcpHandler,
  isInitializeRequest,
  type McpHttpHandler,
  type Server,
} from "@modelcontextprotocol/server";
import { createHash, randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Authenticator, bearerToken, type KeyScope, scopeAllows, WWW_AUTHENTICATE } from "../auth/index.js";
import type { IngestQueue } from "../ingest/index.js";
import { isLoopbackHost } from "../net/host-policy.js";
import type { FeedbackStore } from "../store/index.js";
import { BodyError, readJsonBody } from "./json-body.js";
import { createReportServer } from "./server.js";
import { scopeForTool } from "./tools/index.js";

export const MCP_BODY_LIMIT_BYTES = 4 * 1024 * 1024;
export const SESSION_IDLE_MS = 30 * 60_000;
export const MAX_SESSIONS = 1000;
/** Sessions one key (or, with no key configured, all clients together) may hold at once. */
export const MAX_SESSIONS_PER_KEY = 100;

export interface McpHttpOptions {
  store: FeedbackStore;
  auth: Authenticator;
  queue: IngestQueue;
  /** Largest JSON body accepted, in bytes (decoded). */
  bodyLimitBytes?: number | undefined;
  /** Close sessions without requests for this long. */
  sessionIdleMs?: number | undefined;
  maxSessions?: number | undefined;
  maxSessionsPerKey?: number | undefined;
}

interface Session {
  server: Server;
  transport: NodeStreamableHTTPServerTransport;
  scope: KeyScope;
  /** sha256 of the bearer token that opened it ("" when auth is off). */
  credential: string;
  lastSeen: number;
  /** Requests (including a GET stream) still open. */
  active: number;
}

/** Methods above `ingest` that are not tools/call (a Map: method names are client text, never prototype keys). */
const METHOD_SCOPES: ReadonlyMap<string, KeyScope> = new Map([
  ["prompts/list", "read"],
  ["prompts/get", "read"],
  ["resources/list", "read"],
  ["resources/read", "read"],
  ["resources/templates/list", "read"],
]);

/** JSON-RPC error codes for HTTP-level refusals (the SDK uses the same two). */
const HTTP_ERROR = -32000;
const SESSION_NOT_FOUND = -32001;

function sendRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  data?: Record<string, unknown>,
  id: unknown = null,
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res
    .writeHead(status, { "Content-Type": "application/json; charset=utf-8" })
    .end(JSON.stringify({ jsonrpc: "2.0", id, error: data ? { code, message, data } : { code, message } }));
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  return isLoopbackHost(a);
}

/** First value of a possibly repeated header. */
function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const credentialOf = (token: string | undefined): string =>
  token ? createHash("sha256").update(token).digest("hex") : "";

/** The first message in a POST body that needs more than `scope`, with the scope it needs. */
function firstForbidden(body: unknown, scope: KeyScope): { id: unknown; need: KeyScope; what: string } | undefined {
  for (const m of Array.isArray(body) ? body : [body]) {
    if (typeof m !== "object" || m === null) continue;
    const { method, params, id } = m as { method?: unknown; params?: { name?: unknown }; id?: unknown };
    if (typeof method !== "string") continue;
    let need: KeyScope | undefined;
    let what = method;
    if (method === "tools/call" && typeof params?.name === "string") {
      need = scopeForTool(params.name);
      what = `the ${params.name} tool`;
    } else {
      need = METHOD_SCOPES.get(method);
    }
    if (need && !scopeAllows(scope, need)) return { id: id ?? null, need, what };
  }
  return undefined;
}

/** 403 for a message above the key's scope, naming the scope it needs. */
function refuseScope(res: ServerResponse, forbidden: { id: unknown; need: KeyScope; what: string }, scope: KeyScope) {
  sendRpcError(
    res,
    403,
    HTTP_ERROR,
    `This API key lacks the feedback:${forbidden.need} scope needed for ${forbidden.what}.`,
    { code: "forbidden", required_scope: `feedback:${forbidden.need}`, key_scope: `feedback:${scope}` },
    forbidden.id,
  );
}

/** The /mcp endpoint: a request handler plus the session table's lifecycle. */
export interface McpHttpEndpoint {
  /** Answer one request to /mcp (rejects only on unexpected errors; the caller answers those). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Stop the reaper and close every session (their open streams end). */
  close(): Promise<void>;
  /** Sessions currently open. */
  readonly sessionCount: number;
}

const sizeLabel = (bytes: number): string =>
  bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)}mb` : `${bytes} bytes`;

export function mcpEndpoint(options: McpHttpOptions): McpHttpEndpoint {
  const { store, auth, queue } = options;
  const idleMs = options.sessionIdleMs ?? SESSION_IDLE_MS;
  const maxSessions = options.maxSessions ?? MAX_SESSIONS;
  const perCredential = Math.min(options.maxSessionsPerKey ?? MAX_SESSIONS_PER_KEY, maxSessions);
  const bodyLimitBytes = options.bodyLimitBytes ?? MCP_BODY_LIMIT_BYTES;
  const sessions = new Map<string, Session>();
  const ingest = queue.add.bind(queue);
  let closed = false;

  /**
   * The stateless 2026-07-28 leg, one handler per key scope (the scope decides
   * which tools, prompts and instructions a server instance has). Legacy
   * traffic never reaches it (`legacy: 'reject'`): 2025 sessions are ours, below.
   */
  const modern = new Map<KeyScope, { handler: McpHttpHandler; serve: NodeMcpRequestHandler }>();
  const modernFor = (scope: KeyScope): NodeMcpRequestHandler => {
    let leg = modern.get(scope);
    if (!leg) {
      const onerror = (err: Error) => process.stderr.write(`patchworkmcp: /mcp (2026-07-28): ${err.message}\n`);
      const handler = createMcpHandler(() => createReportServer({ store, scope, ingest }), {
        legacy: "reject",
        maxRequestBodySize: bodyLimitBytes,
        onerror,
      });
      leg = { handler, serve: toNodeHandler(handler, { maxRequestBodySize: bodyLimitBytes, onerror }) };
      modern.set(scope, leg);
    }
    return leg.serve;
  };

  const closeSession = (id: string, session: Session): Promise<void> => {
    sessions.delete(id);
    return session.server.close().catch(() => {});
  };

  const reap = () => {
    const now = Date.now();
    for (const [id, s] of sessions) if (s.active === 0 && now - s.lastSeen > idleMs) void closeSession(id, s);
  };
  const reaper = setInterval(reap, Math.min(60_000, Math.max(1000, Math.floor(idleMs / 2))));
  reaper.unref();

  /**
   * Make room for a new session of `credential`. One key may hold at most
   * `perCredential` sessions (beyond that its own least recently used one
   * goes), so a widely shared ingest key cannot crowd out everyone else. When
   * the table is full, the least recently used idle session goes; if every
   * session holds a stream open, the oldest one of the key holding the most.
   */
  const makeRoom = (credential: string): void => {
    const lru = (keep: (s: Session) => boolean): [string, Session] | undefined => {
      let oldest: [string, Session] | undefined;
      for (const entry of sessions)
        if (keep(entry[1]) && (!oldest || entry[1].lastSeen < oldest[1].lastSeen)) oldest = entry;
      return oldest;
    };
    const perKey = new Map<string, number>();
    for (const s of sessions.values()) perKey.set(s.credential, (perKey.get(s.credential) ?? 0) + 1);
    let victim: [string, Session] | undefined;
    if ((perKey.get(credential) ?? 0) >= perCredential) victim = lru((s) => s.credential === credential);
    else if (sessions.size >= maxSessions) {
      victim = lru((s) => s.active === 0);
      if (!victim) {
        const busiest = [...perKey.entries()].sort((a, b) => b[1] - a[1])[0]![0];
        victim = lru((s) => s.credential === busiest);
      }
    }
    if (victim) void closeSession(victim[0], victim[1]);
  };

  const track = (session: Session, res: ServerResponse) => {
    session.active++;
    session.lastSeen = Date.now();
    res.once("close", () => {
      session.active--;
      session.lastSeen = Date.now();
    });
  };

  /** The parsed body, or undefined when the response was already sent (a body error). */
  const body = async (req: IncomingMessage, res: ServerResponse): Promise<{ value: unknown } | undefined> => {
    try {
      return { value: await readJsonBody(req, bodyLimitBytes) };
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      // Let the client finish sending what we will not read, so it sees the answer instead of a reset.
      req.resume();
      if (err.code === "too_large") {
        sendRpcError(res, 413, HTTP_ERROR, `The message is larger than /mcp accepts (${sizeLabel(bodyLimitBytes)}).`, {
          code: "payload_too_large",
        });
      } else if (err.code === "invalid_json") {
        sendRpcError(res, 400, -32700, "Parse error: the body is not valid JSON.");
      } else if (err.code === "aborted") {
        res.end();
      } else {
        sendRpcError(res, 415, HTTP_ERROR, err.message, { code: err.code });
      }
      return undefined;
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== "POST" && req.method !== "GET" && req.method !== "DELETE") {
      res.setHeader("Allow", "GET, POST, DELETE");
      return sendRpcError(
        res,
        405,
        HTTP_ERROR,
        `Method ${req.method} is not allowed on /mcp; use POST (GET and DELETE with a session).`,
      );
    }
    if (closed) return sendRpcError(res, 503, HTTP_ERROR, "The server is shutting down.");

    // Who is asking.
    if (!auth.required && !isLoopbackAddress(req.socket.remoteAddress)) {
      return sendRpcError(
        res,
        403,
        HTTP_ERROR,
        "No API key is configured, so /mcp only answers clients on this machine. Set FEEDBACK_API_KEY or create keys with `patchworkmcp keys create`.",
        {
          code: "loopback_only",
        },
      );
    }
    const outcome = auth.authenticate(req);
    if (!outcome.ok) {
      res.setHeader("WWW-Authenticate", WWW_AUTHENTICATE);
      return sendRpcError(res, 401, HTTP_ERROR, outcome.message, { code: "unauthorized" });
    }
    const scope: KeyScope = outcome.result.scope ?? "admin";
    const credential = outcome.result.required ? credentialOf(bearerToken(req.headers.authorization)) : "";

    // Bodies are read only once the caller is known.
    const parsed = await body(req, res);
    if (!parsed) return;
    const message = parsed.value;

    // Which era: a 2026-07-28 envelope claim (malformed ones included: they get that revision's errors) is stateless.
    const era = classifyInboundRequest({
      httpMethod: req.method,
      protocolVersionHeader: headerValue(req, "mcp-protocol-version"),
      mcpMethodHeader: headerValue(req, "mcp-method"),
      mcpNameHeader: headerValue(req, "mcp-name"),
      body: message,
    });
    if (era.kind !== "legacy") {
      const forbidden = firstForbidden(message, scope);
      if (forbidden) return refuseScope(res, forbidden, scope);
      await modernFor(scope)(req, res, message);
      return;
    }

    // Which session (2025-11-25 and older).
    const sessionHeader = req.headers["mcp-session-id"];
    const sessionId = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader;
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (!session)
        return sendRpcError(
          res,
          404,
          SESSION_NOT_FOUND,
          "Session not found: it ended or expired. Initialize a new one.",
        );
      if (session.credential !== credential) {
        return sendRpcError(res, 403, HTTP_ERROR, "This session was opened with a different API key.", {
          code: "forbidden",
        });
      }
      if (req.method === "POST") {
        const forbidden = firstForbidden(message, session.scope);
        if (forbidden) return refuseScope(res, forbidden, session.scope);
      }
      track(session, res);
      await session.transport.handleRequest(req, res, message);
      return;
    }

    if (
      req.method !== "POST" ||
      !(Array.isArray(message) ? message.some(isInitializeRequest) : isInitializeRequest(message))
    ) {
      return sendRpcError(
        res,
        400,
        HTTP_ERROR,
        "Bad Request: send an initialize request first, then the Mcp-Session-Id header it returns with every request.",
      );
    }
    makeRoom(credential);

    const server = createReportServer({ store, scope, ingest });
    const transport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Registered only once initialize succeeded (runs inside handleRequest below).
      onsessioninitialized: (id) => {
        sessions.set(id, session);
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    const session: Session = { server, transport, scope, credential, lastSeen: Date.now(), active: 0 };
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    track(session, res);
    await transport.handleRequest(req, res, message);
    if (!transport.sessionId) await server.close();
  };

  return {
    handle,
    async close() {
      closed = true;
      clearInterval(reaper);
      await Promise.all([
        ...[...sessions].map(([id, s]) => closeSession(id, s)),
        ...[...modern.values()].map((leg) => leg.handler.close().catch(() => {})),
      ]);
    },
    get sessionCount() {
      return sessions.size;
    },
  };
}
