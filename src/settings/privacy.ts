/**
 * The privacy setting as REST and the CLI see it: the default mode (and where it comes from)
 * and each server's override. Stored under the settings key `privacy` (src/privacy/modes.ts
 * defines the document and the precedence); ingestion reads it per batch (src/ingest/privacy.ts).
 */
import { z } from "zod";
import {
  defaultPrivacyMode,
  PRIVACY_SETTING_KEY,
  type PrivacyMode,
  privacyModeSchema,
  type PrivacySource,
  parsePrivacySettings,
  type PrivacySettings,
  resolvePrivacyMode,
} from "../privacy/index.js";
import { type FeedbackStore, readSetting, writeSetting } from "../store/index.js";

export interface PrivacyView {
  default: PrivacyMode;
  /** process: `serve --privacy` / FEEDBACK_PRIVACY; saved: PUT /api/privacy; built-in: secrets+pii. */
  default_source: Exclude<PrivacySource, "server">;
  /** The saved default (null: none saved). */
  saved_default: PrivacyMode | null;
  servers: { server_name: string; mode: PrivacyMode }[];
}

export interface ServerPrivacyView {
  server_name: string;
  mode: PrivacyMode;
  /** server: its own override; otherwise where the default comes from. */
  source: PrivacySource;
}

/** PUT /api/privacy: the saved default (null clears it). */
export const privacyDefaultPatchSchema = z.strictObject(
  { default: privacyModeSchema.nullable() },
  { error: 'the body must be a JSON object like {"default": "secrets"}' },
);

/** PUT /api/servers/:name/privacy: the server's override (null clears it: the default applies). */
export const serverPrivacyPatchSchema = z.strictObject(
  { mode: privacyModeSchema.nullable() },
  { error: 'the body must be a JSON object like {"mode": "off"}' },
);

function saved(store: FeedbackStore): PrivacySettings {
  return parsePrivacySettings(readSetting(store, PRIVACY_SETTING_KEY));
}

export function privacyView(store: FeedbackStore, processDefault?: PrivacyMode): PrivacyView {
  const settings = saved(store);
  const d = defaultPrivacyMode(settings, processDefault);
  return {
    default: d.mode,
    default_source: d.source as PrivacyView["default_source"],
    saved_default: settings.default ?? null,
    servers: Object.entries(settings.servers)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([server_name, mode]) => ({ server_name, mode })),
  };
}

export function serverPrivacy(
  store: FeedbackStore,
  serverName: string,
  processDefault?: PrivacyMode,
): ServerPrivacyView {
  return { server_name: serverName, ...resolvePrivacyMode(saved(store), serverName, processDefault) };
}

/** Save (or, with null, clear) the default every server without an override gets. */
export function setPrivacyDefault(store: FeedbackStore, mode: PrivacyMode | null): void {
  const settings = saved(store);
  const next: PrivacySettings = { servers: settings.servers };
  if (mode !== null) next.default = mode;
  writeSetting(store, PRIVACY_SETTING_KEY, next);
}

/** Save (or, with null, clear) one server's mode. */
export function setServerPrivacy(store: FeedbackStore, serverName: string, mode: PrivacyMode | null): void {
  const settings = saved(store);
  const servers = { ...settings.servers };
  if (mode === null) delete servers[serverName];
  else servers[serverName] = mode;
  writeSetting(store, PRIVACY_SETTING_KEY, { ...settings, servers });
}
