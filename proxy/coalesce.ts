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
  let full = false;
  const flush = () => {
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
    const n = queue.length;
    if (n === 0) process.nextTick(flush);
    const last = n > 0 ? queue[n - 1]! : undefined;
    if (last !== undefined && last.buffer === piece.buffer && last.byteOffset + last.length === piece.byteOffset) {
      queue[n - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + piece.length);
    } else {
      queue.push(piece);
    }
  };
}
