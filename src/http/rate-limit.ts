/**
 * Limits on ingestion (POST /api/feedback), shared by the fast path and the
 * express route:
 *
 *  - a token bucket per API key (per client address when the server has no
 *    keys): `burst` reports at once, refilled at `ratePerSecond`. An agent
 *    files a report when it hits a wall, a few per session at most; a whole
 *    fleet behind one key rarely sends more than one a second. 120 at once and
 *    20 a second sustained are far above that, and still stop one client from
 *    filing hundreds of megabyte reports a second.
 *  - a cap on the bytes stored per server_name per UTC day (50 MB: a quarter
 *    of a million ordinary reports, or 400 of the largest allowed), so a flood
 *    cannot fill the disk. The counter is warmed from the database (so a
 *    restart resumes the day) and re-read every minute (so several sidecars
 *    on one database see each other's writes).
 *
 * Both answer 429 with Retry-After. For the daily cap too: it is a quota on
 * what clients send, not a full disk (507 would tell an operator to go and
 * look at the storage, and makes generic clients treat the server as broken),
 * and every client we ship already keeps a 429'd report and retries it later.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { isIPv6 } from "node:net";
import type { FeedbackPayload } from "../feedback/index.js";
import { reportBytes, storedBytesSince, type FeedbackStore } from "../store/index.js";
import type { AuthResult } from "./auth.js";
import { bearerToken } from "./auth.js";
import { ApiError } from "./errors.js";
import type { IngestQueue } from "../ingest/index.js";

export interface IngestLimits {
  /** Reports per second per key (or client address), sustained; 0 turns the rate limit off. */
  ratePerSecond: number;
  /** Reports one key may send at once before the sustained rate applies. */
  burst: number;
  /** Bytes stored per server_name per UTC day; 0 turns the cap off. */
  maxBytesPerServerDay: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  ratePerSecond: 20,
  burst: 120,
  maxBytesPerServerDay: 50 * 1024 * 1024,
};

/** How often the daily byte counters are re-read from the database. */
const RESYNC_MS = 60_000;
/** Buckets kept before full (idle) ones are forgotten; a full bucket is the same as none. */
const SWEEP_AT = 10_000;

type Clock = () => number;

/** One token bucket per client id. `take` answers 0 (go ahead) or the seconds to wait. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: Clock = Date.now,
  ) {}

  take(id: string): number {
    const now = this.now();
    let bucket = this.buckets.get(id);
    if (bucket) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
      bucket.at = now;
    } else {
      if (this.buckets.size >= SWEEP_AT) this.sweep(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(id, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond));
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [id, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(id);
    }
    // Still full of active clients: forget the oldest (they start again with a full bucket).
    for (const id of this.buckets.keys()) {
      if (this.buckets.size < SWEEP_AT) break;
      this.buckets.delete(id);
    }
  }
}

const DAY_MS = 86_400_000;

/** Bytes stored per server_name today (UTC), with reservations for reports still on their way to disk. */
export class DailyByteBudget {
  private day = -1;
  private stored = new Map<string, number>();
  private readonly reserved = new Map<string, number>();
  private syncedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly maxBytes: number,
    private readonly loadSince: (sinceIso: string) => Map<string, number>,
    private readonly now: Clock = Date.now,
  ) {}

  /** Reserve `bytes` for `server`, or throw a 429 until the next UTC day. Call `settle` once it is written (or not). */
  reserve(server: string, bytes: number): (created: boolean) => void {
    const now = this.now();
    const day = Math.floor(now / DAY_MS);
    if (day !== this.day || now - this.syncedAt >= RESYNC_MS) {
      if (day !== this.day) this.stored = new Map();
      this.day = day;
      this.syncedAt = now;
      try {
        this.stored = this.loadSince(new Date(day * DAY_MS).toISOString());
      } catch {
        // Busy or locked by another process: keep counting from what we know, and try again next minute.
      }
    }
    const used = (this.stored.get(server) ?? 0) + (this.reserved.get(server) ?? 0);
    if (used + bytes > this.maxBytes) {
      const retryAfter = Math.max(1, Math.ceil(((day + 1) * DAY_MS - now) / 1000));
      throw new ApiError(
        429,
        "daily_byte_limit",
        `Reports for server "${server}" have reached today's storage cap of ${formatBytes(this.maxBytes)} ` +
          `(${formatBytes(used)} stored since 00:00 UTC); this report (${formatBytes(bytes)}) is refused until the ` +
          `next UTC day, in ${retryAfter} s. The operator can raise --max-bytes-per-server-day.`,
        undefined,
        { "Retry-After": String(retryAfter) },
      );
    }
    this.reserved.set(server, (this.reserved.get(server) ?? 0) + bytes);
    let settled = false;
    return (created) => {
      if (settled) return;
      settled = true;
      const left = (this.reserved.get(server) ?? 0) - bytes;
      if (left > 0) this.reserved.set(server, left);
      else this.reserved.delete(server);
      // A report stored before midnight counts for the day it was stored in, which the next sync reads.
      if (created && this.day === day) this.stored.set(server, (this.stored.get(server) ?? 0) + bytes);
    };
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(n % (1024 * 1024) === 0 ? 0 : 1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KB`;
  return `${n} bytes`;
}

/** An IPv6 client is one /64 (what one host or site gets); IPv4 (also IPv4-mapped) is one address. */
export function clientAddress(remote: string | undefined): string {
  if (!remote) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
  if (mapped) return mapped[1]!;
  if (!isIPv6(remote)) return remote;
  const [head = "", tail = ""] = remote.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = remote.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

export type IngestQueueLike = Pick<IngestQueue, "add">;

export class IngestLimiter {
  private readonly buckets: TokenBuckets | undefined;
  private readonly budget: DailyByteBudget | undefined;

  constructor(options: { limits: IngestLimits; store: FeedbackStore; now?: Clock }) {
    const { limits, store, now } = options;
    this.limits = limits;
    this.buckets =
      limits.ratePerSecond > 0 ? new TokenBuckets(limits.ratePerSecond, Math.max(1, limits.burst), now) : undefined;
    this.budget =
      limits.maxBytesPerServerDay > 0
        ? new DailyByteBudget(limits.maxBytesPerServerDay, (since) => storedBytesSince(store, since), now)
        : undefined;
  }

  readonly limits: IngestLimits;

  /**
   * Take one report's token for the caller of `req` (already authorized as `auth`), or throw the 429.
   * With keys, a key is one client (wherever it calls from); without, an address is.
   */
  admit(req: IncomingMessage, auth: AuthResult | undefined): void {
    if (!this.buckets) return;
    const token = auth?.required ? bearerToken(req.headers.authorization) : undefined;
    const id = token
      ? `key:${createHash("sha256").update(token).digest("base64url")}`
      : `addr:${clientAddress(req.socket.remoteAddress)}`;
    const wait = this.buckets.take(id);
    if (wait === 0) return;
    const who = token ? "this API key" : "this address";
    throw new ApiError(
      429,
      "rate_limited",
      `Too many reports from ${who}: at most ${this.limits.burst} at once and ${this.limits.ratePerSecond} a second ` +
        `after that. Retry in ${wait} s.`,
      undefined,
      { "Retry-After": String(wait) },
    );
  }

  /** `queue`, with the daily byte cap checked (and the bytes counted) for each validated report. */
  budgeted(queue: IngestQueueLike): IngestQueueLike {
    const budget = this.budget;
    if (!budget) return queue;
    return {
      add: (payload: FeedbackPayload, idempotencyKey?: string) => {
        let settle: (created: boolean) => void;
        try {
          settle = budget.reserve(payload.server_name, reportBytes(payload));
        } catch (err) {
          return Promise.reject(err);
        }
        return queue.add(payload, idempotencyKey).then(
          (result) => {
            settle(result.created);
            return result;
          },
          (err: unknown) => {
            settle(false);
            throw err;
          },
        );
      },
    };
  }
}
