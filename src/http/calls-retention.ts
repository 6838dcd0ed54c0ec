/**
 * serve's retention pass over tool-call analytics: raw call events older than
 * --call-retention-days and rollups older than --rollup-retention-days are deleted, once soon
 * after start and then every --call-purge-interval. Several sidecars on one PostgreSQL database purge once
 * (the store's retention lock: the others skip that pass). Failures are logged, never thrown.
 */
import { callsStore, type FeedbackStore, type PurgeResult } from "../store/index.js";

/** The longest a sidecar waits after it starts before its first retention pass. */
const FIRST_PASS_MAX_DELAY_MS = 60_000;

export interface CallRetentionOptions {
  /** Raw events kept this many days (0 = forever). */
  callDays: number;
  /** Rollups kept this many days (0 = forever). */
  rollupDays: number;
  intervalMs: number;
  log: (line: string) => void;
}

export interface CallRetention {
  /** One pass now: what it deleted, or null when another process was purging. */
  tick(): PurgeResult | null;
  stop(): void;
}

export function startCallRetention(store: FeedbackStore, options: CallRetentionOptions): CallRetention {
  const calls = callsStore(store);
  const tick = (): PurgeResult | null => {
    if (options.callDays === 0 && options.rollupDays === 0) return { calls: 0, rollups: 0 };
    const done = calls.purgeExpired({ callDays: options.callDays, rollupDays: options.rollupDays });
    if (done && (done.calls > 0 || done.rollups > 0))
      options.log(
        `patchworkmcp: retention removed ${done.calls} call event${done.calls === 1 ? "" : "s"} older than ` +
          `${options.callDays} days and ${done.rollups} rollup${done.rollups === 1 ? "" : "s"} older than ${options.rollupDays} days`,
      );
    return done;
  };
  const safeTick = () => {
    try {
      tick();
    } catch (err) {
      // Busy, locked or unreachable: the next pass tries again.
      options.log(`patchworkmcp: call retention pass failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  // The first pass a moment after start (at most a minute), not in the same turn: a freshly
  // started sidecar answers its first requests before it waits on any lock for this.
  const first = setTimeout(safeTick, Math.min(options.intervalMs, FIRST_PASS_MAX_DELAY_MS));
  const timer = setInterval(safeTick, options.intervalMs);
  first.unref();
  timer.unref();
  return {
    tick,
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
