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
/**
 * No JSON-RPC message is this large; a line that grows past it is a peer
 * writing without newlines, and keeping it would only exhaust memory.
 */
export const MAX_LINE_BYTES = 128 * 1024 * 1024;

const isBlank = (b: Buffer) => {
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== NL) return false;
  }
  return true;
};

/** Length of a line without its `\n` or `\r\n`. */
export function contentLength(line: Uint8Array): number {
  let end = line.length;
  if (end > 0 && line[end - 1] === NL) end--;
  if (end > 0 && line[end - 1] === 0x0d) end--;
  return end;
}

/** The line without its `\n` or `\r\n`. */
export function lineContent(line: Buffer): Buffer {
  return line.subarray(0, contentLength(line));
}

/** What is known of a line dropped for its length: its size and its first and last bytes (where an id may be read). */
export interface OversizedLine {
  bytes: number;
  head: Buffer;
  tail: Buffer;
}

const ENDS = 64;

/**
 * Calls `onLine` with each non-blank line, newline included (a last line
 * without one gets one). A line longer than `maxLineBytes` is dropped whole:
 * its bytes are skipped up to its newline and `onOversized` hears of it then.
 */
export function readLines(
  stream: Readable,
  onLine: (line: Buffer) => void,
  onEnd: () => void,
  limits: { maxLineBytes?: number; onOversized?: (line: OversizedLine) => void } = {},
): void {
  const max = limits.maxLineBytes ?? MAX_LINE_BYTES;
  let parts: Buffer[] = [];
  let held = 0;
  /** Set while inside a line already found too long. */
  let dropped: OversizedLine | undefined;
  const emit = (line: Buffer) => {
    if (!isBlank(line)) onLine(line);
  };
  const skip = (piece: Buffer) => {
    dropped!.bytes += piece.length;
    const joined = piece.length >= ENDS ? piece : Buffer.concat([dropped!.tail, piece]);
    dropped!.tail = Buffer.from(joined.subarray(-ENDS));
  };
  stream.on("data", (chunk: Buffer) => {
    let start = 0;
    let nl = chunk.indexOf(NL);
    while (nl !== -1) {
      const piece = chunk.subarray(start, nl + 1);
      if (dropped) {
        skip(piece);
        const line = dropped;
        dropped = undefined;
        line.tail = lineContent(line.tail);
        limits.onOversized?.(line);
      } else if (parts.length > 0) {
        parts.push(piece);
        const line = Buffer.concat(parts);
        parts = [];
        held = 0;
        emit(line);
      } else {
        emit(piece);
      }
      start = nl + 1;
      nl = chunk.indexOf(NL, start);
    }
    if (start >= chunk.length) return;
    const rest = start === 0 ? chunk : chunk.subarray(start);
    if (dropped) {
      skip(rest);
      return;
    }
    parts.push(rest);
    held += rest.length;
    if (held > max) {
      dropped = { bytes: 0, head: Buffer.concat(parts, Math.min(held, ENDS)), tail: Buffer.alloc(0) };
      for (const p of parts) skip(p);
      parts = [];
      held = 0;
    }
  });
  stream.on("end", () => {
    if (dropped) {
      limits.onOversized?.(dropped);
    } else if (parts.length > 0) {
      parts.push(Buffer.from("\n"));
      const rest = Buffer.concat(parts);
      parts = [];
      emit(rest);
    }
    onEnd();
  });
}
