/**
 * Write many small messages with one system call: everything written in the
 * same tick is corked and flushed together on the next tick. Pipelined clients
 * deliver dozens of lines per chunk; without this each costs its own write().
 */
import type { Writable } from "node:stream";

/** Returns a function that writes one message followed by a newline. */
export function coalescingWriter(stream: Writable): (message: Buffer | string) => void {
  let corked = false;
  const flush = () => {
    corked = false;
    stream.uncork();
  };
  return (message) => {
    if (!corked) {
      corked = true;
      stream.cork();
      process.nextTick(flush);
    }
    stream.write(message);
    stream.write("\n");
  };
}
