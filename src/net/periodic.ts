/**
 * A background pass run every interval by serve's workers (automatic gap analysis, the autonomy
 * ladder, issue sync, alerts): one pass at a time (a tick while one runs joins it), failures
 * handed to `onError` and never thrown, the timer unref'd so it never holds the process open, and
 * `stop` aborting the pass and waiting for it to end.
 */
export interface PeriodicWorker<T = void> {
  /** Stop the timer and abort the pass; resolves once a pass still running has ended. */
  stop(): Promise<void>;
  /** One pass now (tests, and a pass on demand): its result, or undefined when it failed. */
  tick(): Promise<T | undefined>;
}

export function startPeriodic<T = void>(
  pass: () => Promise<T>,
  /** `controller`: the pass's own, aborted by `stop` (the pass reads its signal). */
  options: { intervalMs: number; onError: (err: unknown) => void; controller: AbortController },
): PeriodicWorker<T> {
  const { controller } = options;
  let running: Promise<T | undefined> | undefined;
  const tick = (): Promise<T | undefined> => {
    running ??= pass()
      .catch((err: unknown) => {
        options.onError(err);
        return undefined;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void tick(), options.intervalMs);
  timer.unref();
  return {
    tick,
    async stop() {
      clearInterval(timer);
      controller.abort();
      await running;
    },
  };
}

/** An error's message, for a log line. */
export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
