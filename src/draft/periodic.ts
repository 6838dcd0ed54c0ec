/**
 * A background pass run every interval by serve's draft-side workers (automatic gap analysis, the
 * autonomy ladder): one pass at a time (a tick while one runs joins it), failures logged and never
 * thrown, the timer unref'd so it never holds the process open, and `stop` aborting the pass.
 */
export interface PeriodicWorker {
  stop(): void;
  /** One pass now (tests, and a pass on demand). Resolves when it is done. */
  tick(): Promise<void>;
}

export function startPeriodic(
  pass: () => Promise<void>,
  /** `controller`: the pass's own, aborted by `stop` (the pass reads its signal). */
  options: { intervalMs: number; onError: (message: string) => void; controller: AbortController },
): PeriodicWorker {
  const { controller } = options;
  let running: Promise<void> | undefined;
  const tick = (): Promise<void> => {
    running ??= pass()
      .catch((err: unknown) => options.onError(err instanceof Error ? err.message : String(err)))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  timer.unref();
  return {
    tick,
    stop() {
      clearInterval(timer);
      controller.abort();
    },
  };
}
