/**
 * Rule evaluation on a thread of its own (src/alerts/engine-worker.ts) for `serve`: the main
 * thread keeps only the deliveries, which wait on the network. The worker runs the engine's steps
 * every interval by itself; `tick()` runs them now and resolves with what they queued, and a
 * timer run that queued something says so (`onQueued`), so its deliveries go out at once.
 */
import { Worker } from "node:worker_threads";
import { workerEntry } from "../net/worker-entry.js";

/** The worker's settings (workerData). */
export interface EngineConfig {
  dbPath: string;
  /** The dashboard's address, for the links in alerts. */
  publicUrl: string;
  intervalMs: number;
  /** Engine steps per run at most (each one batch). */
  maxSteps: number;
  /** Reports or history rows per step: a step holds the write lock while it evaluates them. */
  batch: number;
  busyTimeoutMs: number;
  /** The process's write gate (src/store/sql/write-gate.ts); absent on PostgreSQL. */
  gate?: SharedArrayBuffer | undefined;
  /** The thread's nice value (src/net/thread-priority.ts). */
  nice: number;
}

export type EngineIn = { type: "tick"; id: number } | { type: "stop" };
export type EngineOut =
  | { type: "ready" }
  | { type: "ticked"; id: number; queued: number }
  | { type: "queued"; queued: number }
  | { type: "log"; line: string }
  | { type: "stopped" };

export class EngineThread {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly ticks = new Map<number, (queued: number) => void>();
  private readonly exited: Promise<void>;
  private ended = false;

  constructor(config: EngineConfig, hooks: { log: (line: string) => void; onQueued: () => void }) {
    const entry = workerEntry(import.meta.url, "src/alerts", "engine-worker");
    this.worker = new Worker(entry.url, { workerData: config, execArgv: entry.execArgv });
    this.worker.unref();
    this.worker.on("message", (m: EngineOut) => {
      if (m.type === "log") hooks.log(m.line);
      else if (m.type === "queued") hooks.onQueued();
      else if (m.type === "ticked") {
        this.ticks.get(m.id)?.(m.queued);
        this.ticks.delete(m.id);
      }
    });
    this.worker.on("error", (err) => hooks.log(`patchworkmcp: the alert engine's thread failed: ${err.message}`));
    this.exited = new Promise((resolve) =>
      this.worker.once("exit", () => {
        this.ended = true;
        for (const answer of this.ticks.values()) answer(0);
        this.ticks.clear();
        resolve();
      }),
    );
  }

  /** Evaluate now; resolves with the deliveries queued (0 once the thread has ended). */
  tick(): Promise<number> {
    if (this.ended) return Promise.resolve(0);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.ticks.set(id, resolve);
      this.worker.postMessage({ type: "tick", id } satisfies EngineIn);
    });
  }

  /** Let a step in progress finish, close the connection, and end the thread. */
  async stop(): Promise<void> {
    this.worker.postMessage({ type: "stop" } satisfies EngineIn);
    const timer = setTimeout(() => void this.worker.terminate(), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
