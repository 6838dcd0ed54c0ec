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

  constructor(private readonly options: HttpUpstreamOptions) {
    this.transport = new StreamableHTTPClientTransport(options.url, { requestInit: { headers: options.headers } });
    this.transport.onmessage = (msg) => this.onmessage?.({ msg: msg as unknown as RpcMessage });
    this.transport.onerror = (err) => options.log(`${options.label}: ${err.message}`);
    this.transport.onclose = () => this.finish("the upstream MCP server closed the connection");
  }

  start(): Promise<void> {
    return this.transport.start();
  }

  async send(frame: Frame): Promise<void> {
    if (this.closed) throw new Error("the upstream MCP connection is closed");
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
