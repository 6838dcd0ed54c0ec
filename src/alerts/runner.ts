/**
 * Alerts in `serve`: a timer runs the engine's steps (catching up back to back while a batch is
 * full) and then one round of deliveries. Both only read and write the database and the network
 * asynchronously from ingestion's point of view: nothing here runs inside a request.
 */
import type { FeedbackStore } from "../store/index.js";
import { AlertDeliverer, type DeliveryOptions } from "./deliver.js";
import { AlertEngine } from "./engine.js";
import { DestinationSecrets } from "./secrets.js";

export const DEFAULT_ALERT_INTERVAL_MS = 1000;
/** Engine steps per tick at most (each a batch), so a large backlog never holds the loop long. */
const STEPS_PER_TICK = 20;

export interface AlertRunner {
  engine: AlertEngine;
  deliverer: AlertDeliverer;
  /** One tick now; resolves when its deliveries are settled. */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

export function startAlerts(
  store: FeedbackStore,
  options: DeliveryOptions & { publicUrl: string | (() => string); intervalMs?: number; log?: (line: string) => void },
): AlertRunner {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const engine = new AlertEngine(store, { publicUrl: options.publicUrl });
  const deliverer = new AlertDeliverer(store, new DestinationSecrets(store), { ...options, log });
  let running: Promise<void> | undefined;
  let stopped = false;
  const isBusy = (err: unknown) => /SQLITE_BUSY|SQLITE_LOCKED/.test(String((err as { code?: unknown }).code));

  const once = async (): Promise<void> => {
    for (let i = 0; i < STEPS_PER_TICK && !stopped && store.db.open; i++) {
      const r = engine.step();
      if (!r.more) break;
      // Leave the event loop to requests between batches.
      await new Promise((res) => setImmediate(res));
    }
    while (!stopped && store.db.open && (await deliverer.runOnce()) > 0) {}
  };
  const tick = (): Promise<void> => {
    running ??= once()
      .catch((err: unknown) => {
        if (!isBusy(err) && store.db.open) log(`patchworkmcp: alerts: ${err instanceof Error ? err.message : err}`);
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), options.intervalMs ?? DEFAULT_ALERT_INTERVAL_MS);
  timer.unref();
  return {
    engine,
    deliverer,
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
