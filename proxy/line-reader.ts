/**
 * Split a text stream into lines without re-scanning what was already seen, so
 * a multi-megabyte line arriving in many chunks costs one join, not a quadratic
 * number of copies.
 */
import type { Readable } from "node:stream";

export function readLines(stream: Readable, onLine: (line: string) => void, onEnd: () => void): void {
  stream.setEncoding("utf8");
  let parts: string[] = [];
  stream.on("data", (chunk: string) => {
    let start = 0;
    let nl = chunk.indexOf("\n");
    while (nl !== -1) {
      let line = chunk.slice(start, nl);
      if (parts.length > 0) {
        parts.push(line);
        line = parts.join("");
        parts = [];
      }
      if (line.endsWith("\r")) line = line.slice(0, -1);
      if (line.length > 0) onLine(line);
      start = nl + 1;
      nl = chunk.indexOf("\n", start);
    }
    if (start < chunk.length) parts.push(start === 0 ? chunk : chunk.slice(start));
  });
  stream.on("end", () => {
    const rest = parts.join("").trim();
    parts = [];
    if (rest.length > 0) onLine(rest);
    onEnd();
  });
}
