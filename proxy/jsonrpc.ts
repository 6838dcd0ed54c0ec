/**
 * Raw JSON-RPC as the proxy sees it. A `Frame` carries the parsed message and,
 * when it came off a line-oriented transport unchanged, its original bytes, so
 * that untouched messages are forwarded byte for byte without re-serialising.
 */
export type RpcId = string | number;

export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

export interface RpcMessage {
  jsonrpc: "2.0";
  id?: RpcId | null;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: RpcError;
}

export interface Frame {
  msg: RpcMessage;
  /** The exact line received, newline included; absent once the message was changed or when it came from an object transport. */
  raw?: Buffer;
  /** HTTP upstreams: the HTTP status an error answer came with (a modern HTTP downstream answers with it). */
  status?: number;
  /** HTTP upstreams: the client request whose response stream carried this message. */
  related?: RpcId;
  /** HTTP downstreams: request headers to pass upstream as they came (`Mcp-Param-*`). */
  headers?: Record<string, string>;
}

/** Ids of requests the proxy itself sends upstream start with this, so they never collide with a client's. */
export const RESERVED_ID_PREFIX = "patchworkmcp-proxy:";

/** JSON-RPC error code the SDK uses for a closed connection. */
export const CONNECTION_CLOSED = -32000;
export const INVALID_REQUEST = -32600;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
export const PARSE_ERROR = -32700;

export const isRequest = (m: RpcMessage): boolean =>
  typeof m.method === "string" && m.id !== undefined && m.id !== null;
export const isNotification = (m: RpcMessage): boolean =>
  typeof m.method === "string" && (m.id === undefined || m.id === null);
export const isResponse = (m: RpcMessage): boolean => m.method === undefined && ("result" in m || "error" in m);

/** The message as one line for a line transport, newline included: the bytes received when it is unchanged. */
export function serialise(frame: Frame): Buffer | string {
  return frame.raw ?? `${JSON.stringify(frame.msg)}\n`;
}

export function resultFrame(id: RpcId, result: Record<string, unknown>): Frame {
  return { msg: { jsonrpc: "2.0", id, result } };
}

export function errorFrame(id: RpcId | null, code: number, message: string): Frame {
  return { msg: { jsonrpc: "2.0", id, error: { code, message } } };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Parse one line (newline included) into frames. A batch (JSON array) becomes
 * one frame per element. Anything that is not a JSON-RPC object yields `undefined`.
 */
export function parseLine(line: Buffer): Frame[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line.toString("utf8"));
  } catch {
    return undefined;
  }
  if (Array.isArray(value)) {
    if (!value.every(isObject)) return undefined;
    return value.map((msg) => ({ msg: msg as unknown as RpcMessage }));
  }
  if (!isObject(value)) return undefined;
  return [{ msg: value as unknown as RpcMessage, raw: line }];
}

export function paramsOf(m: RpcMessage): Record<string, unknown> {
  return isObject(m.params) ? m.params : {};
}

export function progressTokenOf(m: RpcMessage): RpcId | undefined {
  const meta = paramsOf(m)._meta;
  if (!isObject(meta)) return undefined;
  const token = meta.progressToken;
  return typeof token === "string" || typeof token === "number" ? token : undefined;
}

export { isObject };
