/**
 * Auth for the express routes: the framework-free Authenticator (src/auth)
 * plus `require(scope)` middleware. With no key configured and the database's
 * auth mode off, the API is open (and bound to loopback).
 */
import type { RequestHandler } from "express";
import { Authenticator as TokenAuthenticator, type KeyScope } from "../auth/index.js";
import { sendError } from "./errors.js";

export { type AuthConfig, type AuthResult, bearerToken, type Refusal, safeEqual } from "../auth/index.js";

export class Authenticator extends TokenAuthenticator {
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
