/**
 * A streamable-HTTP upstream. 2025-11-25 traffic goes through the SDK's client
 * transport used as a dumb message pipe: it handles sessions, SSE streams and
 * reconnection; the proxy hands it messages and takes what comes back,
 * unchanged. 2026-07-28 requests (see era.ts) have no session: each is one
 * POST of its own, with the headers that revision requires, and whatever
 * comes back — JSON or an SSE stream, an error with its HTTP status
 * included — is handed on as it is (see `sendModern`).
 */
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { hasEnvelopeClaim, headersFor } from "./era.js";
import {
  CONNECTION_CLOSED,
  errorFrame,
  isObject,
  isRequest,
  isResponse,
  paramsOf,
  type Frame,
  type RpcId,
  type RpcMessage,
} from "./jsonrpc.js";
import type { Log } from "./log.js";
import { sseParser } from "./sse.js";
import type { UpstreamClosed, UpstreamLink } from "./upstream.js";

/** The ids of the requests in a POST body (one message or a batch). */
function requestIdsOf(body: unknown): RpcId[] {
  if (typeof body !== "string") return [];
  try {
    const value: unknown = JSON.parse(body);
    return (Array.isArray(value) ? value : [value]).flatMap((m) =>
      isObject(m) && typeof m.method === "string" && (typeof m.id === "string" || typeof m.id === "number")
        ? [m.id]
        : [],
    );
  } catch {
    return [];
  }
}

export interface HttpUpstreamOptions {
  url: URL;
  headers: Record<string, string>;
  label: string;
  log: Log;
}

export class HttpUpstream implements UpstreamLink {
  onmessage?: (frame: Frame) => void;
  onclose?: (info: UpstreamClosed) => void;
  onstreamclosed?: (requestId: RpcId, retryMs: number | undefined) => void;
  onretry?: (ms: number) => void;
  readonly forwardsHeaders = true;
  /** 2026-07-28 requests in flight: aborting one is how HTTP cancels it. */
  private readonly modern = new Map<RpcId, AbortController>();
  private readonly transport: StreamableHTTPClientTransport;
  private closed = false;
  private closing = false;
  /** Later messages wait here until the standalone GET stream is open (see send). */
  private gate: Promise<void> = Promise.resolve();
  private standaloneOpened?: () => void;

  constructor(private readonly options: HttpUpstreamOptions) {
    const observingFetch = async (url: string | URL, init?: RequestInit): Promise<Response> => {
      let res: Response;
      try {
        res = await fetch(url, init);
      } catch (err) {
        await this.tookThenDied(err, init);
        throw err;
      } finally {
        if (init?.method === "GET") this.standaloneOpened?.();
      }
      return this.watchStream(res, init?.method === "POST" ? requestIdsOf(init.body) : []);
    };
    this.transport = new StreamableHTTPClientTransport(options.url, {
      requestInit: { headers: options.headers },
      fetch: observingFetch,
    });
    this.transport.onmessage = (msg) => this.onmessage?.({ msg: msg as unknown as RpcMessage });
    this.transport.onerror = (err) => options.log(`${options.label}: ${err.message}`);
    this.transport.onclose = () => this.finish("the upstream MCP server closed the connection");
  }

  start(): Promise<void> {
    return this.transport.start();
  }

  async send(frame: Frame): Promise<void> {
    if (this.closed) throw new Error("the upstream MCP connection is closed");
    if (hasEnvelopeClaim(frame.msg) || this.isModernCancel(frame.msg)) return this.sendModern(frame);
    if (frame.msg.method === "notifications/initialized") {
      // The SDK opens the standalone GET stream in the background after this
      // notification. A server message sent on it before it is open is lost
      // (SDK servers send sampling and elicitation there), so hold what
      // follows until the GET has an answer, or at most a moment.
      this.gate = new Promise((resolve) => {
        const timer = setTimeout(resolve, 2000);
        this.standaloneOpened = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      await this.transport.send(frame.msg as unknown as JSONRPCMessage);
      return;
    }
    await this.gate;
    await this.transport.send(frame.msg as unknown as JSONRPCMessage);
  }

  setProtocolVersion(version: string): void {
    this.transport.setProtocolVersion(version);
  }

  private isModernCancel(m: RpcMessage): boolean {
    const rid = paramsOf(m).requestId;
    return (
      m.method === "notifications/cancelled" &&
      (typeof rid === "string" || typeof rid === "number") &&
      this.modern.has(rid)
    );
  }

  /**
   * One 2026-07-28 message as one POST. Resolves once upstream took it (its
   * answer arrives through `onmessage`); rejects when the POST could not be
   * made. HTTP has no `notifications/cancelled` in that revision: closing
   * the request's stream is the cancellation.
   */
  private async sendModern(frame: Frame): Promise<void> {
    const m = frame.msg;
    if (m.method === "notifications/cancelled") {
      this.modern.get(paramsOf(m).requestId as RpcId)?.abort();
      return;
    }
    const id = isRequest(m) ? (m.id as RpcId) : undefined;
    const abort = new AbortController();
    if (id !== undefined) this.modern.set(id, abort);
    let res: Response;
    try {
      res = await fetch(this.options.url, {
        method: "POST",
        headers: {
          ...this.options.headers,
          ...frame.headers,
          ...headersFor(m),
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
        },
        body: JSON.stringify(m),
        signal: abort.signal,
      });
    } catch (err) {
      if (id !== undefined) this.modern.delete(id);
      await this.tookThenDied(err);
      throw err;
    }
    void this.readModern(res, id, abort.signal).finally(() => {
      if (id !== undefined) this.modern.delete(id);
    });
  }

  private async readModern(res: Response, id: RpcId | undefined, signal: AbortSignal): Promise<void> {
    const type = res.headers.get("content-type") ?? "";
    let answered = id === undefined;
    const deliver = (value: unknown) => {
      for (const msg of Array.isArray(value) ? value : [value]) {
        if (!isObject(msg)) continue;
        const rpc = msg as unknown as RpcMessage;
        const frame: Frame = { msg: rpc };
        if (id !== undefined) frame.related = id;
        if (isResponse(rpc)) {
          // An upstream that could not tie its error to the request still answers it.
          if ((rpc.id === null || rpc.id === undefined) && id !== undefined && !answered) rpc.id = id;
          if (rpc.id === id) answered = true;
          if (!res.ok) frame.status = res.status;
        }
        this.onmessage?.(frame);
      }
    };
    try {
      if (type.includes("text/event-stream") && res.body) {
        const parser = sseParser((e) => {
          if (e.data.trim() === "") return;
          try {
            deliver(JSON.parse(e.data));
          } catch {
            this.options.log(`${this.options.label}: upstream sent an SSE event that is not JSON; dropped it`);
          }
        });
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.push(value);
        }
      } else {
        const text = await res.text();
        if (text.trim() !== "") {
          try {
            deliver(JSON.parse(text));
          } catch {
            // Not JSON (a proxy's HTML page, a plain "Not Found"): the request still gets its answer below.
          }
        }
        if (!answered && id !== undefined) {
          const why = text.trim() === "" ? "" : `: ${text.trim().slice(0, 200)}`;
          const frame = errorFrame(id, CONNECTION_CLOSED, `The upstream MCP server answered HTTP ${res.status}${why}`);
          frame.status = res.ok ? 502 : res.status;
          frame.related = id;
          answered = true;
          this.onmessage?.(frame);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      this.options.log(`${this.options.label}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!answered && id !== undefined && !signal.aborted) {
      // 2026-07-28 streams cannot be resumed: the request is lost, and the client may send it again.
      const frame = errorFrame(
        id,
        CONNECTION_CLOSED,
        "The upstream MCP server ended the response stream without answering.",
      );
      frame.related = id;
      this.onmessage?.(frame);
    }
  }

  async close(): Promise<void> {
    for (const abort of this.modern.values()) abort.abort();
    if (this.closing) return;
    this.closing = true;
    if (!this.closed && this.transport.sessionId) {
      try {
        // Clients rarely say goodbye; the proxy does, so upstream sessions do not pile up.
        // Bounded: an unresponsive upstream host must not hold up shutdown.
        await Promise.race([
          this.transport.terminateSession(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no answer within 3 s")), 3000).unref()),
        ]);
      } catch (err) {
        this.options.log(
          `${this.options.label}: could not end the upstream session: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    await this.transport.close();
  }

  /**
   * A server that dies mid-call breaks its SSE stream without answering. The
   * SDK transport only reports the broken stream, not which request it
   * carried, so on an abnormal end ask whether the server still answers at
   * all; if not, the upstream is gone and every pending request gets its error.
   */
  private watchStream(res: Response, requestIds: RpcId[]): Response {
    if (!res.body || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) return res;
    const source = res.body.getReader();
    // SEP-1699 polling (2025-11-25): a server may end a call's stream after an event id, saying when to
    // come back (`retry`); the SDK resumes it upstream, and the client's stream is ended the same way.
    const unanswered = new Set(requestIds);
    let resumable = false;
    const watch = sseParser(
      (e) => {
        if (e.id !== undefined) resumable = true;
        if (unanswered.size === 0 || !e.data.includes('"id"')) return;
        try {
          const msg = JSON.parse(e.data) as RpcMessage;
          if (isResponse(msg) && (typeof msg.id === "string" || typeof msg.id === "number")) unanswered.delete(msg.id);
        } catch {
          // The SDK reports what it cannot parse.
        }
      },
      (ms) => this.onretry?.(ms),
    );
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { done, value } = await source.read();
          if (done) {
            controller.close();
            if (resumable && !this.closing) for (const id of unanswered) this.onstreamclosed?.(id, watch.retryMs);
          } else {
            watch.push(value);
            controller.enqueue(value);
          }
        } catch (err) {
          if (!this.closing) void this.probe();
          controller.error(err);
        }
      },
      cancel: (reason) => source.cancel(reason),
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  }

  /**
   * A POST that failed after its connection was made (reset, "other side closed") may have been
   * taken by a server that then died. Ask whether it still answers before the request is called
   * "not taken": if it is gone, the close is reported first, and every pending request (this one
   * included) gets the one "went away before answering" error. A refused connection was not taken.
   */
  private async tookThenDied(err: unknown, init?: RequestInit): Promise<void> {
    if (this.closing || (init !== undefined && init.method !== "POST")) return;
    if (err instanceof Error && err.name === "AbortError") return;
    const code = err instanceof Error && isObject(err.cause) ? err.cause.code : undefined;
    if (code === "ECONNREFUSED") return;
    await this.probe();
  }

  private async probe(): Promise<void> {
    try {
      // Any HTTP answer at all (a 400 for this session-less GET is typical) means the server is alive.
      const res = await fetch(this.options.url, {
        method: "GET",
        headers: { ...this.options.headers, Accept: "text/event-stream" },
        signal: AbortSignal.timeout(3000),
      });
      await res.body?.cancel();
    } catch {
      if (!this.closing) this.finish("the upstream MCP server went away");
    }
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.({ reason });
  }
}
