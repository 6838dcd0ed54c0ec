/**
 * Alert configuration as REST, the CLI and the dashboard use it: destinations (secrets to .env,
 * shown masked; a webhook's signing secret shown once), rules, test sends, secret rotation, the
 * deliveries with their dead letters and retry. Errors are AlertConfigError: a code and a sentence.
 */
import { randomUUID } from "node:crypto";
import { maskSecret } from "../settings/index.js";
import {
  type AlertDelivery,
  type AlertDestination,
  type AlertRule,
  type AlertStore,
  alertStore,
  type DeliveryState,
  type FeedbackStore,
  StoreError,
} from "../store/index.js";
import { AlertEngine } from "./engine.js";
import { DAY_S, DEFAULT_COOLDOWN_S, type DestinationInput, type RuleInput } from "./input.js";
import type { AlertPayload } from "./message.js";
import { DestinationSecrets } from "./secrets.js";
import { sendAlert } from "./send.js";
import { newSigningSecret } from "./signing.js";

/** After a rotation the previous signing secret also signs for this long (receivers switch over meanwhile). */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;
export const TEST_TIMEOUT_MS = 5000;

export type AlertConfigErrorCode =
  | "invalid_url"
  | "unsupported_url_scheme"
  | "url_has_credentials"
  | "unknown_destination"
  | "destination_not_found"
  | "rule_not_found"
  | "delivery_not_found"
  | "already_delivered"
  | "not_a_webhook";

export class AlertConfigError extends Error {
  constructor(
    readonly code: AlertConfigErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AlertConfigError";
  }
}

export interface PublicDestination {
  id: number;
  kind: AlertDestination["kind"];
  name: string | null;
  /** The URL with its path masked (it may hold a token), or the SMTP server and recipients. */
  target: string;
  config: Record<string, unknown>;
  secrets: Record<string, { set: boolean; masked: string | null; env: string }>;
  previous_secret_until: string | null;
  created_at: string;
}

export interface PublicRule extends Omit<AlertRule, "window_s" | "cooldown_s" | "next_run_at"> {
  window: number | null;
  cooldown: number;
  next_run_at: string | null;
}

const SCHEMES: Record<AlertDestination["kind"], string[]> = {
  webhook: ["http:", "https:"],
  slack: ["http:", "https:"],
  email: ["smtp:", "smtps:"],
};

/** The URL, checked for its kind; the problem as an AlertConfigError. */
export function checkDestinationUrl(kind: AlertDestination["kind"], raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new AlertConfigError(
      "invalid_url",
      `url is not a valid URL${kind === "email" ? " (use smtp://host:587 or smtps://host:465)" : " (use https://host/path)"}.`,
    );
  }
  if (!SCHEMES[kind].includes(u.protocol))
    throw new AlertConfigError(
      "unsupported_url_scheme",
      `A ${kind} destination's url must start with ${SCHEMES[kind].map((s) => `${s}//`).join(" or ")}, not ${u.protocol}//.`,
    );
  if (u.hostname === "") throw new AlertConfigError("invalid_url", "url has no host.");
  if (u.username || u.password)
    throw new AlertConfigError(
      "url_has_credentials",
      kind === "email"
        ? "url must not contain credentials (user:password@): give username and password as their own fields."
        : "url must not contain credentials (user:password@); put a token in the path or query instead.",
    );
  return u;
}

function targetOf(input: DestinationInput, u: URL): string {
  if (input.kind === "email") return `${u.protocol}//${u.host} → ${input.to.join(", ")}`;
  const hidden = u.pathname !== "/" || u.search !== "";
  return `${u.protocol}//${u.host}${hidden ? "/…" : "/"}`;
}

const SECRET_PARTS = {
  webhook: ["URL", "SECRET"],
  slack: ["URL"],
  email: ["URL", "SMTP_PASSWORD"],
} as const;

export class AlertService {
  readonly alerts: AlertStore;
  readonly secrets: DestinationSecrets;

  constructor(
    private readonly store: FeedbackStore,
    private readonly options: { publicUrl: string | (() => string); env?: NodeJS.ProcessEnv },
  ) {
    this.alerts = alertStore(store);
    this.secrets = new DestinationSecrets(store, options.env);
  }

  publicDestination(d: AlertDestination): PublicDestination {
    const secrets: PublicDestination["secrets"] = {};
    for (const part of SECRET_PARTS[d.kind]) {
      const v = this.secrets.get(d.id, part);
      secrets[part.toLowerCase()] = {
        set: v !== undefined,
        masked: v === undefined ? null : maskSecret(v),
        env: `PATCHWORKMCP_ALERT_${d.id}_${part}`,
      };
    }
    return { ...d, secrets };
  }

  listDestinations(): PublicDestination[] {
    return this.alerts.destinations().map((d) => this.publicDestination(d));
  }

  requireDestination(id: number): AlertDestination {
    const d = this.alerts.destination(id);
    if (!d) throw new AlertConfigError("destination_not_found", `There is no alert destination ${id}.`);
    return d;
  }

  /** Create a destination; a webhook's answer carries its signing secret, shown this once. */
  addDestination(input: DestinationInput): { destination: PublicDestination; secret?: string } {
    const u = checkDestinationUrl(input.kind, input.url);
    const config: Record<string, unknown> =
      input.kind === "email" ? { from: input.from, to: input.to, username: input.username ?? null } : {};
    const d = this.alerts.addDestination({
      kind: input.kind,
      name: input.name ?? null,
      target: targetOf(input, u),
      config,
    });
    const secret = input.kind === "webhook" ? newSigningSecret() : undefined;
    try {
      this.secrets.set(d.id, {
        URL: input.url,
        ...(secret ? { SECRET: secret } : {}),
        ...(input.kind === "email" && input.password ? { SMTP_PASSWORD: input.password } : {}),
      });
    } catch (err) {
      this.alerts.deleteDestination(d.id);
      throw err;
    }
    return { destination: this.publicDestination(d), ...(secret ? { secret } : {}) };
  }

  deleteDestination(id: number): void {
    this.requireDestination(id);
    this.alerts.deleteDestination(id);
    this.secrets.forget(id);
  }

  /** A new signing secret (shown once); the previous one keeps signing for ROTATION_OVERLAP_MS. */
  rotateSecret(id: number, now = Date.now()): { secret: string; previous_valid_until: string } {
    const d = this.requireDestination(id);
    if (d.kind !== "webhook")
      throw new AlertConfigError(
        "not_a_webhook",
        `Destination ${id} is a ${d.kind} destination; only webhooks are signed.`,
      );
    const secret = newSigningSecret();
    const until = new Date(now + ROTATION_OVERLAP_MS).toISOString();
    this.secrets.set(id, { SECRET: secret, SECRET_PREVIOUS: this.secrets.get(id, "SECRET") ?? null });
    this.alerts.setPreviousSecretUntil(id, until);
    return { secret, previous_valid_until: until };
  }

  /** Send a test alert now (not queued): the destination's answer, or an AlertSendError. */
  async test(id: number): Promise<{ delivered: true; status: number | null; id: string }> {
    const d = this.requireDestination(id);
    const engine = new AlertEngine(this.store, { publicUrl: this.options.publicUrl });
    const top = this.alerts.topGapIds(null, 1)[0];
    const alert: AlertPayload = {
      type: "test",
      id: `msg_test_${randomUUID()}`,
      rule_id: null,
      created_at: new Date().toISOString(),
      summary: "Test alert from patchworkmcp",
      gap: top === undefined ? null : engine.gap(top),
    };
    const r = await sendAlert(d, this.secrets, alert, { timeoutMs: TEST_TIMEOUT_MS });
    return { delivered: true, status: r.status, id: alert.id };
  }

  publicRule(r: AlertRule): PublicRule {
    const { window_s, cooldown_s, ...rest } = r;
    return { ...rest, window: window_s, cooldown: cooldown_s };
  }

  listRules(): PublicRule[] {
    return this.alerts.rules().map((r) => this.publicRule(r));
  }

  addRule(input: RuleInput, now = Date.now()): PublicRule {
    if (!this.alerts.destination(input.destination_id))
      throw new AlertConfigError("unknown_destination", `There is no alert destination ${input.destination_id}.`);
    const window = input.window ?? (input.kind === "digest" ? DAY_S : input.kind === "sessions" ? DAY_S : null);
    try {
      return this.publicRule(
        this.alerts.addRule({
          kind: input.kind,
          destination_id: input.destination_id,
          server_name: input.server_name ?? null,
          threshold: input.threshold ?? null,
          window_s: window,
          min_reports: input.min_reports ?? null,
          cooldown_s: input.cooldown ?? DEFAULT_COOLDOWN_S,
          // The first digest goes out one period from now.
          next_run_at: input.kind === "digest" ? new Date(now + window! * 1000).toISOString() : null,
        }),
      );
    } catch (err) {
      if (err instanceof StoreError && err.code === "unknown_destination")
        throw new AlertConfigError("unknown_destination", err.message);
      throw err;
    }
  }

  deleteRule(id: number): void {
    if (!this.alerts.deleteRule(id)) throw new AlertConfigError("rule_not_found", `There is no alert rule ${id}.`);
  }

  deliveries(filter: { state?: DeliveryState | undefined; limit?: number; before?: number }): AlertDelivery[] {
    return this.alerts.deliveries({ state: filter.state, limit: filter.limit ?? 50, before: filter.before });
  }

  retry(id: number): AlertDelivery {
    try {
      return this.alerts.retry(id);
    } catch (err) {
      if (err instanceof StoreError) throw new AlertConfigError(err.code as AlertConfigErrorCode, err.message);
      throw err;
    }
  }
}
