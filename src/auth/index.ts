/** Public surface of authentication: scopes, bearer tokens, the database's auth mode. Framework-free. */
export {
  type AuthConfig,
  Authenticator,
  type AuthResult,
  bearerToken,
  type Refusal,
  safeEqual,
  WWW_AUTHENTICATE,
} from "./authenticator.js";
export { createScopedKey, revokeScopedKey } from "./keys.js";
export {
  AUTH_MODES,
  AuthError,
  type AuthErrorCode,
  type AuthMode,
  type AuthModeChange,
  type AuthStatus,
  authRequired,
  authStatus,
  type Log,
  recordAuthMode,
  switchAuthMode,
} from "./mode.js";
export { type KeyScope, SCOPE_LEVEL, scopeAllows } from "./scopes.js";
