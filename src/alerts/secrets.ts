/**
 * Destination secrets in `.env` (beside the SQLite file; the working directory with PostgreSQL),
 * with the other secrets: a destination's URL (Slack's and many webhooks' embed a token), a
 * webhook's signing secret (and the previous one during a rotation), an SMTP password. An
 * environment variable of the same name wins over the file, as for every secret here. Without a
 * file (an in-memory database) they are kept in this process only.
 */
import { DraftSettings, readEnvFile, updateEnvFile } from "../settings/index.js";
import type { FeedbackStore } from "../store/index.js";

export type SecretPart = "URL" | "SECRET" | "SECRET_PREVIOUS" | "SMTP_PASSWORD";

export const secretEnvName = (destinationId: number, part: SecretPart): string =>
  `PATCHWORKMCP_ALERT_${destinationId}_${part}`;

export class DestinationSecrets {
  readonly envPath: string | null;
  private readonly memory = new Map<string, string>();

  constructor(
    store: FeedbackStore,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.envPath = new DraftSettings(store, env).envPath;
  }

  get(destinationId: number, part: SecretPart): string | undefined {
    const name = secretEnvName(destinationId, part);
    const fromEnv = this.env[name]?.trim();
    if (fromEnv) return fromEnv;
    if (!this.envPath) return this.memory.get(name);
    return readEnvFile(this.envPath).get(name) || undefined;
  }

  set(destinationId: number, values: Partial<Record<SecretPart, string | null>>): void {
    const changes: Record<string, string | null> = {};
    for (const [part, value] of Object.entries(values))
      changes[secretEnvName(destinationId, part as SecretPart)] = value ?? null;
    if (!this.envPath) {
      for (const [k, v] of Object.entries(changes)) v === null ? this.memory.delete(k) : this.memory.set(k, v);
      return;
    }
    updateEnvFile(this.envPath, changes);
  }

  forget(destinationId: number): void {
    this.set(destinationId, { URL: null, SECRET: null, SECRET_PREVIOUS: null, SMTP_PASSWORD: null });
  }
}
