/**
 * Where reports go: straight into a SQLite file (`--db`) or to a sidecar. A
 * report that cannot be delivered now goes to the durable outbox and is
 * re-sent in the background with backoff; if even the outbox cannot be
 * written, the unsent line goes to stderr, where `patchworkmcp replay` can
 * still pick it up. Nothing here ever holds up protocol traffic.
 *
 * Privacy: a report is scrubbed with the proxy's `--privacy` mode before it is
 * written to the outbox or sent to a sidecar (which applies its own mode again on
 * arrival: placeholders match no rule). With `--db` the database's per-server
 * modes scrub it before it is stored, so the report goes in as written; only its
 * outbox copy is scrubbed here.
 */
import { parseFeedback, type FeedbackPayload, type KnownGap } from "../src/feedback/index.js";
import { formatUnsentLine } from "../src/delivery/unsent.js";
import { sendToSidecar } from "../src/delivery/sidecar-client.js";
import type { FeedbackStore } from "../src/store/index.js";
import type { PrivacyPolicy } from "../src/ingest/index.js";
import { DEFAULT_PRIVACY_MODE, type PrivacyMode } from "../src/privacy/modes.js";
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
  /**
   * True when the deliverer scrubs each report itself before storing it (`--db`: for the
   * database's per-server modes): it is handed the report as written. Any other deliverer is
   * handed the report scrubbed with the reporter's `privacy` mode.
   */
  readonly scrubs?: boolean;
}

type Privacy = typeof import("../src/privacy/index.js");
let privacyModule: Promise<Privacy> | undefined;
/**
 * The scrubber, loaded on the first report that needs it: the rule set takes over 100 ms to
 * load, which a proxy that never files a report should not pay at startup.
 */
const loadPrivacy = (): Promise<Privacy> => (privacyModule ??= import("../src/privacy/index.js"));

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
    // The file's own privacy setting applies (per server), as in the sidecar: not the proxy's --privacy.
    scrubs: true,
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
        const { id, gap } = ingest!.insertScrubbed(store, policy!, [{ payload, idempotencyKey }])[0]!;
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
  /**
   * `--privacy`: what reports are scrubbed with before they are written to the outbox or handed
   * to a deliverer that does not scrub (default `secrets+pii`; `off` leaves it to the sidecar).
   * The stderr copy of last resort is scrubbed with `secrets+pii` whatever this says.
   */
  privacy?: PrivacyMode;
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

  /** The report as it may leave the process: scrubbed with `privacy`, what was replaced logged. */
  private async scrubbed(payload: FeedbackPayload, idempotencyKey: string): Promise<FeedbackPayload> {
    const mode = this.options.privacy ?? DEFAULT_PRIVACY_MODE;
    if (mode === "off") return payload;
    const { cutToLimits, describeRedactions, scrubReport } = await loadPrivacy();
    const { payload: scrubbed, redactions } = scrubReport(payload, mode);
    if (redactions.length === 0) return payload;
    // The report carries no record of this (the sidecar's card lists only what it replaced itself):
    // the log keeps which rules fired, never what they replaced.
    this.options.log(
      `report ${idempotencyKey}: --privacy ${mode} replaced ${describeRedactions(redactions)} before it left the proxy`,
    );
    return cutToLimits(scrubbed);
  }

  /**
   * A JSON value about to be written into a report (a missing_tool report's argument values),
   * scrubbed as the report will be, before it is cut to length: a cut must not leave part of a
   * secret that the whole would have matched. As it is for a deliverer that scrubs itself (--db).
   */
  async scrubValue<T>(value: T): Promise<T> {
    const mode = this.options.privacy ?? DEFAULT_PRIVACY_MODE;
    if (mode === "off" || this.options.deliverer.scrubs) return value;
    const { scrubJson } = await loadPrivacy();
    return scrubJson(value, mode).value;
  }

  /** What goes to the deliverer: as written for one that scrubs itself (--db), else scrubbed. */
  private outgoing(payload: FeedbackPayload, idempotencyKey: string): Promise<FeedbackPayload> {
    return this.options.deliverer.scrubs ? Promise.resolve(payload) : this.scrubbed(payload, idempotencyKey);
  }

  private async attempt(payload: FeedbackPayload, idempotencyKey: string): Promise<SubmitResult> {
    const outgoing = await this.outgoing(payload, idempotencyKey);
    const result = await this.options.deliverer.deliver(outgoing, idempotencyKey, this.options.timeoutMs);
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
    // Never written to disk unscrubbed (unless --privacy off), whoever stores it later.
    const kept = this.options.deliverer.scrubs ? await this.scrubbed(payload, idempotencyKey) : outgoing;
    try {
      await this.options.outbox.append({ payload: { ...kept }, idempotencyKey });
    } catch (err) {
      this.options.log(
        `the outbox could not be written either (${err instanceof Error ? err.message : String(err)}); the report follows for replay, scrubbed of secrets and personal data:`,
      );
      // Logs travel further than the outbox (a 0600 file): this copy is scrubbed with the strictest
      // mode whatever --privacy says.
      const { scrubReport } = await loadPrivacy();
      const { payload: scrubbed } = scrubReport(kept, DEFAULT_PRIVACY_MODE);
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
      // Scrubbed again on the way out: a shared outbox may hold lines another proxy kept raw.
      const outgoing = await this.outgoing(parsed.payload, entry.idempotencyKey);
      const result = await this.options.deliverer.deliver(outgoing, entry.idempotencyKey, this.options.timeoutMs);
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
