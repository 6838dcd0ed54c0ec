/**
 * The delivery queue's sender: claims due rows with a lease (so two sidecars on one PostgreSQL
 * never both send one), sends them concurrently with bounded timeouts, and settles each: delivered,
 * retried later with exponential backoff and jitter, or a dead letter after `maxAttempts`. At
 * least once: a process killed between sending and settling sends again once the lease expires,
 * with the same webhook-id, so receivers can drop the duplicate.
 */
import { alertStore, type AlertStore, type ClaimedDelivery, type FeedbackStore } from "../store/index.js";
import type { AlertPayload } from "./message.js";
import type { DestinationSecrets } from "./secrets.js";
import { AlertSendError, SEND_TIMEOUT_MS, sendAlert } from "./send.js";

export interface DeliveryOptions {
  maxAttempts?: number;
  /** The first retry waits about this long; each further one twice as long, up to maxDelayMs. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  timeoutMs?: number;
  /** Deliveries sent at once. */
  concurrency?: number;
  now?: () => number;
  random?: () => number;
  log?: (line: string) => void;
}

export const DELIVERY_DEFAULTS = {
  maxAttempts: 8,
  baseDelayMs: 5000,
  maxDelayMs: 3_600_000,
  concurrency: 8,
} as const;

/**
 * The wait before attempt `attempt + 1` after `attempt` failures: the exponential delay capped at
 * maxMs, of which a random half is kept ("equal jitter": never zero, never in lockstep).
 */
export function backoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

export class AlertDeliverer {
  private readonly alerts: AlertStore;
  private readonly o: Required<Omit<DeliveryOptions, "log">> & { log?: (line: string) => void };

  constructor(
    store: FeedbackStore,
    private readonly secrets: DestinationSecrets,
    options: DeliveryOptions = {},
  ) {
    this.alerts = alertStore(store);
    this.o = {
      maxAttempts: options.maxAttempts ?? DELIVERY_DEFAULTS.maxAttempts,
      baseDelayMs: options.baseDelayMs ?? DELIVERY_DEFAULTS.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? DELIVERY_DEFAULTS.maxDelayMs,
      timeoutMs: options.timeoutMs ?? SEND_TIMEOUT_MS,
      concurrency: options.concurrency ?? DELIVERY_DEFAULTS.concurrency,
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
      ...(options.log ? { log: options.log } : {}),
    };
  }

  /** A lease outlives a send (its timeout) with room to settle. */
  get leaseMs(): number {
    return 2 * this.o.timeoutMs + 5000;
  }

  /** Claim and send one round of due deliveries. Resolves with how many were claimed. */
  async runOnce(): Promise<number> {
    const claimed = this.alerts.claim(this.o.now(), this.o.concurrency, this.leaseMs);
    await Promise.all(claimed.map((d) => this.sendOne(d)));
    return claimed.length;
  }

  private async sendOne(d: ClaimedDelivery): Promise<void> {
    const destination = this.alerts.destination(d.destination_id);
    try {
      if (!destination) throw new AlertSendError("destination_unreachable", "The destination was deleted.");
      await sendAlert(destination, this.secrets, d.payload as unknown as AlertPayload, {
        timeoutMs: this.o.timeoutMs,
        now: this.o.now(),
      });
      if (!this.alerts.db.open) return;
      this.alerts.delivered(d.id, d.lease_token, this.o.now());
    } catch (err) {
      if (!this.alerts.db.open) return;
      const message =
        err instanceof AlertSendError ? `${err.code}: ${err.message}` : `internal_error: ${(err as Error).message}`;
      const dead = !destination || d.attempts >= this.o.maxAttempts;
      const at =
        this.o.now() + (dead ? 0 : backoffMs(d.attempts, this.o.baseDelayMs, this.o.maxDelayMs, this.o.random));
      this.alerts.failed(d.id, d.lease_token, message, { dead, at });
      if (dead)
        this.o.log?.(
          `patchworkmcp: alert delivery ${d.id} to destination ${d.destination_id} is a dead letter after ${d.attempts} attempts (${message})`,
        );
    }
  }
}
