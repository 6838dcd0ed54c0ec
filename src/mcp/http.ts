/**
 * The report server over streamable HTTP at /mcp (stateful: one SDK server
 * per session, with GET for the server's stream and DELETE to end a session).
 *
 * Auth runs on every request, not only at initialize: a session is bound to
 * the credential that opened it and gets that key's scope (ingest sees only
 * `feedback`, read adds the read tools, admin the writing tools). A call to a
 * tool above the session's scope is refused with HTTP 403 naming the missing
 * scope. With no key configured the endpoint is open, but only to loopback
 * clients. Host/Origin checks (DNS rebinding) run app-wide before this router.
 *
 * MCP messages can be megabytes, so /mcp has its own JSON parser and limit.
 * Idle sessions are reaped (clients rarely send DELETE).
 */
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import express, { Router, type ErrorRequestHandler, type Request, type Response } from "express";
import { createHash, randomUUID } from "node:crypto";
import { bearerToken, scopeAllows, type Authenticator } from "../http/auth.js";
import type { IngestQueue } from "../http/ingest-queue.js";
import { isLoopbackHost } from "../http/security.js";
import type { FeedbackStore, KeyScope } from "../store/index.js";
import { createReportServer } from "./server.js";
import { scopeForTool } from "./tools/index.js";

export const MCP_BODY_LIMIT = "4mb";
export const SESSION_IDLE_MS = 30 * 60_000;
export const MAX_SESSIONS = 1000;
/** Sessions one key (or, with no key configured, all clients together) may hold at once. */
export const MAX_SESSIONS_PER_KEY = 100;

export interface McpHttpOptions {
  store: FeedbackStore;
  auth: Authenticator;
  queue: IngestQueue;
  bodyLimit?: string | undefined;
  /** Close sessions without requests for this long. */
  sessionIdleMs?: number | undefined;
  maxSessions?: number | undefined;
  maxSessionsPerKey?: number | undefined;
}

interface Session {
  server: Server;
  transport: StreamableHTTPServerTransport;
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
  res: Response,
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
  res.status(status).json({ jsonrpc: "2.0", id, error: data ? { code, message, data } : { code, message } });
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  return isLoopbackHost(a);
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

export function mcpRouter(options: McpHttpOptions): Router {
  const { store, auth, queue } = options;
  const idleMs = options.sessionIdleMs ?? SESSION_IDLE_MS;
  const maxSessions = options.maxSessions ?? MAX_SESSIONS;
  const perCredential = Math.min(options.maxSessionsPerKey ?? MAX_SESSIONS_PER_KEY, maxSessions);
  const sessions = new Map<string, Session>();
  const ingest = queue.add.bind(queue);

  const closeSession = (id: string, session: Session) => {
    sessions.delete(id);
    session.server.close().catch(() => {});
  };

  const reap = () => {
    const now = Date.now();
    for (const [id, s] of sessions) if (s.active === 0 && now - s.lastSeen > idleMs) closeSession(id, s);
  };
  setInterval(reap, Math.min(60_000, Math.max(1000, Math.floor(idleMs / 2)))).unref();

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
    if (victim) closeSession(victim[0], victim[1]);
  };

  const track = (session: Session, res: Response) => {
    session.active++;
    session.lastSeen = Date.now();
    res.once("close", () => {
      session.active--;
      session.lastSeen = Date.now();
    });
  };

  const handle = async (req: Request, res: Response): Promise<void> => {
    if (req.method !== "POST" && req.method !== "GET" && req.method !== "DELETE") {
      res.setHeader("Allow", "GET, POST, DELETE");
      return sendRpcError(
        res,
        405,
        HTTP_ERROR,
        `Method ${req.method} is not allowed on /mcp; use POST (GET and DELETE with a session).`,
      );
    }

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
      res.setHeader("WWW-Authenticate", 'Bearer realm="patchworkmcp"');
      return sendRpcError(res, 401, HTTP_ERROR, outcome.message, { code: "unauthorized" });
    }
    const scope: KeyScope = outcome.result.scope ?? "admin";
    const credential = outcome.result.required ? credentialOf(bearerToken(req.headers.authorization)) : "";

    // Which session.
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
        const forbidden = firstForbidden(req.body, session.scope);
        if (forbidden) {
          return sendRpcError(
            res,
            403,
            HTTP_ERROR,
            `This API key lacks the feedback:${forbidden.need} scope needed for ${forbidden.what}.`,
            { code: "forbidden", required_scope: `feedback:${forbidden.need}`, key_scope: `feedback:${session.scope}` },
            forbidden.id,
          );
        }
      }
      track(session, res);
      await session.transport.handleRequest(req, res, req.body);
      return;
    }

    if (
      req.method !== "POST" ||
      !(Array.isArray(req.body) ? req.body.some(isInitializeRequest) : isInitializeRequest(req.body))
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
    const transport = new StreamableHTTPServerTransport({
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
    await transport.handleRequest(req, res, req.body);
    if (!transport.sessionId) await server.close();
  };

  const router = Router();
  router.use(express.json({ limit: options.bodyLimit ?? MCP_BODY_LIMIT, strict: false }));
  router.all("/", (req, res, next) => {
    handle(req, res).catch(next);
  });

  const bodyErrors: ErrorRequestHandler = (err: unknown, _req, res, next) => {
    const type = typeof err === "object" && err !== null ? (err as { type?: unknown }).type : undefined;
    if (type === "entity.too.large") {
      return sendRpcError(
        res,
        413,
        HTTP_ERROR,
        `The message is larger than /mcp accepts (${options.bodyLimit ?? MCP_BODY_LIMIT}).`,
        { code: "payload_too_large" },
      );
    }
    if (type === "entity.parse.failed")
      return sendRpcError(res, 400, -32700, "Parse error: the body is not valid JSON.");
    next(err);
  };
  router.use(bodyErrors);
  return router;
}
