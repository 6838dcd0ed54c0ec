/**
 * Split a byte stream into lines, as Buffers that keep their terminating
 * newline: a message forwarded unchanged is then written as the very bytes
 * received, and consecutive unchanged lines from one read are still one
 * contiguous piece of memory (see `LineWriter`). Only the new chunk is
 * searched for a newline, so a multi-megabyte line arriving in many chunks
 * costs one concatenation, not a quadratic number of copies.
 */
import type { Readable } from "node:stream";

const NL = 0x0a;

const isBlank = (b: Buffer) => {
  for (const c of b) if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== NL) return false;
  return true;
};

/** The line without its `\n` or `\r\n`. */
export function lineContent(line: Buffer): Buffer {
  let end = line.length;
  if (end > 0 && line[end - 1] === NL) end--;
  if (end > 0 && line[end - 1] === 0x0d) end--;
  return line.subarray(0, end);
}

/** Calls `onLine` with each non-blank line, newline included (a last line without one gets one). */
export function readLines(stream: Readable, onLine: (line: Buffer) => void, onEnd: () => void): void {
  let parts: Buffer[] = [];
  const emit = (line: Buffer) => {
    if (!isBlank(line)) onLine(line);
  };
  stream.on("data", (chunk: Buffer) => {
    let start = 0;
    let nl = chunk.indexOf(NL);
    while (nl !== -1) {
      const piece = chunk.subarray(start, nl + 1);
      if (parts.length > 0) {
        parts.push(piece);
        const line = Buffer.concat(parts);
        parts = [];
        emit(line);
      } else {
        emit(piece);
      }
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start < chunk.length) parts.push(start === 0 ? chunk : chunk.subarray(start));
  });
  stream.on("end", () => {
    if (parts.length > 0) {
      parts.push(Buffer.from("\n"));
      const rest = Buffer.concat(parts);
      parts = [];
      emit(rest);
    }
    onEnd();
  });
}
