/**
 * Bearer authentication with scopes. Scopes are levels: `ingest` may only file
 * reports, `read` may also read them, `admin` may also change them and
 * configure the server. `FEEDBACK_API_KEY` acts as an all-scopes key; keys made
 * with `patchworkmcp keys create` are checked against their stored hash.
 * With no key configured at all, the API is open (and bound to loopback).
 */
import type { RequestHandler } from "express";
import type { IncomingHttpHeaders } from "node:http";
import { createHash, timingSafeEqual } from "node:crypto";
import type { FeedbackStore, KeyScope } from "../store/index.js";
import { sendError } from "./errors.js";

export const SCOPE_LEVEL: Record<KeyScope, number> = { ingest: 1, read: 2, admin: 3 };

export function scopeAllows(have: KeyScope, need: KeyScope): boolean {
  return SCOPE_LEVEL[have] >= SCOPE_LEVEL[need];
}

export interface AuthConfig {
  store: FeedbackStore;
  /** The all-scopes key from FEEDBACK_API_KEY / --api-key, if any. */
  masterKey?: string | undefined;
}

/** What the request is allowed to do: `null` scope means auth is off (no key configured). */
export interface AuthResult {
  required: boolean;
  scope: KeyScope | null;
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** Constant-time comparison (hashing first makes the lengths equal). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

export interface Refusal {
  status: 401 | 403;
  code: string;
  message: string;
  details?: unknown;
  headers?: Record<string, string>;
}

export class Authenticator {
  constructor(private readonly config: AuthConfig) {}

  /** Auth is on when a master key is set or any scoped key exists. */
  get required(): boolean {
    return Boolean(this.config.masterKey) || this.config.store.hasKeys();
  }

  /** The scope a token grants, or undefined for an unknown token. */
  scopeOf(token: string): KeyScope | undefined {
    if (this.config.masterKey && safeEqual(token, this.config.masterKey)) return "admin";
    return this.config.store.verifyKey(token);
  }

  authenticate(req: {
    headers: IncomingHttpHeaders;
  }): { ok: true; result: AuthResult } | { ok: false; message: string } {
    if (!this.required) return { ok: true, result: { required: false, scope: null } };
    const token = bearerToken(req.headers.authorization);
    if (!token) return { ok: false, message: "This server requires an API key: send Authorization: Bearer <key>." };
    const scope = this.scopeOf(token);
    if (!scope) return { ok: false, message: "The API key is not valid (unknown, revoked or mistyped)." };
    return { ok: true, result: { required: true, scope } };
  }

  /** Whether a request may act with scope `need`; the refusal says how to answer (401 or 403). */
  authorize(
    req: { headers: IncomingHttpHeaders },
    need: KeyScope,
  ): { ok: true; result: AuthResult } | { ok: false; refusal: Refusal } {
    const outcome = this.authenticate(req);
    if (!outcome.ok) {
      return {
        ok: false,
        refusal: {
          status: 401,
          code: "unauthorized",
          message: outcome.message,
          headers: { "WWW-Authenticate": 'Bearer realm="patchworkmcp"' },
        },
      };
    }
    const { scope } = outcome.result;
    if (scope !== null && !scopeAllows(scope, need)) {
      return {
        ok: false,
        refusal: {
          status: 403,
          code: "forbidden",
          message: `This API key lacks the feedback:${need} scope.`,
          details: { required_scope: `feedback:${need}`, key_scope: `feedback:${scope}` },
        },
      };
    }
    return outcome;
  }

  /** Express middleware requiring a scope; stores the granted scope in res.locals.auth. */
  require(need: KeyScope): RequestHandler {
    return (req, res, next) => {
      const outcome = this.authorize(req, need);
      if (!outcome.ok) {
        const { status, code, message, details, headers } = outcome.refusal;
        for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, value);
        return sendError(res, status, code, message, details);
      }
      res.locals.auth = outcome.result;
      next();
    };
  }
}
