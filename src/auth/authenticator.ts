/**
 * Bearer-token authentication, independent of any web framework (the REST
 * API and the MCP endpoint both use it). `FEEDBACK_API_KEY` acts as an
 * all-scopes key; keys made with `patchworkmcp keys create` are checked
 * against their stored hash. Whether auth is on at all is the database's auth
 * mode (mode.ts) or a configured master key.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import type { FeedbackStore } from "../store/index.js";
import { authRequired } from "./mode.js";
import { type KeyScope, scopeAllows } from "./scopes.js";

export interface AuthConfig {
  store: FeedbackStore;
  /** The all-scopes key from FEEDBACK_API_KEY / --api-key, if any. */
  masterKey?: string | undefined;
}

/** What the request is allowed to do: `null` scope means auth is off. */
export interface AuthResult {
  required: boolean;
  scope: KeyScope | null;
}

/** How to refuse a request: 401 (who are you?) or 403 (not allowed). */
export interface Refusal {
  status: 401 | 403;
  code: "unauthorized" | "forbidden";
  message: string;
  details?: unknown;
  headers?: Record<string, string>;
}

export const WWW_AUTHENTICATE = 'Bearer realm="patchworkmcp"';

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

export class Authenticator {
  constructor(protected readonly config: AuthConfig) {}

  /** Auth is on when a master key is set or the database's auth mode is on (see mode.ts). */
  get required(): boolean {
    return Boolean(this.config.masterKey) || authRequired(this.config.store);
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
          headers: { "WWW-Authenticate": WWW_AUTHENTICATE },
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
}
