/**
 * Environment for a sidecar started with no draft configuration of its own: every
 * variable the draft settings read (src/settings/schema.ts SECRET_ENV and SETTINGS_ENV)
 * set to "", so a developer's shell cannot leak a token, model or repository into a test.
 */
import { SECRET_ENV, SETTINGS_ENV } from "../../src/settings/schema.js";

export function blankDraftEnv(): Record<string, string> {
  return Object.fromEntries([...Object.values(SECRET_ENV), ...Object.values(SETTINGS_ENV)].map((k) => [k, ""]));
}
