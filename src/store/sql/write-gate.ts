/**
 * The writers of one process to one SQLite file (the main connection, the ingest writer thread,
 * the grouping worker) take turns through this gate around their IMMEDIATE transactions. A
 * waiting thread wakes the moment the holder commits (Atomics.notify), where SQLite's busy
 * handler sleeps 1, 2, 5, 10… ms between retries and so stalls every ingest answer behind a
 * background transaction. Ingestion has priority: while it waits, background writers do not
 * start, and long ones (grouping) end early by checking `contended`.
 *
 * Only an optimisation: SQLite's own lock still decides. A holder that never lets go (a thread
 * terminated mid-transaction) is waited for at most `maxWaitMs`, then passed by; other
 * processes meet SQLite's lock and busy timeout as before.
 */

/** [0]: 0 free, 1 held; [1]: priority writers waiting. */
const CELLS = 2;

export class WriteGate {
  private readonly cells: Int32Array;
  /** Nesting on this thread (a transaction inside a transaction is a savepoint). */
  private depth = 0;

  constructor(
    /** Shared with the other threads' gates (workerData carries it). */
    readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(CELLS * Int32Array.BYTES_PER_ELEMENT),
    private readonly priority = false,
    private readonly maxWaitMs = 5000,
  ) {
    this.cells = new Int32Array(buffer);
  }

  /** True while a priority writer waits for the gate. */
  get contended(): boolean {
    return Atomics.load(this.cells, 1) > 0;
  }

  /** Run `fn` holding the gate. */
  hold<R>(fn: () => R): R {
    if (this.depth > 0) {
      this.depth++;
      try {
        return fn();
      } finally {
        this.depth--;
      }
    }
    const held = this.acquire();
    this.depth = 1;
    try {
      return fn();
    } finally {
      this.depth = 0;
      if (held) {
        Atomics.store(this.cells, 0, 0);
        Atomics.notify(this.cells, 0);
      }
    }
  }

  private acquire(): boolean {
    const c = this.cells;
    const deadline = performance.now() + this.maxWaitMs;
    if (this.priority) Atomics.add(c, 1, 1);
    try {
      for (;;) {
        // Background writers let a waiting ingest batch go first.
        const waiting = this.priority ? 0 : Atomics.load(c, 1);
        if (waiting === 0 && Atomics.compareExchange(c, 0, 0, 1) === 0) return true;
        const left = deadline - performance.now();
        if (left <= 0) return false;
        if (waiting > 0) Atomics.wait(c, 1, waiting, Math.min(left, 5));
        else Atomics.wait(c, 0, 1, Math.min(left, 50));
      }
    } finally {
      if (this.priority) {
        Atomics.sub(c, 1, 1);
        Atomics.notify(c, 1);
      }
    }
  }
}
