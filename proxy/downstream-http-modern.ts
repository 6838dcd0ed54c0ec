/**
 * 2026-07-28 over HTTP: no sessions. Each request is one POST, answered with
 * JSON or, when the server has something to say first (progress, a
 * subscription's notifications), an SSE stream scoped to that request that
 * the final answer ends. Closing that stream is how a client cancels.
 *
 * Every such request, from every client, goes through one shared
 * `ProxySession` and one upstream (a single child for a stdio upstream; an
 * HTTP upstream gets each request as its own POST). So that ids of different
 * clients never collide there, each request travels under an id of the
 * proxy's making and gets its own back on the way out, the subscription id of
 * `subscriptions/listen` included. Nothing else in the messages is touched.
 *
 * Before anything goes upstream the standard headers are checked against the
 * body, as the revision requires of servers (400 + -32020): a stdio upstream
 * never sees them, and an HTTP upstream gets them recomputed from the body.
 */
import type { Request, Response } from "express";
import {
  CLIENT_CAPABILITIES_META,
  PROTOCOL_VERSION_META,
  SUBSCRIPTION_ID_META,
  UNSUPPORTED_PROTOCOL_VERSION,
  headerProblem,
  statusForError,
} from "./era.js";
import {
  INVALID_PARAMS,
  INVALID_REQUEST,
  isObject,
  isResponse,
  type Frame,
  type RpcId,
  type RpcMessage,
} from "./jsonrpc.js";
import type { Log } from "./log.js";
import { paramHeaderProblem } from "./param-headers.js";
import type { Reporter } from "./reporter.js";
import { ProxySession, type SessionConfig } from "./session.js";
import type { UpstreamFactory, UpstreamLink } from "./upstream.js";
import type { CallRecorder } from "./calls.js";

export interface ModernFrontOptions {
  makeUpstream: UpstreamFactory;
  config: SessionConfig;
  reporter: Reporter;
  log: Log;
  debug?: Log | undefined;
  /** Records every upstream `tools/call`. */
  calls?: CallRecorder | undefined;
}

interface Exchange {
  res: Response;
  clientId: RpcId;
  acceptsSse: boolean;
  streaming: boolean;
}

interface Shared {
  session: ProxySession;
  upstream: UpstreamLink;
  exchanges: Map<RpcId, Exchange>;
}

const headerOf = (req: Request) => (name: string) => {
  const v = req.headers[name];
  return typeof v === "string" ? v.trim() : Array.isArray(v) ? v.join(",").trim() : undefined;
};

const rpcError = (res: Response, status: number, id: unknown, code: number, message: string, data?: unknown) => {
  const idOut = typeof id === "string" || typeof id === "number" ? id : null;
  res
    .status(status)
    .json({ jsonrpc: "2.0", id: idOut, error: { code, message, ...(data === undefined ? {} : { data }) } });
};

/** The message as the client must see it: its own id, in the id and in a subscription's `_meta`. */
function withClientIds(m: RpcMessage, internal: RpcId, client: RpcId): RpcMessage {
  const out: RpcMessage = { ...m };
  if (isResponse(m) && m.id === internal) out.id = client;
  for (const part of ["params", "result"] as const) {
    const body = m[part];
    const meta = isObject(body) ? body._meta : undefined;
    if (isObject(meta) && meta[SUBSCRIPTION_ID_META] === internal)
      out[part] = { ...body, _meta: { ...meta, [SUBSCRIPTION_ID_META]: client } };
  }
  return out;
}

/** What a well-formed envelope must hold (basic/index.mdx): else -32602, HTTP 400. */
function envelopeProblem(m: RpcMessage): string | undefined {
  const meta = (m.params as Record<string, unknown>)._meta as Record<string, unknown>;
  if (typeof meta[PROTOCOL_VERSION_META] !== "string")
    return `${PROTOCOL_VERSION_META}: expected a protocol version string`;
  if (m.id !== undefined && !isObject(meta[CLIENT_CAPABILITIES_META]))
    return `${CLIENT_CAPABILITIES_META}: missing or not an object`;
  return undefined;
}

export class ModernFront {
  private shared?: Promise<Shared> | undefined;
  private seq = 0;
  private closed = false;

  constructor(private readonly options: ModernFrontOptions) {}

  /** Answer one 2026-07-28 POST (`body` is the parsed JSON). */
  async handle(req: Request, res: Response, body: unknown): Promise<void> {
    if (Array.isArray(body))
      return rpcError(
        res,
        400,
        null,
        INVALID_REQUEST,
        "Bad Request: JSON-RPC batches may not carry 2026-07-28 requests.",
      );
    const m = body as RpcMessage;
    if (!isObject(body) || typeof m.method !== "string")
      return rpcError(
        res,
        400,
        m?.id,
        INVALID_REQUEST,
        "Bad Request: the body is not a JSON-RPC request or notification.",
      );
    const header = headerOf(req);
    const version = header("mcp-protocol-version");
    const claims = isObject(m.params) && isObject(m.params._meta) && PROTOCOL_VERSION_META in m.params._meta;
    if (!claims) {
      if (m.method === "initialize")
        return rpcError(
          res,
          400,
          m.id,
          -32020,
          "Bad Request: an initialize request (the 2025-11-25 handshake) came with a 2026-07-28 MCP-Protocol-Version header.",
          { mismatch: { header: version, body: "initialize" } },
        );
      return rpcError(
        res,
        400,
        m.id,
        INVALID_PARAMS,
        `Invalid params: the MCP-Protocol-Version header names ${version}, but the request has no ${PROTOCOL_VERSION_META} in params._meta.`,
      );
    }
    const bad = envelopeProblem(m);
    if (bad)
      return rpcError(
        res,
        400,
        m.id,
        INVALID_PARAMS,
        `Invalid _meta envelope for protocol revision 2026-07-28: ${bad}`,
      );
    const problem = headerProblem(m, header);
    if (problem) return rpcError(res, 400, m.id, problem.code, problem.message, problem.data);

    let shared: Shared;
    try {
      shared = await this.open();
    } catch (err) {
      return rpcError(
        res,
        502,
        m.id,
        -32603,
        `The upstream MCP server could not be started: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    // `Mcp-Param-*` (SEP-2243) belong to the tool's own schema: intermediaries pass them on as they came.
    const forwarded: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (name.startsWith("mcp-param-") && typeof value === "string") forwarded[name] = value;
    // A stdio server judges the revision once per connection, and this one connection is shared by
    // every HTTP client: a revision its discover result did not offer is refused here, as it would be.
    const offered = shared.session.upstreamVersions;
    const asked = m.params && (m.params._meta as Record<string, unknown>)[PROTOCOL_VERSION_META];
    if (!shared.upstream.forwardsHeaders && offered && typeof asked === "string" && !offered.includes(asked))
      return rpcError(res, 400, m.id, UNSUPPORTED_PROTOCOL_VERSION, `Unsupported protocol version: ${asked}`, {
        supported: offered,
        requested: asked,
      });
    // In front of a server that never sees headers (stdio), the proxy checks `Mcp-Param-*` as it would.
    const params = isObject(m.params) ? m.params : {};
    if (m.method === "tools/call" && typeof params.name === "string" && !shared.upstream.forwardsHeaders) {
      const marks = await shared.session.paramHeadersFor(params.name, { msg: m });
      const bad = paramHeaderProblem(marks, params.arguments, header);
      if (bad) return rpcError(res, 400, m.id, bad.code, bad.message, bad.data);
    }
    const clientId = m.id;
    if (clientId === undefined || clientId === null) {
      shared.session.fromDownstream({ msg: m, headers: forwarded });
      res.status(202).end();
      return;
    }
    const internal = `h${++this.seq}`;
    const exchange: Exchange = {
      res,
      clientId,
      acceptsSse: (req.headers.accept ?? "").includes("text/event-stream"),
      streaming: false,
    };
    shared.exchanges.set(internal, exchange);
    res.on("close", () => {
      if (!shared.exchanges.delete(internal)) return;
      // The client closed its stream before the answer: that is a cancellation in this revision.
      shared.session.fromDownstream({
        msg: {
          jsonrpc: "2.0",
          method: "notifications/cancelled",
          params: { requestId: internal, reason: "The client closed the request's stream." },
        },
      });
    });
    shared.session.fromDownstream({ msg: { ...m, id: internal }, headers: forwarded });
  }

  private open(): Promise<Shared> {
    if (this.closed) return Promise.reject(new Error("the proxy is stopping"));
    this.shared ??= (async () => {
      const { log } = this.options;
      const upstream = this.options.makeUpstream("upstream (2026-07-28, shared)");
      const exchanges = new Map<RpcId, Exchange>();
      const session = new ProxySession({
        upstream,
        config: this.options.config,
        reporter: this.options.reporter,
        log,
        ...(this.options.debug ? { debug: this.options.debug } : {}),
        // No sessions: each report's session id comes from its caller (see era.ts callerOf).
        sessionId: () => undefined,
        calls: this.options.calls,
        transport: "tcp",
        downstream: { send: (frame, related) => this.deliver(exchanges, frame, related) },
        onUpstreamClosed: (info) => {
          log(`the shared 2026-07-28 upstream: ${info.reason}; the next request starts another`);
          this.shared = undefined;
          setImmediate(() => void upstream.close().catch(() => undefined));
        },
      });
      try {
        await upstream.start();
      } catch (err) {
        this.shared = undefined;
        throw err;
      }
      return { session, upstream, exchanges };
    })();
    return this.shared;
  }

  private deliver(exchanges: Map<RpcId, Exchange>, frame: Frame, related?: RpcId): void {
    const m = frame.msg;
    const key = isResponse(m) && (typeof m.id === "string" || typeof m.id === "number") ? m.id : related;
    const exchange = key === undefined ? undefined : exchanges.get(key);
    if (!exchange || key === undefined) {
      this.options.debug?.(`no open request stream for a ${m.method ?? "response"} from upstream; dropped it`);
      return;
    }
    const out = withClientIds(m, key, exchange.clientId);
    const { res } = exchange;
    if (isResponse(m)) {
      exchanges.delete(key);
      if (exchange.streaming) {
        res.end(`event: message\ndata: ${JSON.stringify(out)}\n\n`);
        return;
      }
      const status = frame.status ?? (m.error ? statusForError(m.error.code) : 200);
      res.status(status).json(out);
      return;
    }
    if (!exchange.acceptsSse) return;
    if (!exchange.streaming) {
      exchange.streaming = true;
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      res.flushHeaders();
    }
    res.write(`event: message\ndata: ${JSON.stringify(out)}\n\n`);
  }

  async close(): Promise<void> {
    this.closed = true;
    const shared = await this.shared?.catch(() => undefined);
    this.shared = undefined;
    if (!shared) return;
    for (const ex of shared.exchanges.values()) ex.res.end();
    shared.exchanges.clear();
    await shared.upstream.close().catch(() => undefined);
  }
}
