/**
 * Write many small lines with one system call. Everything written in the same
 * tick is queued and flushed together on the next tick, and lines that sit
 * next to each other in memory (consecutive lines of one read, forwarded
 * unchanged) are merged into a single buffer first: a pipelined client's
 * chunk of 30 requests leaves as one write of one buffer, not 30.
 *
 * When the stream's buffer is full (its reader is slow or stalled),
 * `onPressure(true)` tells the caller to stop reading from the other side, and
 * `onPressure(false)` follows once it drains, so a stalled reader costs a
 * bounded amount of memory rather than everything the other side sends.
 */
import type { Writable } from "node:stream";

export type LineWriter = (line: Buffer | string) => void;

/** Returns a function that queues one line; the line must already end with `\n`. */
export function coalescingWriter(stream: Writable, onPressure?: (full: boolean) => void): LineWriter {
  let queue: Buffer[] = [];
  // The latest run of memory-adjacent lines: where it starts and how long it has grown. It
  // becomes one Buffer only when a piece from elsewhere arrives or the queue is flushed.
  let run: Buffer | undefined;
  let runLength = 0;
  let full = false;
  const endRun = () => {
    if (run) queue.push(runLength === run.length ? run : Buffer.from(run.buffer, run.byteOffset, runLength));
    run = undefined;
  };
  const flush = () => {
    endRun();
    const out = queue;
    queue = [];
    if (out.length === 1) {
      stream.write(out[0]);
    } else {
      stream.cork();
      for (const piece of out) stream.write(piece);
      stream.uncork();
    }
    if (onPressure && !full && stream.writableNeedDrain) {
      full = true;
      onPressure(true);
      stream.once("drain", () => {
        full = false;
        onPressure(false);
      });
    }
  };
  return (line) => {
    const piece = typeof line === "string" ? Buffer.from(line) : line;
    if (run === undefined && queue.length === 0) process.nextTick(flush);
    if (run !== undefined && run.buffer === piece.buffer && run.byteOffset + runLength === piece.byteOffset) {
      runLength += piece.length;
      return;
    }
    endRun();
    run = piece;
    runLength = piece.length;
  };
}
