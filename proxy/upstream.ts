/** What the proxy needs from an upstream server connection, whatever its transport. */
import type { Frame, RpcId } from "./jsonrpc.js";
import type { OversizedLine } from "./line-reader.js";

export interface UpstreamClosed {
  /** A sentence for the JSON-RPC errors of requests left unanswered. */
  reason: string;
  /** The child's exit code, for stdio upstreams. */
  exitCode?: number | null;
}

export interface UpstreamLink {
  start(): Promise<void>;
  /** Throws or rejects when the message could not be handed to the upstream (stdio answers synchronously). */
  send(frame: Frame): Promise<void> | void;
  /** Line transports: hand over a line as it is (newline included); throws like `send`. */
  sendRaw?(line: Buffer): void;
  /** HTTP upstreams: request headers reach the server (it checks `Mcp-Param-*` itself). */
  readonly forwardsHeaders?: boolean;
  /** Called once the negotiated protocol version is known (HTTP upstreams send it as a header). */
  setProtocolVersion(version: string): void;
  /** Stop the upstream (kill the child's process group, or end the HTTP session). */
  close(): Promise<void>;
  onmessage?: (frame: Frame) => void;
  /** Line transports offer each raw line here first; `true` means it was handled without parsing. */
  onrawline?: (line: Buffer) => boolean;
  onclose?: (info: UpstreamClosed) => void;
  /** HTTP upstreams (2025-11-25 SSE polling): upstream ended a request's stream to be resumed after `retryMs`. */
  onstreamclosed?: (requestId: RpcId, retryMs: number | undefined) => void;
  /** HTTP upstreams: the SSE `retry` interval upstream asked for. */
  onretry?: (ms: number) => void;
  /** Line transports: a line from the server was dropped for being longer than the limit. */
  ontoolong?: (line: OversizedLine) => void;
  /** Line transports: `true` when the server is not reading as fast as it is sent to, `false` once it caught up. */
  onpressure?: (full: boolean) => void;
  /** Line transports: stop or restart reading what the server writes (the client is not keeping up). */
  pauseReading?(paused: boolean): void;
}

export type UpstreamFactory = (label: string) => UpstreamLink;
