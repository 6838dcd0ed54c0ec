/**
 * Creating and revoking scoped keys with the auth mode kept in step: a key
 * turns authentication on, and the mode is recorded as "on" before any key is
 * revoked, so revoking the last one cannot turn it off (see mode.ts).
 */
import type { ApiKeyInfo, FeedbackStore, KeyScope } from "../store/index.js";
import { AuthError, authStatus, type Log, recordAuthMode } from "./mode.js";

export function createScopedKey(
  store: FeedbackStore,
  scope: KeyScope,
  name: string | undefined,
  log: Log,
): { key: string; info: ApiKeyInfo } {
  const created = store.createKey(scope, name);
  if (authStatus(store).recorded !== "on") recordAuthMode(store, "on", `${scope} key ${created.info.id} created`, log);
  return created;
}

export function revokeScopedKey(store: FeedbackStore, id: string, log: Log): { activeKeysLeft: boolean } {
  if (!store.listKeys().some((k) => k.id === id && k.revoked_at === null)) {
    throw new AuthError("unknown_key", `There is no active key with id ${id} (see \`patchworkmcp keys list\`).`);
  }
  // Written down before the revoke: the last key going must not open the API (databases from before modes were recorded).
  if (authStatus(store).recorded !== "on") {
    recordAuthMode(store, "on", `key ${id} revoked; authentication stays on until an admin turns it off`, log);
  }
  store.revokeKey(id);
  return { activeKeysLeft: authStatus(store).activeKeys };
}
