/**
 * The two protocol eras as the proxy tells them apart. A 2025-11-25 (legacy)
 * client opens with `initialize`; a 2026-07-28 (modern) client sends no
 * handshake and puts its protocol version, capabilities and info in every
 * request's `params._meta` (the per-request envelope). The proxy judges each
 * request by its own envelope, never by a connection-wide guess, so one
 * stdio connection may probe `server/discover` and then fall back to
 * `initialize`, as dual-era clients do.
 *
 * Also here: the HTTP header rules of 2026-07-28 (`MCP-Protocol-Version`,
 * `Mcp-Method`, `Mcp-Name` mirror the body; a disagreement is -32020) and the
 * HTTP status a modern error goes out with.
 */
import { createHash } from "node:crypto";
import { isObject, type RpcMessage } from "./jsonrpc.js";

export const PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion";
export const CLIENT_INFO_META = "io.modelcontextprotocol/clientInfo";
export const CLIENT_CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities";
export const SERVER_INFO_META = "io.modelcontextprotocol/serverInfo";
export const SUBSCRIPTION_ID_META = "io.modelcontextprotocol/subscriptionId";

/** -32020: the request headers and body disagree (2026-07-28). */
export const HEADER_MISMATCH = -32020;
export const MISSING_CLIENT_CAPABILITY = -32021;
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** The last revision with a handshake. */
const LAST_LEGACY_REVISION = "2025-11-25";

/**
 * Revisions compare as strings, as the SDKs do: anything after the last
 * handshake revision is modern, an unknown one ("v999") included, so that
 * it gets the modern answer (-32022, from upstream) rather than a session error.
 */
export const isModernVersion = (v: string): boolean => v > LAST_LEGACY_REVISION;

const metaOf = (m: RpcMessage): Record<string, unknown> | undefined =>
  isObject(m.params) && isObject(m.params._meta) ? m.params._meta : undefined;

/** The request claims the per-request envelope (well-formed or not: a bad claim still gets the modern errors). */
export function hasEnvelopeClaim(m: RpcMessage): boolean {
  const meta = metaOf(m);
  return meta !== undefined && PROTOCOL_VERSION_META in meta;
}

/** The version a modern request names in its envelope. */
export function envelopeVersion(m: RpcMessage): string | undefined {
  const v = metaOf(m)?.[PROTOCOL_VERSION_META];
  return typeof v === "string" ? v : undefined;
}

/** A request of the modern era: its envelope names a revision after 2025-11-25. */
export function isModernRequest(m: RpcMessage): boolean {
  const v = envelopeVersion(m);
  return v !== undefined && isModernVersion(v);
}

/** The parts of a modern envelope the proxy's own requests upstream must carry too. */
export function envelopeForOwnRequests(m: RpcMessage): Record<string, unknown> | undefined {
  const meta = metaOf(m);
  if (!meta || !isModernRequest(m)) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of [PROTOCOL_VERSION_META, CLIENT_CAPABILITIES_META, CLIENT_INFO_META])
    if (key in meta) out[key] = meta[key];
  return out;
}

/** The client name, version and protocol revision a modern request's envelope names. */
export function envelopeClient(m: RpcMessage): { name?: string; version?: string; protocolVersion?: string } {
  const meta = metaOf(m);
  const out: { name?: string; version?: string; protocolVersion?: string } = {};
  if (!meta) return out;
  const info = meta[CLIENT_INFO_META];
  if (isObject(info) && typeof info.name === "string") out.name = info.name;
  if (isObject(info) && typeof info.version === "string") out.version = info.version;
  const v = meta[PROTOCOL_VERSION_META];
  if (typeof v === "string") out.protocolVersion = v;
  return out;
}

/** Who is asking, for a report's context, when no session says so. */
export interface Caller {
  /** `name/version` from the envelope's clientInfo. */
  clientType?: string;
  /** Stable per client (and per trace, where `traceparent` says): no two clients share one. */
  sessionId?: string;
}

/** The caller a modern request names: clientInfo, and the trace id of its `traceparent` where present. */
export function callerOf(m: RpcMessage): Caller | undefined {
  const meta = metaOf(m);
  if (!meta || !isModernRequest(m)) return undefined;
  const out: Caller = {};
  const info = meta[CLIENT_INFO_META];
  if (isObject(info) && typeof info.name === "string")
    out.clientType = typeof info.version === "string" ? `${info.name}/${info.version}` : info.name;
  // W3C traceparent: version-traceid-spanid-flags; the trace id outlives any one request.
  const trace =
    typeof meta.traceparent === "string" ? /^[0-9a-f]{2}-([0-9a-f]{32})-/.exec(meta.traceparent)?.[1] : undefined;
  if (out.clientType !== undefined || trace !== undefined) {
    const digest = createHash("sha256")
      .update(`${out.clientType ?? ""}\n${trace ?? ""}`)
      .digest("hex");
    out.sessionId = `modern-${digest.slice(0, 24)}`;
  }
  return out;
}

/** serverInfo as 2026-07-28 carries it: in any result's `_meta`. */
export function serverInfoOf(result: Record<string, unknown>): Record<string, unknown> | undefined {
  const meta = result._meta;
  const info = isObject(meta) ? meta[SERVER_INFO_META] : undefined;
  return isObject(info) ? info : undefined;
}

/** The body field `Mcp-Name` mirrors, for the methods that have one. */
export function mcpNameOf(m: RpcMessage): string | undefined {
  const p = isObject(m.params) ? m.params : {};
  const v =
    m.method === "resources/read"
      ? p.uri
      : m.method === "tools/call" || m.method === "prompts/get"
        ? p.name
        : undefined;
  return typeof v === "string" ? v : undefined;
}

/** A header value as sent: plain when it is safe printable ASCII, else the `=?base64?…?=` form. */
export function encodeHeaderValue(v: string): string {
  return /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(v) && !v.startsWith("=?base64?")
    ? v
    : `=?base64?${Buffer.from(v, "utf8").toString("base64")}?=`;
}

/** A header value as meant; `undefined` when its base64 form is not canonical base64 of UTF-8. */
export function decodeHeaderValue(v: string): string | undefined {
  if (!(v.startsWith("=?base64?") && v.endsWith("?="))) return v;
  const b64 = v.slice(9, -2);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(b64, "base64"));
  } catch {
    return undefined;
  }
}

/** What a modern request's headers must say (the proxy sends these upstream). */
export function headersFor(m: RpcMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const version = envelopeVersion(m);
  if (version !== undefined) out["mcp-protocol-version"] = version;
  if (typeof m.method === "string") out["mcp-method"] = m.method;
  const name = mcpNameOf(m);
  if (name !== undefined) out["mcp-name"] = encodeHeaderValue(name);
  return out;
}

export interface HeaderProblem {
  code: number;
  message: string;
  data: unknown;
}

/**
 * The 2026-07-28 standard-header checks for one modern request over HTTP
 * (streamable-http.mdx "Standard Request Headers"): `undefined` when the
 * headers agree with the body.
 */
export function headerProblem(m: RpcMessage, header: (name: string) => string | undefined): HeaderProblem | undefined {
  const mismatch = (h: string, body: string): HeaderProblem => ({
    code: HEADER_MISMATCH,
    message: `Bad Request: the request headers and body disagree: ${body}`,
    data: { mismatch: { header: h, body } },
  });
  const version = header("mcp-protocol-version");
  const claimed = envelopeVersion(m);
  if (version === undefined)
    return mismatch("(missing)", "the body carries a modern envelope but the MCP-Protocol-Version header is absent");
  if (claimed !== undefined && version !== claimed)
    return mismatch(
      version,
      `the body names protocol version ${claimed} but the MCP-Protocol-Version header names ${version}`,
    );
  if (m.id === undefined) return undefined;
  const method = header("mcp-method");
  if (method === undefined)
    return mismatch("(missing)", `the body names method ${m.method} but the Mcp-Method header is absent`);
  if (method !== m.method)
    return mismatch(method, `the body names method ${m.method} but the Mcp-Method header names ${method}`);
  const bodyName = mcpNameOf(m);
  const nameHeader = header("mcp-name");
  if (nameHeader === undefined) {
    return bodyName === undefined
      ? undefined
      : mismatch("(missing)", `the body names "${bodyName}" but the Mcp-Name header is absent`);
  }
  const decoded = decodeHeaderValue(nameHeader);
  if (decoded === undefined) return mismatch(nameHeader, "the Mcp-Name header carries a broken base64 value");
  if (bodyName !== undefined && decoded !== bodyName)
    return mismatch(nameHeader, `the body names "${bodyName}" but the Mcp-Name header names "${decoded}"`);
  return undefined;
}

/**
 * The HTTP status a modern error answer goes out with when no upstream HTTP
 * status came with it (a stdio upstream, or the proxy's own): the errors the
 * revision ties to a status get it; a handler's error stays in-band (200).
 */
export function statusForError(code: number): number {
  if (code === -32601) return 404;
  if (code === -32700 || code === -32600 || code === HEADER_MISMATCH) return 400;
  if (code === MISSING_CLIENT_CAPABILITY || code === UNSUPPORTED_PROTOCOL_VERSION) return 400;
  return 200;
}
