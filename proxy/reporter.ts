/**
 * Where reports go: straight into a SQLite file (`--db`) or to a sidecar. A
 * report that cannot be delivered now goes to the durable outbox and is
 * re-sent in the background with backoff; if even the outbox cannot be
 * written, the unsent line goes to stderr, where `patchworkmcp replay` can
 * still pick it up. Nothing here ever holds up protocol traffic.
 */
import { parseFeedback, type FeedbackPayload, type KnownGap } from "../src/feedback/index.js";
import { formatUnsentLine } from "../src/delivery/unsent.js";
import { sendToSidecar } from "../src/delivery/sidecar-client.js";
import type { FeedbackStore } from "../src/store/index.js";
import type { PrivacyPolicy } from "../src/ingest/index.js";
import type { Log } from "./log.js";
import type { Outbox } from "./outbox.js";

/**
 * `retryable: false` means this report will never be accepted as it is (the
 * sidecar rejected its content, e.g. 422): it is final, never queued.
 * `retryAfterMs`: the sidecar asked not to be tried again sooner (Retry-After).
 * `gap`: the report joined a gap the developers acted on (the known-gap echo).
 */
export type DeliveryResult =
  | { ok: true; id: number; gap?: KnownGap | undefined }
  | { ok: false; message: string; retryable: boolean; retryAfterMs?: number | undefined };

export interface Deliverer {
  deliver(payload: FeedbackPayload, idempotencyKey: string, timeoutMs: number): Promise<DeliveryResult>;
}

export function sidecarDeliverer(baseUrl: string, apiKey: string | undefined): Deliverer {
  return {
    async deliver(payload, idempotencyKey, timeoutMs) {
      const result = await sendToSidecar({
        baseUrl,
        apiKey,
        payload: { ...payload },
        idempotencyKey,
        timeoutMs,
        retries: 0,
      });
      if (result.ok) return { ok: true, id: result.id, gap: result.gap };
      // Auth failures are a configuration problem shared by every report: keep retrying those.
      const permanent =
        result.status !== undefined &&
        result.status >= 400 &&
        result.status < 500 &&
        ![401, 403, 408, 429].includes(result.status);
      return { ok: false, message: result.message, retryable: !permanent, retryAfterMs: result.retryAfterMs };
    },
  };
}

export function databaseDeliverer(path: string): Deliverer & { close(): void } {
  let store: FeedbackStore | undefined;
  let ingest: typeof import("../src/ingest/index.js") | undefined;
  let policy: PrivacyPolicy | undefined;
  return {
    async deliver(payload, idempotencyKey) {
      try {
        // better-sqlite3 waits synchronously: a short lock wait keeps protocol traffic moving, and a
        // report that meets a busy database goes to the outbox and is retried.
        // Loaded on first use: a proxy that delivers to a sidecar never needs SQLite.
        if (!store) {
          store = (await import("../src/store/index.js")).FeedbackStore.open(path, { busyTimeoutMs: 100 });
          ingest = await import("../src/ingest/index.js");
          policy = new ingest.PrivacyPolicy(store);
        }
        // Scrubbed like every report the sidecar stores (the file's privacy setting, per server).
        const { id, gap } = ingest!.insertScrubbed(store, policy!, { payload, idempotencyKey });
        return { ok: true, id, gap };
      } catch (err) {
        return {
          ok: false,
          message: `could not write to ${path}: ${err instanceof Error ? err.message : String(err)}`,
          retryable: true,
        };
      }
    },
    close() {
      store?.close();
      store = undefined;
    },
  };
}

/** Recorded (with the known gap it joined, if any); kept in the outbox for a later retry; or refused for good (`refused` says why). */
export type SubmitResult =
  | { recorded: true; id: number; gap?: KnownGap | undefined }
  | { recorded: false; kept: true }
  | { recorded: false; kept: false; refused: string };

export interface ReporterOptions {
  deliverer: Deliverer;
  outbox: Outbox;
  log: Log;
  /** Time allowed for one delivery attempt, in ms. */
  timeoutMs: number;
  retryBaseMs?: number;
  /** Longest wait between retries, in ms; a longer Retry-After is cut to it. */
  retryMaxMs?: number;
}

export class Reporter {
  private retryDelay: number;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private readonly inFlight = new Set<Promise<SubmitResult>>();

  constructor(private readonly options: ReporterOptions) {
    this.retryDelay = options.retryBaseMs ?? 2000;
  }

  /** Deliver now, or keep it in the outbox. Never throws. */
  submit(payload: FeedbackPayload, idempotencyKey: string): Promise<SubmitResult> {
    const attempt = this.attempt(payload, idempotencyKey);
    this.inFlight.add(attempt);
    void attempt.finally(() => this.inFlight.delete(attempt));
    return attempt;
  }

  /** Wait (at most `timeoutMs`) for submissions under way, so stopping the proxy loses no report. */
  async drain(timeoutMs: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inFlight]),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private async attempt(payload: FeedbackPayload, idempotencyKey: string): Promise<SubmitResult> {
    const result = await this.options.deliverer.deliver(payload, idempotencyKey, this.options.timeoutMs);
    if (result.ok) {
      if (this.timer) this.schedule(0);
      return { recorded: true, id: result.id, gap: result.gap };
    }
    if (!result.retryable) {
      // Sending it again would get the same answer: the caller tells the agent, nothing is queued.
      this.options.log(`feedback refused by the sidecar (${result.message}); not kept for a retry`);
      return { recorded: false, kept: false, refused: result.message };
    }
    this.options.log(`feedback not delivered (${result.message}); kept in the outbox ${this.options.outbox.path}`);
    try {
      await this.options.outbox.append({ payload: { ...payload }, idempotencyKey });
    } catch (err) {
      this.options.log(
        `the outbox could not be written either (${err instanceof Error ? err.message : String(err)}); the report follows for replay, scrubbed of secrets and personal data:`,
      );
      // Logs travel further than the outbox (a 0600 file the sidecar's own mode is applied to on
      // delivery): this copy is scrubbed with the strictest mode before it is written. Loaded only
      // here: the rule set takes over 100 ms to load, which every proxy start would pay.
      const { DEFAULT_PRIVACY_MODE, scrubReport } = await import("../src/privacy/index.js");
      const { payload: scrubbed } = scrubReport(payload, DEFAULT_PRIVACY_MODE);
      process.stderr.write(`${formatUnsentLine({ ...scrubbed, idempotency_key: idempotencyKey })}\n`);
    }
    this.schedule(this.retryWait(result.retryAfterMs));
    return { recorded: false, kept: true };
  }

  /** The backoff, or the sidecar's Retry-After when that is longer (up to retryMaxMs). */
  private retryWait(retryAfterMs: number | undefined): number {
    const max = this.options.retryMaxMs ?? 300_000;
    return Math.max(this.retryDelay, Math.min(retryAfterMs ?? 0, max));
  }

  /** Start retrying what an earlier run left in the outbox. */
  start(): void {
    try {
      if (this.options.outbox.read().length > 0) this.schedule(0);
    } catch (err) {
      this.options.log(
        `the outbox could not be read (${err instanceof Error ? err.message : String(err)}); will try again later`,
      );
      this.schedule(this.retryDelay);
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Send every outbox entry once; resolves when done. Exposed for tests and shutdown. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }

  private async flushOnce(): Promise<void> {
    let entries: ReturnType<Outbox["read"]>;
    try {
      entries = this.options.outbox.read();
    } catch (err) {
      this.options.log(
        `the outbox could not be read (${err instanceof Error ? err.message : String(err)}); will try again later`,
      );
      this.schedule(this.retryDelay);
      return;
    }
    const delivered = new Set<string>();
    let unreachable: { retryAfterMs?: number | undefined } | undefined;
    for (const entry of entries) {
      // An entry that does not validate (hand-edited, another version) stays for a human and `replay`.
      const parsed = parseFeedback(entry.payload);
      if (!parsed.ok) continue;
      const result = await this.options.deliverer.deliver(parsed.payload, entry.idempotencyKey, this.options.timeoutMs);
      if (!result.ok) {
        if (!result.retryable) {
          // The sidecar will never take this one as it is: leave it for a human and `replay`, send the rest.
          this.options.log(
            `outbox report ${entry.idempotencyKey} was refused (${result.message}); it stays in the outbox`,
          );
          continue;
        }
        unreachable = { retryAfterMs: result.retryAfterMs };
        break;
      }
      delivered.add(entry.idempotencyKey);
    }
    try {
      await this.options.outbox.remove(delivered);
    } catch (err) {
      this.options.log(
        `delivered ${delivered.size} outbox reports but could not remove them yet: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (delivered.size > 0) this.options.log(`delivered ${delivered.size} report(s) from the outbox`);
    if (unreachable) {
      this.schedule(this.retryWait(unreachable.retryAfterMs));
      this.retryDelay = Math.min(this.retryDelay * 2, this.options.retryMaxMs ?? 300_000);
    } else {
      this.retryDelay = this.options.retryBaseMs ?? 2000;
    }
  }
}
