/**
 * What one durable commit costs on this disk: the median of 200 appends of 4 KiB, each followed
 * by fsync, in `dir` (appends, as a growing WAL's commits are, so each fsync also carries the
 * file's new size). At 10 connections bench:ingest waits on one fsync per batch, so its figure
 * follows this one; on this shared VM it has moved by 2× within an hour, and printing it beside
 * the figures says which kind of hour a run had.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

export function fsyncMs(dir: string, rounds = 200): number {
  const path = join(dir, "fsync-probe");
  const fd = openSync(path, "w");
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      writeSync(fd, block, 0, block.length, i * block.length);
      fsyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** The line the benches print: `label: 4 KiB append + fsync, median … ms`. */
export const diskLine = (dir: string, label = "disk"): string =>
  `${label}: 4 KiB append + fsync, median ${fsyncMs(dir).toFixed(3)} ms (bench/disk.ts)`;
