/**
 * Alerts in `serve`: a timer runs the engine's steps (catching up back to back while a batch is
 * full) and then one round of deliveries. Both only read and write the database and the network
 * asynchronously from ingestion's point of view: nothing here runs inside a request.
 */
import { errorMessage, type PeriodicWorker, startPeriodic } from "../net/periodic.js";
import type { FeedbackStore } from "../store/index.js";
import { AlertDeliverer, type DeliveryOptions } from "./deliver.js";
import { AlertEngine } from "./engine.js";
import { DestinationSecrets } from "./secrets.js";

export const DEFAULT_ALERT_INTERVAL_MS = 1000;
/** Engine steps per tick at most (each a batch), so a large backlog never holds the loop long. */
const STEPS_PER_TICK = 20;

/** `tick()`: one tick now, resolved when its deliveries are settled. */
export interface AlertRunner extends PeriodicWorker {
  engine: AlertEngine;
  deliverer: AlertDeliverer;
}

export function startAlerts(
  store: FeedbackStore,
  options: DeliveryOptions & { publicUrl: string | (() => string); intervalMs?: number; log?: (line: string) => void },
): AlertRunner {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const engine = new AlertEngine(store, { publicUrl: options.publicUrl });
  const deliverer = new AlertDeliverer(store, new DestinationSecrets(store), { ...options, log });
  const controller = new AbortController();
  const isBusy = (err: unknown) => /SQLITE_BUSY|SQLITE_LOCKED/.test(String((err as { code?: unknown }).code));
  const live = () => !controller.signal.aborted && store.db.open;

  const once = async (): Promise<void> => {
    for (let i = 0; i < STEPS_PER_TICK && live(); i++) {
      const r = engine.step();
      if (!r.more) break;
      // Leave the event loop to requests between batches.
      await new Promise((res) => setImmediate(res));
    }
    while (live() && (await deliverer.runOnce()) > 0) {}
  };
  const periodic = startPeriodic(once, {
    controller,
    intervalMs: options.intervalMs ?? DEFAULT_ALERT_INTERVAL_MS,
    onError: (err) => {
      // A busy database is retried on the next tick; a closed one means serve is stopping.
      if (!isBusy(err) && store.db.open) log(`patchworkmcp: alerts: ${errorMessage(err)}`);
    },
  });
  return { engine, deliverer, tick: periodic.tick, stop: periodic.stop };
}
