import { PassThrough, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { coalescingWriter } from "../../proxy/coalesce.js";
import { lineContent, readLines } from "../../proxy/line-reader.js";

function collect(chunks: (string | Buffer)[]): Promise<Buffer[]> {
  const stream = new PassThrough();
  const lines: Buffer[] = [];
  const done = new Promise<Buffer[]>((resolve) =>
    readLines(
      stream,
      (l) => lines.push(l),
      () => resolve(lines),
    ),
  );
  for (const c of chunks) stream.write(typeof c === "string" ? Buffer.from(c) : c);
  stream.end();
  return done;
}

/** A sink that records each write it gets, as the proxy's pipes would see them. */
function recordingSink(): { stream: Writable; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push(chunk);
      cb();
    },
    writev(chunks, cb) {
      writes.push(Buffer.concat(chunks.map((c) => c.chunk as Buffer)));
      cb();
    },
  });
  return { stream, writes };
}

const tick = () => new Promise((r) => setImmediate(r));

describe("line reader", () => {
  it("keeps each line's own terminator, joins lines split across chunks, and skips blank lines", async () => {
    const lines = await collect(['{"a":1}\n{"b"', ':2}\r\n\n  \n{"c":', "3}\n", '{"d":4}']);
    expect(lines.map((l) => l.toString())).toEqual(['{"a":1}\n', '{"b":2}\r\n', '{"c":3}\n', '{"d":4}\n']);
    expect(lines.map((l) => lineContent(l).toString())).toEqual(['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}']);
  });

  it("reassembles a multi-megabyte line from many small chunks", async () => {
    const big = `{"x":"${"y".repeat(5 * 1024 * 1024)}"}\n`;
    const chunks: string[] = [];
    for (let i = 0; i < big.length; i += 65536) chunks.push(big.slice(i, i + 65536));
    const lines = await collect(chunks);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.equals(Buffer.from(big))).toBe(true);
  });
});

describe("coalescing writer", () => {
  it("sends the lines of one tick as one write, byte for byte, merging lines that are adjacent in memory", async () => {
    const chunk = Buffer.from('{"id":1}\n{"id":2}\n{"id":3}\n');
    const lines: Buffer[] = [];
    readLines(
      new PassThrough().end(chunk),
      (l) => lines.push(l),
      () => undefined,
    );
    await tick();
    expect(lines).toHaveLength(3);
    const { stream, writes } = recordingSink();
    const write = coalescingWriter(stream);
    write(lines[0]!);
    write(lines[1]!);
    write('{"made":"here"}\n');
    write(lines[2]!);
    expect(writes).toHaveLength(0);
    await tick();
    expect(Buffer.concat(writes).toString()).toBe('{"id":1}\n{"id":2}\n{"made":"here"}\n{"id":3}\n');
    expect(writes).toHaveLength(1);
    // Lines 1 and 2 were one span of the chunk: they reached the stream as the chunk's own memory.
    write(lines[0]!);
    write(lines[1]!);
    write(lines[2]!);
    await tick();
    expect(writes[1]!.buffer).toBe(chunk.buffer);
    expect(writes[1]!.toString()).toBe(chunk.toString());
  });

  it("never merges lines that are not next to each other", async () => {
    const a = Buffer.from('{"a":1}\n{"skip":true}\n{"b":2}\n');
    const first = a.subarray(0, 8);
    const third = a.subarray(22);
    const { stream, writes } = recordingSink();
    const write = coalescingWriter(stream);
    write(first);
    write(third);
    await tick();
    expect(Buffer.concat(writes).toString()).toBe('{"a":1}\n{"b":2}\n');
  });
});
