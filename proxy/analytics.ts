/**
 * Tool-call analytics from the proxy to the sidecar: a CallSink (calls.ts) that
 * keeps finished calls in memory and sends them about every second as
 * `POST /api/calls` batches (src/analytics' callBatchSchema).
 *
 * Bounded everywhere, and never in the way of traffic:
 * - the buffer holds at most `capacity` events; past that, calls fold into
 *   in-memory rollups (server × tool × client × hour), which are sent as
 *   `rollups` — the counts and latencies survive, the per-call detail does not;
 * - a batch the sidecar cannot take (down, 5xx, 401, no such route yet) folds
 *   into the shared on-disk spill (analytics-spill.ts), and later ticks spill
 *   too until a backoff retry gets through; then the spill is replayed;
 * - the request path only pushes onto an array: sending, spilling and
 *   replaying happen on a timer, and their failures are logged once per
 *   stretch of trouble, to stderr.
 *
 * What can be lost: calls refused for their content (a 422: sending them again
 * would get the same answer); calls past the spill's row limit; and, if the
 * proxy process is killed outright (SIGKILL, a crash), what it had not flushed
 * yet — at most about a second of calls, and at most `capacity` events plus
 * their overflow rollups. A proxy that stops normally flushes, or spills, first.
 *
 * Privacy: recorded arguments (`--record-arguments`) are scrubbed with the proxy's
 * `--privacy` mode on the flush timer, before a batch is sized and sent to a sidecar
 * (`scrubArguments`); with `--db` the database's per-server modes scrub them before
 * they are stored. The spill holds rollups only (names, counts, latencies): no
 * argument text ever reaches the disk.
 */
import { emptyHistogram, addToHistogram, type CallEvent, type CallRollup } from "../src/analytics/index.js";
import {
  packCallBatch,
  sendCallBatch,
  type CallBatchResult,
  type PackedCallBatch,
} from "../src/delivery/calls-client.js";
import { type CallSpill, mergeRollup, rollupKey } from "./analytics-spill.js";
import type { CallSink } from "./calls.js";
import type { PrivacyPolicy } from "../src/ingest/index.js";
import type { PrivacyMode } from "../src/privacy/modes.js";
import type { CallsStore, FeedbackStore } from "../src/store/index.js";
import type { Log } from "./log.js";
import { DEFAULT_ANALYTICS_BUFFER } from "./options.js";

export const DEFAULT_ANALYTICS_FLUSH_MS = 1000;
const RETRY_BASE_MS = 2000;
const RETRY_MAX_MS = 10_000;

export interface CallsDeliverer {
  send(batch: PackedCallBatch, timeoutMs: number): Promise<CallBatchResult>;
}

/**
 * `--db`: straight into the store, like the proxy's reports. A busy database is a
 * retryable failure (the batch spills), never a wait on the request path's thread
 * longer than the short lock timeout.
 */
export function databaseCallsDeliverer(path: string): CallsDeliverer & { close(): void } {
  let store: FeedbackStore | undefined;
  let calls: CallsStore | undefined;
  let policy: PrivacyPolicy | undefined;
  return {
    async send(batch) {
      try {
        if (!calls) {
          const [mod, ingest] = await Promise.all([import("../src/store/index.js"), import("../src/ingest/index.js")]);
          store ??= mod.FeedbackStore.open(path, { busyTimeoutMs: 100 });
          calls = mod.callsStore(store);
          policy = new ingest.PrivacyPolicy(store);
        }
        // Recorded arguments are scrubbed for their servers' modes before they are stored.
        calls.insertCalls(policy!.scrubCalls({ calls: batch.calls, rollups: batch.rollups }));
        return { ok: true, status: 202 };
      } catch (err) {
        return {
          ok: false,
          retryable: true,
          message: `could not write call analytics to ${path}: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    },
    close() {
      store?.close();
      store = undefined;
      calls = undefined;
    },
  };
}

/**
 * `--privacy` for recorded arguments on their way to a sidecar: the scrubber, loaded now (a
 * proxy that records arguments pays its load once, at startup, rather than on a flush); none
 * for `off`, which leaves it to the sidecar.
 */
export async function argumentsScrubber(mode: PrivacyMode): Promise<ArgumentsScrubber | undefined> {
  if (mode === "off") return undefined;
  const { scrubJson } = await import("../src/privacy/index.js");
  return (args) => scrubJson(args, mode, "arguments").value;
}

export type ArgumentsScrubber = (args: Record<string, unknown>) => Record<string, unknown>;

/** The sidecar's POST /api/calls, with the proxy's API key. */
export function sidecarCallsDeliverer(baseUrl: string, apiKey: string | undefined): CallsDeliverer {
  return { send: (batch, timeoutMs) => sendCallBatch({ baseUrl, apiKey, batch, timeoutMs }) };
}

const HOUR_MS = 3_600_000;

/**
 * The UTC hour an ISO 8601 instant falls in, as ISO. The proxy's own timestamps
 * (`YYYY-MM-DDTHH:MM:SS.mmmZ`, calls.ts) are cut as text: this runs for every call
 * past the buffer, where a Date per call would cost more than the rest of the fold.
 */
function hourOf(iso: string): string {
  if (iso.length === 24 && iso.endsWith("Z")) return `${iso.slice(0, 13)}:00:00.000Z`;
  return new Date(Math.floor(Date.parse(iso) / HOUR_MS) * HOUR_MS).toISOString();
}

/** Count one event into the rollups by key (server × tool × client × hour). */
export function foldEvent(into: Map<string, CallRollup>, event: CallEvent): void {
  const hour = hourOf(event.started_at);
  const key = rollupKey({
    server_name: event.server_name,
    tool_name: event.tool_name,
    client_name: event.client_name,
    hour,
  });
  let row = into.get(key);
  if (row === undefined) {
    row = {
      server_name: event.server_name,
      tool_name: event.tool_name,
      client_name: event.client_name,
      hour,
      calls: 0,
      errors: 0,
      histogram: emptyHistogram(),
    };
    into.set(key, row);
  }
  row.calls++;
  if (event.outcome !== "ok") row.errors++;
  addToHistogram(row.histogram, event.duration_ms);
}

/** One event as a rollup row of its own (to merge). */
export function rollupOf(event: CallEvent): CallRollup {
  const one = new Map<string, CallRollup>();
  foldEvent(one, event);
  return one.values().next().value!;
}

export function rollupsOf(events: readonly CallEvent[], into = new Map<string, CallRollup>()): Map<string, CallRollup> {
  for (const e of events) foldEvent(into, e);
  return into;
}

export interface CallAnalyticsOptions {
  deliverer: CallsDeliverer;
  spill: CallSpill;
  log: Log;
  /** `--debug`: each batch that may be counted twice. */
  debug?: Log;
  /** Events held in memory before calls fold into rollups. */
  capacity?: number;
  flushMs?: number;
  /** Time allowed for one POST, in ms. */
  timeoutMs: number;
  /** Time allowed for the last POST when stopping (default `timeoutMs`): a proxy's exit waits for it. */
  stopTimeoutMs?: number;
  /** Applied to every event's recorded arguments before a batch is sent (`--privacy`, see argumentsScrubber). */
  scrubArguments?: ArgumentsScrubber | undefined;
}

/** Counters, for tests and the curious (`--debug`). */
export interface AnalyticsCounts {
  /** Events and rollup rows the sidecar accepted. */
  sentCalls: number;
  sentRollups: number;
  /** Calls (not rows) folded into the spill. */
  spilledCalls: number;
  /** Calls refused for good (422). */
  refusedCalls: number;
  /** Calls spilled from batches that got no answer after going out: the sidecar may have stored them too. */
  uncertainCalls: number;
}

export class CallAnalytics {
  private events: CallEvent[] = [];
  /** Calls past `capacity`, folded. */
  private overflow = new Map<string, CallRollup>();
  private readonly capacity: number;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  /** While the sidecar is failing: no POST before this time (Date.now()). */
  private retryAt = 0;
  private retryDelay = RETRY_BASE_MS;
  private troubled = false;
  private stopping = false;
  readonly counts: AnalyticsCounts = {
    sentCalls: 0,
    sentRollups: 0,
    spilledCalls: 0,
    refusedCalls: 0,
    uncertainCalls: 0,
  };

  /** Give this to the CallRecorder. */
  readonly sink: CallSink = (event) => {
    if (this.events.length < this.capacity) this.events.push(event);
    else foldEvent(this.overflow, event);
  };

  constructor(private readonly options: CallAnalyticsOptions) {
    this.capacity = Math.max(1, options.capacity ?? DEFAULT_ANALYTICS_BUFFER);
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushMs ?? DEFAULT_ANALYTICS_FLUSH_MS);
    this.timer.unref();
  }

  /** Stop the timer and send (or spill) what is left; resolves when done. Never throws. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    this.retryAt = 0;
    this.stopping = true;
    // A spill that could not be written (its lock stayed taken) left the calls in memory: try again.
    for (let i = 0; i < 3; i++) {
      await this.flush(true);
      if (this.events.length === 0 && this.overflow.size === 0) return;
      this.retryAt = 0;
    }
    this.options.log(
      `tool-call analytics: ${this.events.length + [...this.overflow.values()].reduce((n, r) => n + r.calls, 0)} calls could be neither sent nor spilled before stopping; they are lost`,
    );
  }

  /** Events waiting in memory (not counting overflow rollups). */
  get buffered(): number {
    return this.events.length;
  }

  /** Send what is buffered (and, once the sidecar takes it, what was spilled). Never throws. */
  flush(final = false): Promise<void> {
    this.flushing ??= this.flushOnce(final)
      .catch((err: unknown) => this.trouble(`tool-call analytics: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        this.flushing = undefined;
      });
    return this.flushing;
  }

  private async flushOnce(final: boolean): Promise<void> {
    const events = this.events;
    const overflow = this.overflow;
    this.events = [];
    this.overflow = new Map();
    const rollups = [...overflow.values()];
    if (Date.now() < this.retryAt) {
      await this.toSpill(events, rollups);
      return;
    }
    const delivered = await this.deliver(this.scrubbed(events), rollups);
    if (!delivered) return;
    if (this.troubled) {
      this.troubled = false;
      this.options.log("tool-call analytics: the sidecar takes calls again");
    }
    // Nothing replays on the way out: the next proxy to reach the sidecar does it.
    if (!final && this.options.spill.waiting) await this.replay();
  }

  /** Events with their recorded arguments scrubbed, when the deliverer does not scrub them itself. */
  private scrubbed(events: CallEvent[]): CallEvent[] {
    const scrub = this.options.scrubArguments;
    if (!scrub || !events.some((e) => e.arguments !== null)) return events;
    return events.map((e) => (e.arguments === null ? e : { ...e, arguments: scrub(e.arguments) }));
  }

  /** POST in batches; what does not get through is spilled. True when everything was taken. */
  private async deliver(events: CallEvent[], rollups: CallRollup[]): Promise<boolean> {
    let e = 0;
    let r = 0;
    while (e < events.length || r < rollups.length) {
      // Events first, then rollups, each in POSTs within the size a sidecar takes.
      const batch = e < events.length ? packCallBatch("calls", events, e) : packCallBatch("rollups", rollups, r);
      const { calls, rollups: rows } = batch;
      const timeout = this.stopping ? (this.options.stopTimeoutMs ?? this.options.timeoutMs) : this.options.timeoutMs;
      const result = await this.options.deliverer.send(batch, timeout);
      if (result.ok) {
        this.counts.sentCalls += calls.length;
        this.counts.sentRollups += rows.length;
        this.retryDelay = RETRY_BASE_MS;
      } else if (!result.retryable) {
        this.counts.refusedCalls += calls.length + rows.reduce((n, row) => n + row.calls, 0);
        this.options.log(
          `tool-call analytics: the sidecar refused a batch of ${calls.length} calls and ${rows.length} rollups (${result.message}); it is dropped`,
        );
      } else {
        if (result.maybeDelivered) this.uncertain(calls.length + rows.reduce((n, row) => n + row.calls, 0));
        this.backOff(result.retryAfterMs);
        this.trouble(
          `tool-call analytics: ${result.message}; calls are aggregated in ${this.options.spill.path} until it is back`,
        );
        await this.toSpill(events.slice(e), rollups.slice(r));
        return false;
      }
      e += calls.length;
      r += rows.length;
    }
    return true;
  }

  /** The spill, claimed and sent as rollups; given back when the sidecar fails again. */
  private async replay(): Promise<void> {
    const claim = await this.options.spill.claim();
    if (!claim) return;
    for (let i = 0, n = 0; i < claim.rollups.length; i += n) {
      const batch = packCallBatch("rollups", claim.rollups, i);
      const rows = batch.rollups;
      n = rows.length;
      const result = await this.options.deliverer.send(batch, this.options.timeoutMs);
      if (!result.ok && result.retryable) {
        if (result.maybeDelivered) this.uncertain(rows.reduce((n, row) => n + row.calls, 0));
        this.backOff(result.retryAfterMs);
        // What was sent stays sent; the rest goes back.
        await this.options.spill.add(claim.rollups.slice(i));
        claim.done();
        return;
      }
      if (result.ok) this.counts.sentRollups += rows.length;
      else {
        this.counts.refusedCalls += rows.reduce((n, row) => n + row.calls, 0);
        this.options.log(
          `tool-call analytics: the sidecar refused ${rows.length} spilled rollups (${result.message}); they are dropped`,
        );
      }
    }
    claim.done();
    this.options.log(`tool-call analytics: replayed ${claim.rollups.length} spilled rollup rows`);
  }

  private async toSpill(events: CallEvent[], rollups: CallRollup[]): Promise<void> {
    if (events.length === 0 && rollups.length === 0) return;
    const rows = rollupsOf(events);
    for (const r of rollups) mergeRollup(rows, r);
    const calls = events.length + rollups.reduce((n, row) => n + row.calls, 0);
    try {
      await this.options.spill.add([...rows.values()]);
      this.counts.spilledCalls += calls;
    } catch (err) {
      // Kept in memory (bounded: they fold) for the next tick rather than lost.
      for (const r of rows.values()) mergeRollup(this.overflow, r);
      this.trouble(
        `tool-call analytics: the spill ${this.options.spill.path} could not be written (${err instanceof Error ? err.message : String(err)}); calls are held in memory as rollups`,
      );
    }
  }

  /** A batch that may have been stored is kept anyway: better counted twice than lost. */
  private uncertain(calls: number): void {
    this.counts.uncertainCalls += calls;
    this.options.debug?.(
      `tool-call analytics: no answer to a batch of ${calls} calls after it went out; kept, so they may be counted twice`,
    );
  }

  private backOff(retryAfterMs: number | undefined): void {
    this.retryAt = Date.now() + Math.max(this.retryDelay, Math.min(retryAfterMs ?? 0, RETRY_MAX_MS));
    this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
  }

  /** Logged once per stretch of trouble. */
  private trouble(message: string): void {
    if (this.troubled) return;
    this.troubled = true;
    this.options.log(message);
  }
}
