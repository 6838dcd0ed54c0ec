/**
 * Split a byte stream into lines, as Buffers: untouched messages are then
 * forwarded as the bytes received, with no decode/encode round trip. Only the
 * new chunk is searched for a newline, so a multi-megabyte line arriving in
 * many chunks costs one concatenation, not a quadratic number of copies.
 */
import type { Readable } from "node:stream";

const NL = 0x0a;
const CR = 0x0d;

const isBlank = (b: Buffer) => {
  for (const c of b) if (c !== 0x20 && c !== 0x09 && c !== CR && c !== NL) return false;
  return true;
};

export function readLines(stream: Readable, onLine: (line: Buffer) => void, onEnd: () => void): void {
  let parts: Buffer[] = [];
  const emit = (line: Buffer) => {
    const end = line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, -1) : line;
    if (end.length > 0 && !isBlank(end)) onLine(end);
  };
  stream.on("data", (chunk: Buffer) => {
    let start = 0;
    let nl = chunk.indexOf(NL);
    while (nl !== -1) {
      const piece = chunk.subarray(start, nl);
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
    const rest = Buffer.concat(parts);
    parts = [];
    emit(rest);
    onEnd();
  });
}
