/**
 * Alerts in `serve`: the rules are evaluated on a thread of their own (src/alerts/engine-thread.ts),
 * on its timer, and the deliveries are sent from here, every interval and as soon as that thread
 * has queued some. Nothing here runs inside a request, and rule evaluation not even on the event
 * loop that answers them.
 */
import { errorMessage, type PeriodicWorker, startPeriodic } from "../net/periodic.js";
import { DEFAULT_BACKGROUND_NICE } from "../net/thread-priority.js";
import { BUSY_TIMEOUT_MS_DEFAULT, type FeedbackStore } from "../store/index.js";
import { AlertDeliverer, type DeliveryOptions } from "./deliver.js";
import { ENGINE_BATCH } from "./engine.js";
import { EngineThread } from "./engine-thread.js";
import { DestinationSecrets } from "./secrets.js";

export const DEFAULT_ALERT_INTERVAL_MS = 1000;
/** Engine steps per run at most, so a large backlog is taken in turns with the other writers. */
const STEPS_PER_RUN = 20;

/** `tick()`: one evaluation now, then one round of deliveries, resolved when they are settled. */
export interface AlertRunner extends PeriodicWorker {
  deliverer: AlertDeliverer;
}

export function startAlerts(
  store: FeedbackStore,
  options: DeliveryOptions & {
    publicUrl: string;
    intervalMs?: number;
    log?: (line: string) => void;
    /** The process's SQLite write gate (src/store/sql/write-gate.ts). */
    gate?: SharedArrayBuffer | undefined;
    /** The engine thread's nice value (default DEFAULT_BACKGROUND_NICE). */
    nice?: number;
  },
): AlertRunner {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const deliverer = new AlertDeliverer(store, new DestinationSecrets(store), { ...options, log });
  const controller = new AbortController();
  const isBusy = (err: unknown) => /SQLITE_BUSY|SQLITE_LOCKED/.test(String((err as { code?: unknown }).code));
  const live = () => !controller.signal.aborted && store.db.open;
  const intervalMs = options.intervalMs ?? DEFAULT_ALERT_INTERVAL_MS;

  const deliver = async (): Promise<void> => {
    while (live() && (await deliverer.runOnce()) > 0) {}
  };
  const periodic = startPeriodic(deliver, {
    controller,
    intervalMs,
    onError: (err) => {
      // A busy database is retried on the next tick; a closed one means serve is stopping.
      if (!isBusy(err) && store.db.open) log(`patchworkmcp: alerts: ${errorMessage(err)}`);
    },
  });
  const engine = new EngineThread(
    {
      dbPath: store.path,
      publicUrl: options.publicUrl,
      intervalMs,
      maxSteps: STEPS_PER_RUN,
      batch: ENGINE_BATCH,
      busyTimeoutMs: BUSY_TIMEOUT_MS_DEFAULT,
      gate: options.gate,
      nice: options.nice ?? DEFAULT_BACKGROUND_NICE,
    },
    { log, onQueued: () => void periodic.tick() },
  );
  return {
    deliverer,
    async tick() {
      await engine.tick();
      return periodic.tick();
    },
    async stop() {
      await Promise.all([engine.stop(), periodic.stop()]);
    },
  };
}
