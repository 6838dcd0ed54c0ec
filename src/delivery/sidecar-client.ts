/**
 * POST one report to a sidecar's /api/feedback, with a timeout, an
 * Idempotency-Key and bounded retries (network errors, 429, 5xx) with
 * exponential backoff, jitter and Retry-After. Never throws.
 */
import { knownGapOf, type KnownGap } from "../feedback/echo.js";

export interface SendOptions {
  baseUrl: string;
  apiKey?: string | undefined;
  payload: Record<string, unknown>;
  idempotencyKey: string;
  timeoutMs?: number;
  retries?: number;
  /** Base delay for backoff, in ms. */
  backoffMs?: number;
}

export type SendResult =
  /** `gap`: the known gap the report joined, when the sidecar echoed one (see src/feedback/echo.ts). */
  | { ok: true; id: number; status: number; gap?: KnownGap }
  | { ok: false; retryable: boolean; status?: number; message: string; retryAfterMs?: number };

/** A Retry-After header (seconds or an HTTP date) in ms. */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function sendToSidecar(options: SendOptions): Promise<SendResult> {
  const retries = options.retries ?? 2;
  const url = `${options.baseUrl.replace(/\/+$/, "")}/api/feedback`;
  let last: SendResult = { ok: false, retryable: true, message: "not attempted" };
  for (let attempt = 0; attempt <= retries; attempt++) {
    let waitMs: number | undefined;
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "Idempotency-Key": options.idempotencyKey,
          ...(options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify(options.payload),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      const text = await res.text();
      if (res.ok) {
        let id = -1;
        let gap: KnownGap | undefined;
        try {
          const body = JSON.parse(text) as unknown;
          if (typeof body === "object" && body !== null && "id" in body && typeof body.id === "number") id = body.id;
          gap = knownGapOf(body);
        } catch {
          // Any 2xx is success even without the expected body.
        }
        return gap ? { ok: true, id, status: res.status, gap } : { ok: true, id, status: res.status };
      }
      const retryable = res.status === 429 || res.status >= 500;
      let message = `sidecar answered ${res.status}`;
      try {
        const body = JSON.parse(text) as { error?: { message?: string } };
        if (body.error?.message) message += `: ${body.error.message}`;
      } catch {
        // keep the status-only message
      }
      last = { ok: false, retryable, status: res.status, message };
      if (!retryable) return last;
      waitMs = retryAfterMs(res.headers.get("retry-after"));
      // Kept on the result too: a caller that retries later (the proxy's outbox) must not come back sooner.
      if (waitMs !== undefined) last.retryAfterMs = waitMs;
    } catch (err) {
      last = {
        ok: false,
        retryable: true,
        message: `could not reach the sidecar at ${options.baseUrl}: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    if (attempt < retries) {
      const base = (options.backoffMs ?? 250) * 2 ** attempt;
      await sleep(Math.min(waitMs ?? base + Math.random() * base, 30_000));
    }
  }
  return last;
}
