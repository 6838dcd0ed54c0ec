/**
 * Host and Origin checks (DNS-rebinding and cross-site protection) and CORS
 * for explicitly allowed origins only. Never a wildcard.
 */
import type { RequestHandler } from "express";
import { hostRejecter, type HostPolicy } from "../net/host-policy.js";
import { sendError } from "./errors.js";

export { hostname, hostRejecter, isLoopbackHost, type HostPolicy } from "../net/host-policy.js";

/** The Host rule (src/net/host-policy.ts) as middleware: 403 for a foreign Host. */
export function hostCheck(policy: HostPolicy): RequestHandler {
  const rejects = hostRejecter(policy);
  return (req, res, next) => {
    const message = rejects(req.headers.host);
    if (message === undefined) return next();
    sendError(res, 403, "host_not_allowed", message);
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
    const sameOrigin =
      req.headers.host !== undefined && normalised === `${req.protocol}://${req.headers.host.toLowerCase()}`;
    if (allowed.has(normalised)) {
      res.setHeader("Access-Control-Allow-Origin", origin);
      res.setHeader("Vary", "Origin");
      res.setHeader(
        "Access-Control-Allow-Headers",
        "Authorization, Content-Type, Idempotency-Key, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID",
      );
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
