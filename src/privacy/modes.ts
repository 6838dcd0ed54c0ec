/**
 * Privacy modes, per server: `off` stores reports as agents wrote them, `secrets` replaces
 * credentials and tokens, `secrets+pii` (the default) also emails, phone numbers, card numbers
 * and IP addresses. One zod schema for the stored setting (the server default and the
 * per-server overrides), which REST, the CLI and ingestion all read.
 */
import { z } from "zod";

export const PRIVACY_MODES = ["off", "secrets", "secrets+pii"] as const;
export type PrivacyMode = (typeof PRIVACY_MODES)[number];

/** The built-in default when neither `--privacy` / FEEDBACK_PRIVACY nor a saved default says otherwise. */
export const DEFAULT_PRIVACY_MODE: PrivacyMode = "secrets+pii";

export const privacyModeSchema = z.enum(PRIVACY_MODES, {
  error: `the privacy mode must be one of: ${PRIVACY_MODES.join(", ")}`,
});

export function isPrivacyMode(value: unknown): value is PrivacyMode {
  return typeof value === "string" && (PRIVACY_MODES as readonly string[]).includes(value);
}

/** The saved setting (settings key `privacy`): a default for every server and per-server overrides. */
export const privacySettingsSchema = z.object({
  default: privacyModeSchema.optional(),
  servers: z.record(z.string(), privacyModeSchema).default({}),
});
export type PrivacySettings = z.output<typeof privacySettingsSchema>;

/** The settings key the privacy setting is stored under. */
export const PRIVACY_SETTING_KEY = "privacy";

/** Read a stored value; anything unreadable counts as nothing saved (the default applies), never as `off`. */
export function parsePrivacySettings(value: unknown): PrivacySettings {
  const parsed = privacySettingsSchema.safeParse(value ?? {});
  return parsed.success ? parsed.data : { servers: {} };
}

export type PrivacySource = "server" | "process" | "saved" | "built-in";

/**
 * One server's mode: its own override, else the process default (`serve --privacy` /
 * FEEDBACK_PRIVACY), else the saved default, else `secrets+pii`.
 */
export function resolvePrivacyMode(
  settings: PrivacySettings,
  serverName: string,
  processDefault?: PrivacyMode,
): { mode: PrivacyMode; source: PrivacySource } {
  const own = Object.hasOwn(settings.servers, serverName) ? settings.servers[serverName] : undefined;
  if (own !== undefined) return { mode: own, source: "server" };
  return defaultPrivacyMode(settings, processDefault);
}

/** The mode of a server with no override of its own. */
export function defaultPrivacyMode(
  settings: PrivacySettings,
  processDefault?: PrivacyMode,
): { mode: PrivacyMode; source: PrivacySource } {
  if (processDefault !== undefined) return { mode: processDefault, source: "process" };
  if (settings.default !== undefined) return { mode: settings.default, source: "saved" };
  return { mode: DEFAULT_PRIVACY_MODE, source: "built-in" };
}
