/**
 * Ingestion's writes on their own thread (`serve`): a worker with its own connection
 * (src/ingest/writer-worker.ts) scrubs each batch and runs its transaction — reports, and the
 * proxies' tool-call batches — while the main thread goes on reading and validating the next
 * requests. The queue keeps one batch in flight, so what arrives meanwhile joins the next one:
 * the slower the disk (SQLite's fsync) or the database (PostgreSQL's round trips), the larger
 * the batches. The worker waits for a write lock another connection holds (its busy timeout)
 * without blocking the event loop.
 */
import { Worker } from "node:worker_threads";
import type { CallBatch } from "../analytics/index.js";
import { workerEntry } from "../net/worker-entry.js";
import type { PrivacyMode } from "../privacy/index.js";
import { type NewReport, StoreError } from "../store/index.js";
import type { ScrubbedInsert } from "./privacy.js";

/** The worker's settings (workerData). */
export interface WriterConfig {
  dbPath: string;
  busyTimeoutMs: number;
  /** The process's write gate (src/store/sql/write-gate.ts): ingestion takes it with priority. */
  gate?: SharedArrayBuffer | undefined;
  /** `serve --privacy`; absent: the saved default, else secrets+pii (PrivacyPolicy). */
  privacy?: PrivacyMode | undefined;
}

export type WriterIn =
  /** Reports as validated, not yet scrubbed. */
  | { type: "write"; id: number; items: NewReport[] }
  /** A validated, scrubbed call batch (CallsStore.insertCalls). */
  | { type: "calls"; id: number; batch: CallBatch }
  | { type: "stop" };
export type WriterOut =
  /** `results`: one per report written; empty for a call batch. */
  | { type: "written"; id: number; results: ScrubbedInsert[] }
  /** `store`: a StoreError (a 4xx with its code); otherwise the database failed (`name` SqliteError: a 503). */
  | { type: "failed"; id: number; store: boolean; name: string; code: string; message: string }
  | { type: "ready" };

/** Scrubs and writes batches of reports, each in one transaction, resolving once it has committed. */
export interface BatchWriter {
  write(items: NewReport[]): Promise<ScrubbedInsert[]>;
}

/** Stores call batches, resolving once the batch has committed. */
export interface CallsWriter {
  writeCalls(batch: CallBatch): Promise<void>;
}

/** The database's error as thrown in the worker: its name (SqliteError) and code keep their HTTP mapping. */
function threadError(m: { name: string; code: string; message: string }): Error {
  const err = Object.assign(new Error(m.message), { code: m.code });
  err.name = m.name;
  return err;
}

interface InFlight {
  resolve: (results: ScrubbedInsert[]) => void;
  reject: (err: Error) => void;
}

export class ThreadWriter implements BatchWriter, CallsWriter {
  private readonly worker: Worker;
  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 1;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  private constructor(config: WriterConfig) {
    const entry = workerEntry(import.meta.url, "src/ingest", "writer-worker");
    this.worker = new Worker(entry.url, { workerData: config, execArgv: entry.execArgv });
    this.worker.on("message", (m: WriterOut) => this.answer(m));
    this.worker.on("error", (err) => this.fail(new Error(`the ingestion writer thread failed: ${err.message}`)));
    this.exited = new Promise((resolve) => {
      this.worker.once("exit", () => {
        this.fail(new Error("the ingestion writer thread has stopped"));
        resolve();
      });
    });
  }

  /** Start the writer on `dbPath` (already migrated by the caller's own connection); resolves once it is open. */
  static async start(config: WriterConfig): Promise<ThreadWriter> {
    const writer = new ThreadWriter(config);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: WriterOut): void => {
        if (m.type !== "ready") return;
        writer.worker.off("message", onMessage);
        writer.worker.off("exit", onExit);
        resolve();
      };
      const onExit = (): void => reject(writer.failure ?? new Error("the ingestion writer thread did not start"));
      writer.worker.on("message", onMessage);
      writer.worker.once("exit", onExit);
    });
    return writer;
  }

  write(items: NewReport[]): Promise<ScrubbedInsert[]> {
    return this.send((id) => ({ type: "write", id, items }));
  }

  async writeCalls(batch: CallBatch): Promise<void> {
    await this.send((id) => ({ type: "calls", id, batch }));
  }

  private send(message: (id: number) => WriterIn): Promise<ScrubbedInsert[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject });
      this.worker.postMessage(message(id));
    });
  }

  /** Finish the batches already sent, close the worker's connection, and end the thread. */
  async stop(): Promise<void> {
    if (this.failure === undefined) this.worker.postMessage({ type: "stop" } satisfies WriterIn);
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  private answer(m: WriterOut): void {
    if (m.type === "ready") return;
    const waiting = this.inFlight.get(m.id);
    if (!waiting) return;
    this.inFlight.delete(m.id);
    if (m.type === "written") waiting.resolve(m.results);
    else waiting.reject(m.store ? new StoreError(m.code, m.message) : threadError(m));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.inFlight.values()) w.reject(this.failure);
    this.inFlight.clear();
  }
}
