/**
 * Sending one alert to one destination, with bounded timeouts: a webhook (Standard Webhooks
 * signed), a Slack incoming webhook, or an email over SMTP (nodemailer). Every failure is an
 * AlertSendError with a code and a sentence naming the host (never the URL: it may hold a token).
 */
import type { AlertDestination } from "../store/index.js";
import { type AlertPayload, emailMessage, slackMessage } from "./message.js";
import type { DestinationSecrets } from "./secrets.js";
import { webhookHeaders } from "./signing.js";

export const SEND_TIMEOUT_MS = 10_000;

export type SendErrorCode =
  | "destination_unreachable"
  | "destination_timeout"
  | "destination_refused"
  | "destination_secret_missing"
  | "smtp_failed";

export class AlertSendError extends Error {
  constructor(
    readonly code: SendErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "AlertSendError";
  }
}

export interface SendOptions {
  timeoutMs?: number;
  /** Whose previous signing secret is still valid (rotation). */
  now?: number;
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return "the destination";
  }
};

function networkError(err: unknown, host: string, timeoutMs: number): AlertSendError {
  const e = err as { name?: string; cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError")
    return new AlertSendError("destination_timeout", `${host} did not answer within ${timeoutMs} ms.`);
  const code = e.cause?.code ?? "";
  const why =
    code === "ECONNREFUSED"
      ? "the connection was refused (nothing listens there)"
      : code === "ENOTFOUND" || code === "EAI_AGAIN"
        ? "the host name does not resolve"
        : (e.cause?.message ?? (err instanceof Error ? err.message : String(err)));
  return new AlertSendError("destination_unreachable", `Could not reach ${host}: ${why}${code ? ` (${code})` : ""}.`);
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<{ status: number }> {
  const host = hostOf(url);
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "user-agent": "patchworkmcp-alerts", ...headers },
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw networkError(err, host, timeoutMs);
  }
  // Drain the body (bounded by the same timeout) so the connection can be reused.
  await res.arrayBuffer().catch(() => undefined);
  if (res.status < 200 || res.status >= 300)
    throw new AlertSendError("destination_refused", `${host} answered HTTP ${res.status}; 2xx was expected.`);
  return { status: res.status };
}

/** Secrets a webhook signs with now: the current one, and the previous one until its rotation expires. */
export function signingSecrets(d: AlertDestination, secrets: DestinationSecrets, now: number): string[] {
  const current = secrets.get(d.id, "SECRET");
  if (!current)
    throw new AlertSendError(
      "destination_secret_missing",
      `The signing secret of destination ${d.id} is not in this sidecar's .env (PATCHWORKMCP_ALERT_${d.id}_SECRET).`,
    );
  const previous = secrets.get(d.id, "SECRET_PREVIOUS");
  const stillValid = d.previous_secret_until !== null && Date.parse(d.previous_secret_until) > now;
  return previous && stillValid ? [current, previous] : [current];
}

export async function sendAlert(
  d: AlertDestination,
  secrets: DestinationSecrets,
  alert: AlertPayload,
  options: SendOptions = {},
): Promise<{ status: number | null }> {
  const timeoutMs = options.timeoutMs ?? SEND_TIMEOUT_MS;
  const now = options.now ?? Date.now();
  const url = secrets.get(d.id, "URL");
  if (!url)
    throw new AlertSendError(
      "destination_secret_missing",
      `The URL of destination ${d.id} is not in this sidecar's .env (PATCHWORKMCP_ALERT_${d.id}_URL).`,
    );
  if (d.kind === "webhook") {
    const body = JSON.stringify(alert);
    const headers = webhookHeaders(signingSecrets(d, secrets, now), alert.id, Math.floor(now / 1000), body);
    return post(url, body, headers, timeoutMs);
  }
  if (d.kind === "slack") return post(url, JSON.stringify(slackMessage(alert)), {}, timeoutMs);
  return sendEmail(d, url, secrets, alert, timeoutMs);
}

async function sendEmail(
  d: AlertDestination,
  url: string,
  secrets: DestinationSecrets,
  alert: AlertPayload,
  timeoutMs: number,
): Promise<{ status: null }> {
  const { createTransport } = await import("nodemailer");
  const u = new URL(url);
  const config = d.config as { from: string; to: string[]; username?: string | null };
  const password = secrets.get(d.id, "SMTP_PASSWORD");
  const transport = createTransport({
    host: u.hostname,
    port: u.port ? Number(u.port) : u.protocol === "smtps:" ? 465 : 587,
    secure: u.protocol === "smtps:",
    ...(config.username ? { auth: { user: config.username, pass: password ?? "" } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // Plain SMTP on loopback is a local relay; elsewhere STARTTLS is used when offered.
    ignoreTLS: false,
  });
  const { subject, text } = emailMessage(alert);
  try {
    await transport.sendMail({
      from: config.from,
      to: config.to,
      subject,
      text,
      headers: { "X-Patchworkmcp-Alert-Id": alert.id },
      messageId: `<${alert.id}@patchworkmcp>`,
    });
    return { status: null };
  } catch (err) {
    const e = err as { code?: string; responseCode?: number; message?: string };
    if (e.code === "ECONNECTION" || e.code === "ETIMEDOUT" || e.code === "EDNS")
      throw new AlertSendError(
        e.code === "ETIMEDOUT" ? "destination_timeout" : "destination_unreachable",
        `Could not reach the SMTP server ${u.host}: ${e.message ?? e.code}.`,
      );
    throw new AlertSendError(
      "smtp_failed",
      `The SMTP server ${u.host} refused the email${e.responseCode ? ` (${e.responseCode})` : ""}: ${e.message ?? String(err)}.`,
    );
  } finally {
    transport.close();
  }
}
