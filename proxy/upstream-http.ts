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
  /** Later messages wait here until the standalone GET stream is open (see send). */
  private gate: Promise<void> = Promise.resolve();
  private standaloneOpened?: () => void;

  constructor(private readonly options: HttpUpstreamOptions) {
    const observingFetch = async (url: string | URL, init?: RequestInit): Promise<Response> => {
      try {
        return await fetch(url, init);
      } finally {
        if (init?.method === "GET") this.standaloneOpened?.();
      }
    };
    this.transport = new StreamableHTTPClientTransport(options.url, { requestInit: { headers: options.headers }, fetch: observingFetch });
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
    if (this.closed) return;
    try {
      // Clients rarely say goodbye; the proxy does, so upstream sessions do not pile up.
      if (this.transport.sessionId) await this.transport.terminateSession();
    } catch (err) {
      this.options.log(`${this.options.label}: could not end the upstream session: ${err instanceof Error ? err.message : String(err)}`);
    }
    await this.transport.close();
  }

  private finish(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.({ reason });
  }
}
