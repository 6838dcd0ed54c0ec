/**
 * The alert engine's thread (started by src/alerts/engine-thread.ts; not imported by anything
 * else): its own connection, at the background threads' priority, evaluating rules in steps on a
 * timer and whenever the main thread asks. Rule evaluation reads every report the grouping
 * placed; on the event loop it cost each request's answer its share of that (13-17 µs a report
 * with 20 rules), here it costs only spare CPU.
 */
import { parentPort, workerData } from "node:worker_threads";
import { stepBack } from "../net/thread-priority.js";
import { FeedbackStore, WriteGate } from "../store/index.js";
import { AlertEngine } from "./engine.js";
import type { EngineConfig, EngineIn, EngineOut } from "./engine-thread.js";

const config = workerData as EngineConfig;
const port = parentPort!;
const post = (m: EngineOut): void => port.postMessage(m);

stepBack(config.nice, "alert engine", (line) => post({ type: "log", line }));

const store = FeedbackStore.open(config.dbPath, {
  grouping: "deferred",
  busyTimeoutMs: config.busyTimeoutMs,
  writeGate: config.gate ? new WriteGate(config.gate) : undefined,
});
const engine = new AlertEngine(store, { publicUrl: config.publicUrl, batch: config.batch });
const isBusy = (err: unknown): boolean => /SQLITE_BUSY|SQLITE_LOCKED/.test(String((err as { code?: unknown }).code));

/** Up to `maxSteps` steps (each one batch), yielding to messages between them; how many deliveries they queued. */
async function run(): Promise<number> {
  let queued = 0;
  for (let i = 0; i < config.maxSteps && store.db.open; i++) {
    const r = engine.step();
    queued += r.queued;
    if (!r.more) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return queued;
}

let running: Promise<number> | undefined;
/** One run at a time: a tick that arrives during one is answered by it. */
function tick(): Promise<number> {
  running ??= run()
    .catch((err: unknown) => {
      // A busy database is retried on the next tick; a closed one means serve is stopping.
      if (!isBusy(err) && store.db.open) post({ type: "log", line: `patchworkmcp: alerts: ${(err as Error).message}` });
      return 0;
    })
    .finally(() => {
      running = undefined;
    });
  return running;
}

const timer = setInterval(
  () =>
    void tick().then((queued) => {
      if (queued > 0) post({ type: "queued", queued });
    }),
  config.intervalMs,
);

port.on("message", (m: EngineIn) => {
  if (m.type === "tick") void tick().then((queued) => post({ type: "ticked", id: m.id, queued }));
  else if (m.type === "stop") {
    clearInterval(timer);
    void (running ?? Promise.resolve(0)).then(() => {
      store.close();
      post({ type: "stopped" });
      port.close();
    });
  }
});
post({ type: "ready" });
