/**
 * Key scopes are levels: `ingest` may only file reports, `read` may also read
 * them, `admin` may also change them and configure the server.
 */
import type { KeyScope } from "../store/index.js";

export type { KeyScope };

export const SCOPE_LEVEL: Record<KeyScope, number> = { ingest: 1, read: 2, admin: 3 };

export function scopeAllows(have: KeyScope, need: KeyScope): boolean {
  return SCOPE_LEVEL[have] >= SCOPE_LEVEL[need];
}
