/**
 * Downstream over streamable HTTP at /mcp (plus /healthz). Each MCP session
 * gets its own upstream connection (its own child for stdio upstreams), so ids
 * never collide; the SDK's server transport is used as a pipe, and server
 * messages go out with `relatedRequestId` so they reach the stream of the call
 * they belong to. Streams are resumable (`Last-Event-ID`, see event-store.ts).
 * Idle sessions are reaped: clients rarely send DELETE.
 *
 * Those are 2025-11-25 sessions. 2026-07-28 requests have no session and are
 * told apart per request (see era.ts); downstream-http-modern.ts serves them.
 */
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import express, { type NextFunction, type Request, type Response } from "express";
import { randomUUID, timingSafeEqual } from "node:crypto";
import type { Server } from "node:http";
import { hostRejecter, isLoopbackHost } from "../src/net/host-policy.js";
import { isModernVersion } from "./era.js";
import { ModernFront } from "./downstream-http-modern.js";
import { boundedEventStore } from "./event-store.js";
import { isObject, isResponse, type Frame, type RpcId, type RpcMessage } from "./jsonrpc.js";
import type { CallRecorder } from "./calls.js";
import type { Log } from "./log.js";
import type { Reporter } from "./reporter.js";
import { ProxySession, type SessionConfig } from "./session.js";
import { SsePoller, requestIds } from "./sse-poll.js";
import type { UpstreamFactory } from "./upstream.js";

export interface HttpProxyOptions {
  host: string;
  port: number;
  makeUpstream: UpstreamFactory;
  config: SessionConfig;
  reporter: Reporter;
  log: Log;
  /** Troubleshooting details (`--debug`). */
  debug?: Log;
  /** Bearer key clients must send on /mcp; none when undefined. */
  apiKey?: string | undefined;
  /** Extra Host names to accept besides loopback names and the bind address ("*" = any). */
  allowedHosts: string[];
  /** Browser origins allowed to call /mcp. */
  allowedOrigins: string[];
  /** A session with no traffic and nothing pending for this long is closed, in ms. */
  idleTimeoutMs: number;
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes?: number;
  /** End a call's POST stream open this long without its answer, for the client to resume (SEP-1699), in ms; 0 = never. */
  ssePollAfterMs?: number;
  /** Records every upstream `tools/call`. */
  calls?: CallRecorder | undefined;
}

interface HttpSession {
  transport: StreamableHTTPServerTransport;
  session: ProxySession;
  poller: SsePoller;
  close: () => Promise<void>;
}

export interface RunningHttpProxy {
  url: string;
  server: Server;
  sessions: () => number;
  close: () => Promise<void>;
}

const rpcError = (res: Response, status: number, code: number, message: string, id: unknown = null) => {
  const idOut = typeof id === "string" || typeof id === "number" ? id : null;
  res.status(status).json({ jsonrpc: "2.0", error: { code, message }, id: idOut });
};

/** SSE `retry` the proxy asks of clients until upstream has said what it wants (SEP-1699), in ms. */
export const DEFAULT_SSE_RETRY_MS = 1000;

/**
 * A 2026-07-28 message: it claims the per-request envelope (unless that names a
 * 2025 revision), or the MCP-Protocol-Version header names a later revision.
 */
function isModernPost(req: Request): boolean {
  if (req.method !== "POST") return false;
  const body: unknown = req.body;
  if (Array.isArray(body))
    return body.some(
      (m) =>
        isObject(m) &&
        isObject(m.params) &&
        isObject(m.params._meta) &&
        "io.modelcontextprotocol/protocolVersion" in m.params._meta,
    );
  if (isObject(body) && isObject(body.params) && isObject(body.params._meta)) {
    const meta = body.params._meta;
    if ("io.modelcontextprotocol/protocolVersion" in meta) {
      const v = meta["io.modelcontextprotocol/protocolVersion"];
      return typeof v !== "string" || isModernVersion(v);
    }
  }
  const header = req.headers["mcp-protocol-version"];
  return typeof header === "string" && isModernVersion(header.trim());
}

/** DNS-rebinding and cross-site protection: a rebound page arrives with its own name in Host or Origin. */
function guard(options: HttpProxyOptions) {
  const rejectHost = hostRejecter({
    bindHost: options.host,
    allowedHosts: options.allowedHosts,
    allowedOrigins: options.allowedOrigins,
  });
  const origins = new Set(options.allowedOrigins.map((o) => o.replace(/\/$/, "").toLowerCase()));
  const key = options.apiKey ? Buffer.from(options.apiKey) : undefined;
  return (req: Request, res: Response, next: NextFunction) => {
    const hostProblem = rejectHost(req.headers.host);
    if (hostProblem) return rpcError(res, 403, -32000, hostProblem);
    const origin = req.headers.origin?.toLowerCase();
    if (origin !== undefined) {
      if (origins.has(origin)) {
        res.setHeader("Access-Control-Allow-Origin", req.headers.origin!);
        res.setHeader("Vary", "Origin");
        res.setHeader(
          "Access-Control-Allow-Headers",
          "Authorization, Content-Type, Mcp-Session-Id, Mcp-Protocol-Version, Mcp-Method, Mcp-Name, Last-Event-ID",
        );
        res.setHeader("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
        res.setHeader("Access-Control-Expose-Headers", "Mcp-Session-Id");
        if (req.method === "OPTIONS") return void res.status(204).end();
      } else if (origin !== `http://${(req.headers.host ?? "").toLowerCase()}`) {
        return rpcError(
          res,
          403,
          -32000,
          `Origin "${req.headers.origin}" is not allowed. Add it with --allowed-origins.`,
        );
      }
    }
    // Every route after /healthz needs the key (express matches /MCP and /mcp/ to "/mcp" too).
    if (key) {
      const given = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "")?.[1];
      const buf = Buffer.from(given ?? "");
      if (given === undefined || buf.length !== key.length || !timingSafeEqual(buf, key)) {
        res.setHeader("WWW-Authenticate", 'Bearer realm="patchworkmcp-proxy"');
        return rpcError(res, 401, -32001, "Unauthorized: send the proxy's key as Authorization: Bearer <key>.");
      }
    }
    next();
  };
}

const isInitialize = (body: unknown): boolean =>
  Array.isArray(body)
    ? body.some((m) => isObject(m) && m.method === "initialize")
    : isObject(body) && body.method === "initialize";

export async function startHttpProxy(options: HttpProxyOptions): Promise<RunningHttpProxy> {
  const { log } = options;
  const sessions = new Map<string, HttpSession>();
  const modern = new ModernFront({
    makeUpstream: options.makeUpstream,
    config: options.config,
    reporter: options.reporter,
    log,
    debug: options.debug,
    calls: options.calls,
  });
  /** The SSE retry upstream last asked for (HTTP upstreams): later sessions pass it on. */
  let retryMs = DEFAULT_SSE_RETRY_MS;

  async function openSession(): Promise<HttpSession> {
    const label = `upstream ${randomUUID().slice(0, 8)}`;
    const upstream = options.makeUpstream(label);
    let closed = false;
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: boundedEventStore(),
      retryInterval: retryMs,
      onsessioninitialized: (id) => {
        sessions.set(id, entry);
      },
    });
    const poller = new SsePoller({ afterMs: options.ssePollAfterMs ?? 0, debug: options.debug });
    const send = (frame: Frame, related?: RpcId) => {
      const msg = frame.msg as unknown as JSONRPCMessage;
      if (isResponse(frame.msg) && frame.msg.id !== undefined && frame.msg.id !== null) poller.answered(frame.msg.id);
      transport.send(msg, related === undefined ? undefined : { relatedRequestId: related }).catch((err: unknown) => {
        // The call's stream may have ended meanwhile: a notification or request still deserves the standalone stream.
        if (related !== undefined && (frame.msg as RpcMessage).method !== undefined) {
          transport.send(msg).catch(() => undefined);
          return;
        }
        log(`could not deliver a message to the client: ${err instanceof Error ? err.message : String(err)}`);
      });
    };
    const session = new ProxySession({
      upstream,
      config: options.config,
      reporter: options.reporter,
      log,
      ...(options.debug ? { debug: options.debug } : {}),
      sessionId: () => transport.sessionId,
      calls: options.calls,
      transport: "tcp",
      downstream: {
        send,
        // Upstream ended this call's stream to be resumed later: so does the client's (it resumes here).
        closeStream: (requestId) => transport.closeSSEStream(requestId),
      },
      onUpstreamClosed: (info) => {
        if (!closed) log(`${label}: ${info.reason}; ending its session`);
        // Let the error responses just queued reach their streams first.
        setImmediate(() => void close());
      },
    });
    const close = async () => {
      if (closed) return;
      closed = true;
      if (transport.sessionId) sessions.delete(transport.sessionId);
      await upstream.close().catch(() => undefined);
      await transport.close().catch(() => undefined);
    };
    const entry: HttpSession = { transport, session, poller, close };
    upstream.onretry = (ms) => {
      retryMs = ms;
    };
    transport.onmessage = (msg, extra) => {
      const m = msg as unknown as RpcMessage;
      if (m.method !== undefined && (typeof m.id === "string" || typeof m.id === "number"))
        poller.received(m.id, extra?.closeSSEStream);
      session.fromDownstream({ msg: m });
    };
    transport.onclose = () => void close();
    transport.onerror = (err) => log(`client transport: ${err.message}`);
    await upstream.start();
    await transport.start();
    return entry;
  }

  const app = express();
  app.disable("x-powered-by");
  app.set("case sensitive routing", true);
  app.set("strict routing", true);
  app.get("/healthz", (_req, res) => {
    res.json({ ok: true, sessions: sessions.size });
  });
  app.use(guard(options));
  app.use("/mcp", express.json({ limit: options.bodyLimitBytes ?? 64 * 1024 * 1024, type: () => true }));
  app.all("/mcp", async (req, res) => {
    try {
      if (isModernPost(req)) {
        await modern.handle(req, res, req.body);
        return;
      }
      const sid = req.headers["mcp-session-id"];
      if (typeof sid === "string") {
        const existing = sessions.get(sid);
        if (!existing)
          return rpcError(res, 404, -32001, "Session not found: it ended or expired. Initialize a new one.");
        existing.session.lastActivity = Date.now();
        if (req.method === "POST") existing.poller.watch(res, requestIds(req.body));
        await existing.transport.handleRequest(req, res, req.body);
        return;
      }
      if (req.method === "GET") {
        // No session, so no stream to open: 2026-07-28 has none, and 2025-11-25 opens one per session.
        res.setHeader("Allow", "POST");
        return rpcError(res, 405, -32000, "Method not allowed: GET needs the Mcp-Session-Id of a session.");
      }
      if (req.method !== "POST" || !isInitialize(req.body)) {
        return rpcError(
          res,
          400,
          -32000,
          "Bad Request: no Mcp-Session-Id header, and this is not an initialize request.",
          isObject(req.body) ? req.body.id : null,
        );
      }
      let entry: HttpSession;
      try {
        entry = await openSession();
      } catch (err) {
        return rpcError(
          res,
          502,
          -32000,
          `The upstream MCP server could not be started: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      await entry.transport.handleRequest(req, res, req.body);
      if (!entry.transport.sessionId) await entry.close();
    } catch (err) {
      log(`request failed: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) rpcError(res, 500, -32603, "Internal error in the proxy.");
    }
  });
  // Malformed JSON and oversized bodies: a JSON-RPC error, not express's HTML page.
  app.use(
    (err: { status?: number; type?: string; message?: string }, _req: Request, res: Response, _next: NextFunction) => {
      const status = err.status ?? 500;
      if (status === 413) return rpcError(res, 413, -32600, "Request body too large.");
      if (status >= 400 && status < 500)
        return rpcError(res, 400, -32700, `Parse error: ${err.message ?? "invalid JSON"}`);
      log(`request failed: ${err.message ?? String(err)}`);
      rpcError(res, 500, -32603, "Internal error in the proxy.");
    },
  );

  const reaper = setInterval(
    () => {
      const now = Date.now();
      for (const [id, s] of sessions) {
        const idle = now - s.session.lastActivity;
        // A call still pending holds its session open, but not forever: a client that vanished
        // mid-call, or an upstream that never answers, must not pin a child process for good.
        if (idle > options.idleTimeoutMs && (s.session.pendingCount === 0 || idle > 4 * options.idleTimeoutMs)) {
          log(`session ${id} idle for ${Math.round(idle / 1000)} s: closing it`);
          void s.close();
        }
      }
    },
    Math.max(250, Math.min(options.idleTimeoutMs / 4, 60_000)),
  );
  reaper.unref();

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, options.host, () => resolve(s));
    // The Host check stops browsers, not other programs: a network-facing proxy needs a key.
    const bindName = options.host.toLowerCase();
    if (!options.apiKey && !isLoopbackHost(bindName)) {
      log(
        `WARNING: listening on ${options.host} with NO --listen-key: anyone who can reach this port can use every upstream tool.`,
      );
    }
    s.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const hostPart = options.host.includes(":") ? `[${options.host}]` : options.host;
  return {
    url: `http://${hostPart}:${port}/mcp`,
    server,
    sessions: () => sessions.size,
    async close() {
      clearInterval(reaper);
      await Promise.all([...sessions.values()].map((s) => s.close()));
      await modern.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
