/**
 * Deferred grouping for `serve`: ingestion stores reports without a gap (one fast transaction),
 * and a worker thread (src/gaps/grouping-worker.ts, its own SQLite connection) assigns them in
 * id order behind the `assigned_upto` watermark, which moves in the same transaction as the
 * assignments (a kill loses nothing; the next start continues from it). Its lag is visible in
 * the `grouping` field of GET /api/gaps and /healthz.
 *
 * The known-gap echo survives: when a report's server has a gap worth echoing (planned, fixed,
 * wontfix, or an agent note), the ingest answer waits until the watermark passes the report
 * (at most ECHO_WAIT_MS) and then reads the report's gap. Servers without one answer at once.
 */
import { Worker } from "node:worker_threads";
import type { DeferredAssignment } from "../ingest/index.js";
import type { FeedbackStore, InsertResult } from "../store/index.js";
import { DEFAULT_BACKGROUND_NICE } from "../net/thread-priority.js";
import { workerEntry } from "../net/worker-entry.js";

/** How long an ingest answer waits for the worker before it answers without the echo. */
export const ECHO_WAIT_MS = 2000;

/** The worker's settings (workerData). */
export interface WorkerConfig {
  dbPath: string;
  /** At most this many reports per transaction … */
  maxReports: number;
  /** … and no more reports once a transaction has run this long (ms). */
  maxMs: number;
  /**
   * While reports arrive, pause this many times the transaction's duration before the next one
   * (ingestion first), unless the lag has reached maxLag reports or an answer waits for an echo.
   */
  pauseRatio: number;
  maxLag: number;
  /** Re-check for work (e.g. written by another process) this often when idle (ms). */
  idleMs: number;
  /** Reports per backfill or regroup batch. */
  backfillBatch: number;
  /**
   * How long a transaction waits for a lock another process holds. Short: the worker retries on
   * its next tick, and while it waits it holds the write gate an ingest batch may be waiting for.
   */
  busyTimeoutMs: number;
  /** The process's write gate (src/store/sql/write-gate.ts), shared with ingestion's writer. */
  gate?: SharedArrayBuffer | undefined;
  /** Also keep the full-text index behind ingestion, in batches of this many reports (0: not here). */
  ftsBatch: number;
  /**
   * The thread's nice value (src/net/thread-priority.ts): above 0, ingestion's threads come first
   * for the CPU whenever both want it, and this one takes what they leave (on Linux).
   */
  nice: number;
}

export type WorkerIn = { type: "wake" } | { type: "hurry"; id: number } | { type: "stop" };
export type WorkerOut =
  | { type: "progress"; assignedUpTo: number; latestId: number }
  | { type: "log"; line: string }
  | { type: "stopped" };

export const WORKER_DEFAULTS: Omit<WorkerConfig, "dbPath"> = {
  maxReports: 200,
  maxMs: 10,
  pauseRatio: 4,
  maxLag: 50_000,
  idleMs: 250,
  backfillBatch: 200,
  busyTimeoutMs: 250,
  ftsBatch: 0,
  nice: DEFAULT_BACKGROUND_NICE,
};

interface Waiter {
  id: number;
  resolve: (passed: boolean) => void;
  timer: NodeJS.Timeout;
}

export class GroupingWorker implements DeferredAssignment {
  private readonly worker: Worker;
  private assignedUpTo = 0;
  private latestId = 0;
  private waiters: Waiter[] = [];
  private wakeQueued = false;
  private warnedTimeout = false;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly store: FeedbackStore,
    config: WorkerConfig,
    private readonly log: (line: string) => void,
  ) {
    const entry = workerEntry(import.meta.url, "src/gaps", "grouping-worker");
    this.worker = new Worker(entry.url, { workerData: config, execArgv: entry.execArgv });
    this.worker.unref();
    this.assignedUpTo = store.gaps.progress().assigned_upto;
    this.worker.on("message", (m: WorkerOut) => {
      if (m.type === "progress") this.advance(m.assignedUpTo, m.latestId);
      else if (m.type === "log") this.log(m.line);
    });
    this.worker.on("error", (err) => this.log(`patchworkmcp: grouping worker failed: ${err.message}`));
    this.exited = new Promise((resolve) => this.worker.once("exit", () => resolve()));
    void this.exited.then(() => this.release());
  }

  /** Start the worker on the database `store` has open (the store itself must be open with `grouping: "deferred"`). */
  static start(
    store: FeedbackStore,
    options: { log?: (line: string) => void; config?: Partial<Omit<WorkerConfig, "dbPath">> } = {},
  ): GroupingWorker {
    return new GroupingWorker(
      store,
      { ...WORKER_DEFAULTS, ...options.config, dbPath: store.path },
      options.log ?? ((line) => process.stderr.write(`${line}\n`)),
    );
  }

  /** The watermark as the worker last reported it. */
  get watermark(): number {
    return this.assignedUpTo;
  }

  committed(): void {
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    // One message per event-loop turn, however many batches committed in it.
    setImmediate(() => {
      this.wakeQueued = false;
      this.worker.postMessage({ type: "wake" } satisfies WorkerIn);
    });
  }

  async settle(result: InsertResult, serverName: string): Promise<InsertResult> {
    if (result.gap_id !== null || !this.store.gaps.serverHasEchoableGap(serverName)) return result;
    if (!(await this.waitFor(result.id, ECHO_WAIT_MS))) {
      if (!this.warnedTimeout) {
        this.warnedTimeout = true;
        this.log(
          `patchworkmcp: grouping is more than ${ECHO_WAIT_MS} ms behind (report ${result.id}); ` +
            "ingest answers go out without the known-gap echo until it catches up",
        );
      }
      return result;
    }
    return { ...result, ...this.store.gaps.echoForReport(result.id) };
  }

  /** Resolves true once the watermark passes `id`, false after `timeoutMs`. */
  waitFor(id: number, timeoutMs: number): Promise<boolean> {
    if (id <= this.assignedUpTo) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        id,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.push(waiter);
      this.worker.postMessage({ type: "hurry", id } satisfies WorkerIn);
    });
  }

  private advance(assignedUpTo: number, latestId: number): void {
    this.assignedUpTo = Math.max(this.assignedUpTo, assignedUpTo);
    this.latestId = Math.max(this.latestId, latestId);
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.id <= this.assignedUpTo) {
        clearTimeout(w.timer);
        w.resolve(true);
      } else still.push(w);
    }
    this.waiters = still;
    if (this.warnedTimeout && this.assignedUpTo >= this.latestId) this.warnedTimeout = false;
  }

  private release(): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(false);
    }
    this.waiters = [];
  }

  /** Ask the worker to finish its transaction and close its connection; resolves when it has exited. */
  async stop(): Promise<void> {
    this.worker.postMessage({ type: "stop" } satisfies WorkerIn);
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
