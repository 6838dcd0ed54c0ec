/**
 * The auth mode of a database. Once a database has had authentication on (a
 * scoped key was created), it stays on — revoking the last key does not open
 * the API — until an admin turns it off explicitly with
 * `patchworkmcp keys auth off`. Every change is written to the settings table
 * (key "auth": the current mode plus a history) and reported through `log`.
 *
 * Effective rule, evaluated on every request:
 *   auth is on  ⇔  an active key exists
 *               or the recorded mode is "on"
 *               or nothing was recorded yet and the database ever had a key
 *                  (databases from before modes were recorded).
 * A `FEEDBACK_API_KEY` master key turns auth on for its process on top of this.
 */
import { z } from "zod";
import { AUTH_SETTING_KEY, type FeedbackStore, keyPresence, readSetting, writeSetting } from "../store/index.js";

export const AUTH_MODES = ["on", "off"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** How many mode changes the record keeps. */
export const AUTH_HISTORY_MAX = 100;

const changeSchema = z.object({ mode: z.enum(AUTH_MODES), at: z.string(), reason: z.string() });
export type AuthModeChange = z.infer<typeof changeSchema>;

const recordSchema = z.object({
  mode: z.enum(AUTH_MODES),
  changed_at: z.string(),
  reason: z.string(),
  history: z.array(changeSchema).catch([]),
});
type AuthRecord = z.infer<typeof recordSchema>;

export type AuthErrorCode = "keys_active" | "unknown_key";

export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AuthError";
  }
}

export function authRequired(store: FeedbackStore): boolean {
  const p = keyPresence(store);
  return p.hasActiveKeys || (p.recordedMode === null ? p.hadKeys : p.recordedMode === "on");
}

export interface AuthStatus {
  mode: AuthMode;
  /** Why: "keys" (an active key exists), "recorded" (the saved mode), "legacy" (keys existed before modes were recorded), "default". */
  because: "keys" | "recorded" | "legacy" | "default";
  activeKeys: boolean;
  /** The recorded mode, or null when none was ever recorded. */
  recorded: AuthMode | null;
  history: AuthModeChange[];
}

function record(store: FeedbackStore): AuthRecord | undefined {
  const parsed = recordSchema.safeParse(readSetting(store, AUTH_SETTING_KEY));
  return parsed.success ? parsed.data : undefined;
}

export function authStatus(store: FeedbackStore): AuthStatus {
  const p = keyPresence(store);
  const saved = record(store);
  const mode: AuthMode = authRequired(store) ? "on" : "off";
  const because = p.hasActiveKeys ? "keys" : p.recordedMode !== null ? "recorded" : p.hadKeys ? "legacy" : "default";
  return {
    mode,
    because,
    activeKeys: p.hasActiveKeys,
    recorded: saved?.mode ?? null,
    history: saved?.history ?? [],
  };
}

export type Log = (line: string) => void;

/** Write `mode` as the recorded mode, append it to the history and log the change. */
export function recordAuthMode(store: FeedbackStore, mode: AuthMode, reason: string, log: Log): void {
  const at = new Date().toISOString();
  const history = [...(record(store)?.history ?? []), { mode, at, reason }].slice(-AUTH_HISTORY_MAX);
  writeSetting(store, AUTH_SETTING_KEY, { mode, changed_at: at, reason, history } satisfies AuthRecord);
  log(`patchworkmcp: authentication ${mode} for ${store.label}: ${reason}`);
}

/** `keys auth on|off`: the explicit switch. Off is refused while active keys exist (they would keep it on). */
export function switchAuthMode(store: FeedbackStore, mode: AuthMode, log: Log): { changed: boolean } {
  const before = authStatus(store);
  if (mode === "off" && before.activeKeys) {
    throw new AuthError(
      "keys_active",
      "Active API keys exist, so authentication stays on. Revoke them first (`patchworkmcp keys list`, then `patchworkmcp keys revoke <id>`).",
    );
  }
  // Nothing to record when the mode already holds for its own sake (recorded, or off on a database that never had a key).
  if (before.mode === mode && (before.recorded === mode || before.because === "default")) return { changed: false };
  recordAuthMode(
    store,
    mode,
    mode === "off" ? "turned off by an admin (keys auth off)" : "turned on by an admin (keys auth on)",
    log,
  );
  return { changed: before.mode !== mode };
}
