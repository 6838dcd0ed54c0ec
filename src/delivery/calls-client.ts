/**
 * POST one batch of tool-call analytics to a sidecar's /api/calls (the body is
 * src/analytics' callBatchSchema). One attempt, with a timeout; the caller (the
 * proxy's analytics buffer) decides what a failure means. Never throws.
 */
import { CALL_LIMITS, type CallEvent, type CallRollup } from "../analytics/index.js";
import { retryAfterMs } from "./sidecar-client.js";

export interface CallBatchBody {
  calls: CallEvent[];
  rollups: CallRollup[];
}

export type CallBatchResult =
  | { ok: true; status: number }
  /**
   * `retryable: false`: the sidecar refused this content (4xx other than auth and rate limits).
   * `maybeDelivered`: no answer came after the batch went out (a timeout, a reset): the sidecar may
   * have stored it, so sending it again may count it twice.
   */
  | {
      ok: false;
      retryable: boolean;
      status?: number;
      message: string;
      retryAfterMs?: number;
      maybeDelivered?: boolean;
    };

/** One POST /api/calls: its batch, and that batch's JSON (serialized once, while it was cut). */
export interface PackedCallBatch extends CallBatchBody {
  json: string;
}

/**
 * The next POST's worth of `items` (events, or rollups), from `from` on: at most
 * CALL_LIMITS.batch_items, and no more than keep the body's JSON within CALL_LIMITS.batch_bytes
 * (at least one item). Each item is serialized once, and its JSON is the body's: a flush of tens
 * of thousands of events must not stringify candidate batches over and over on the proxy's
 * event loop.
 */
export function packCallBatch(kind: "calls", items: readonly CallEvent[], from: number): PackedCallBatch;
export function packCallBatch(kind: "rollups", items: readonly CallRollup[], from: number): PackedCallBatch;
export function packCallBatch(
  kind: "calls" | "rollups",
  items: readonly (CallEvent | CallRollup)[],
  from: number,
): PackedCallBatch {
  const max = Math.min(CALL_LIMITS.batch_items, items.length - from);
  const [head, tail] = kind === "calls" ? ['{"calls":[', '],"rollups":[]}'] : ['{"calls":[],"rollups":[', "]}"];
  const pieces: string[] = [];
  let bytes = head.length + tail.length;
  while (pieces.length < max) {
    const piece = JSON.stringify(items[from + pieces.length]);
    // An array's JSON is its items' JSON joined by commas.
    const size = Buffer.byteLength(piece) + (pieces.length > 0 ? 1 : 0);
    if (pieces.length > 0 && bytes + size > CALL_LIMITS.batch_bytes) break;
    bytes += size;
    pieces.push(piece);
  }
  const slice = items.slice(from, from + pieces.length);
  return {
    calls: kind === "calls" ? (slice as CallEvent[]) : [],
    rollups: kind === "rollups" ? (slice as CallRollup[]) : [],
    json: `${head}${pieces.join(",")}${tail}`,
  };
}

/** Errors that mean the request never reached a server. */
const NOT_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

export async function sendCallBatch(options: {
  baseUrl: string;
  apiKey?: string | undefined;
  batch: PackedCallBatch;
  timeoutMs: number;
}): Promise<CallBatchResult> {
  const url = `${options.baseUrl.replace(/\/+$/, "")}/api/calls`;
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        ...(options.apiKey ? { Authorization: `Bearer ${options.apiKey}` } : {}),
      },
      body: options.batch.json,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    const text = await res.text();
    if (res.ok) return { ok: true, status: res.status };
    let message = `the sidecar answered ${res.status}`;
    try {
      const body = JSON.parse(text) as { error?: { message?: string } };
      if (body.error?.message) message += `: ${body.error.message}`;
    } catch {
      // keep the status-only message
    }
    // A sidecar without the route (404, an older version), auth trouble and overload pass; content refusals do not.
    const retryable = res.status >= 500 || [401, 403, 404, 408, 429].includes(res.status);
    const wait = retryAfterMs(res.headers.get("retry-after"));
    return wait === undefined
      ? { ok: false, retryable, status: res.status, message }
      : { ok: false, retryable, status: res.status, message, retryAfterMs: wait };
  } catch (err) {
    const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
    const code = typeof cause?.code === "string" ? cause.code : undefined;
    const why = code ?? (err instanceof Error ? err.message : String(err));
    return {
      ok: false,
      retryable: true,
      message: `could not reach the sidecar at ${options.baseUrl}: ${why}`,
      maybeDelivered: code === undefined || !NOT_SENT.has(code),
    };
  }
}
