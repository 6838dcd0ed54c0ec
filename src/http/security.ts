/**
 * Host and Origin checks (DNS-rebinding and cross-site protection) and CORS
 * for explicitly allowed origins only. Never a wildcard.
 */
import type { RequestHandler } from "express";
import { sendError } from "./errors.js";

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Strip the port from a Host header value ("[::1]:8099" → "[::1]"). */
export function hostname(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.lastIndexOf(":");
  return colon === -1 ? h : h.slice(0, colon);
}

export interface HostPolicy {
  /** Address the server is bound to. */
  bindHost: string;
  /** Extra Host names to accept (e.g. a LAN name). "*" accepts any. */
  allowedHosts: string[];
  /** Origins allowed to call the API from a browser besides the dashboard itself. */
  allowedOrigins: string[];
}

/**
 * When bound to loopback only loopback Host names (plus the configured extras)
 * are accepted: a DNS-rebound page arrives with its own name in Host. When bound
 * elsewhere, the configured list applies if given.
 */
export function hostCheck(policy: HostPolicy): RequestHandler {
  const rejects = hostRejecter(policy);
  return (req, res, next) => {
    const message = rejects(req.headers.host);
    if (message === undefined) return next();
    sendError(res, 403, "host_not_allowed", message);
  };
}

/** The host rule as a function: undefined when the Host header is acceptable, else why not. */
export function hostRejecter(policy: HostPolicy): (hostHeader: string | undefined) => string | undefined {
  const extras = new Set(policy.allowedHosts.map((h) => h.toLowerCase()));
  const anyHost = extras.has("*");
  const strict = isLoopbackHost(policy.bindHost) || extras.size > 0;
  return (header) => {
    if (anyHost || !strict) return undefined;
    const name = header ? hostname(header) : "";
    if (isLoopbackHost(name) || extras.has(name) || name === policy.bindHost.toLowerCase()) return undefined;
    return `Host "${header ?? ""}" is not allowed. Add it with --allowed-hosts.`;
  };
}

/**
 * Requests that carry an Origin must come from the server's own origin or an
 * allowed one; allowed origins get CORS headers (the exact origin, never "*").
 */
export function originCheck(policy: HostPolicy): RequestHandler {
  const allowed = new Set(policy.allowedOrigins.map((o) => o.replace(/\/$/, "").toLowerCase()));
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    const normalised = origin.toLowerCase();
    const sameOrigin = req.headers.host !== undefined && normalised === `${req.protocol}://${req.headers.host.toLowerCase()}`;
    if (allowed.has(normalised)) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Vary", "Origin");
      res.setHeader("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID");
      res.setHeader("Access-Control-Allow-Methods", "GET, POST, PATCH, PUT, DELETE, OPTIONS");
      res.setHeader("Access-Control-Expose-Headers", "Mcp-Session-Id");
      if (req.method === "OPTIONS") {
        res.status(204).end();
        return;
      }
      return next();
    }
    if (sameOrigin) return next();
    sendError(res, 403, "origin_not_allowed", `Origin "${origin}" is not allowed. Add it with --allowed-origins.`);
  };
}
