/**
 * A background thread's CPU priority. On Linux the nice value belongs to each thread (a task of
 * its own, named by its thread id in /proc/thread-self), so one worker thread can step back
 * while the event loop and the ingestion writer keep theirs. Other systems apply a nice value to
 * the whole process, so there it is left alone.
 *
 * The value can only go up (lower priority) without privileges: a thread never gets it back.
 */
import { readlinkSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** The nice values a background thread may take: 0 (ingestion's own) to 19 (only idle CPU). */
export const NICE_MIN = 0;
export const NICE_MAX = 19;

/**
 * `serve`'s background threads (grouping, alert rules): nice 10, a scheduler weight about a tenth
 * of a normal thread's, so while ingestion keeps both cores busy they still get some CPU (a
 * burst's backlog does not only wait for the burst to end).
 */
export const DEFAULT_BACKGROUND_NICE = 10;

/**
 * Give the calling thread `nice`. Returns what happened in one sentence when it did not apply
 * (another system, a sandbox without /proc), undefined when it did.
 */
export function niceThisThread(nice: number): string | undefined {
  if (!Number.isInteger(nice) || nice < NICE_MIN || nice > NICE_MAX)
    throw new RangeError(`a thread's nice value must be a whole number from ${NICE_MIN} to ${NICE_MAX}, not ${nice}`);
  if (process.platform !== "linux") return `thread priorities are per process on ${process.platform}; left as it is`;
  let tid: number;
  try {
    tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
  } catch (err) {
    return `this thread's id could not be read from /proc/thread-self (${(err as Error).message})`;
  }
  try {
    if (getPriority(tid) < nice) setPriority(tid, nice);
    return undefined;
  } catch (err) {
    return `the thread's priority could not be set (${(err as Error).message})`;
  }
}

/**
 * A background thread's first step: take `nice` (0 leaves it), and where Linux refused, say so
 * once through `log` (`what` names the thread). Elsewhere it is silent: nothing was expected.
 */
export function stepBack(nice: number, what: string, log: (line: string) => void): void {
  if (nice === 0) return;
  const why = niceThisThread(nice);
  if (why && process.platform === "linux") log(`patchworkmcp: ${what} at normal priority: ${why}`);
}
