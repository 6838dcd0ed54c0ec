/**
 * A streamable-HTTP upstream, through the SDK's client transport used as a dumb
 * message pipe: it handles sessions, SSE streams and reconnection; the proxy
 * hands it messages and takes what comes back, unchanged.
 */
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { Frame, RpcMessage } from "./jsonrpc.js";
import type { Log } from "./log.js";
import type { UpstreamClosed, UpstreamLink } from "./upstream.js";

export interface HttpUpstreamOptions {
  url: URL;
  headers: Record<string, string>;
  label: string;
  log: Log;
}

export class HttpUpstream implements UpstreamLink {
  onmessage?: (frame: Frame) => void;
  onclose?: (info: UpstreamClosed) => void;
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
      } finally {
        if (init?.method === "GET") this.standaloneOpened?.();
      }
      return this.watchStream(res);
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

  async close(): Promise<void> {
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
  private watchStream(res: Response): Response {
    if (!res.body || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) return res;
    const source = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const { done, value } = await source.read();
          if (done) controller.close();
          else controller.enqueue(value);
        } catch (err) {
          if (!this.closing) void this.probe();
          controller.error(err);
        }
      },
      cancel: (reason) => source.cancel(reason),
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
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
