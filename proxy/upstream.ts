/** What the proxy needs from an upstream server connection, whatever its transport. */
import type { Frame } from "./jsonrpc.js";

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
  /** Called once the negotiated protocol version is known (HTTP upstreams send it as a header). */
  setProtocolVersion(version: string): void;
  /** Stop the upstream (kill the child's process group, or end the HTTP session). */
  close(): Promise<void>;
  onmessage?: (frame: Frame) => void;
  /** Line transports offer each raw line here first; `true` means it was handled without parsing. */
  onrawline?: (line: Buffer) => boolean;
  onclose?: (info: UpstreamClosed) => void;
}

export type UpstreamFactory = (label: string) => UpstreamLink;
