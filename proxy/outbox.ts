/**
 * The durable outbox: reports that could not be delivered, one
 * `PATCHWORKMCP_UNSENT_FEEDBACK {json}` line each (so `patchworkmcp replay
 * <outbox>` can send them too), every payload carrying its `idempotency_key`.
 *
 * Several proxies may share one outbox, so every change happens under a lock
 * file (file-lock.ts).
 * Appends are fsynced before they count as kept. Delivered entries are removed
 * by rewriting the file to a temp file and renaming it over the old one, keyed
 * by idempotency key: an entry appended meanwhile survives, and a crash between
 * sending and rewriting only means a re-send that the key makes harmless.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { formatUnsentLine, parseUnsentLines } from "../src/delivery/unsent.js";
import { fsyncDirectory, withFileLock, writeFileAtomic } from "./file-lock.js";

export const DEFAULT_OUTBOX_PATH = join(homedir(), ".patchworkmcp", "outbox.log");

export interface OutboxEntry {
  payload: Record<string, unknown>;
  idempotencyKey: string;
}

export class Outbox {
  constructor(readonly path: string) {}

  /** Append one report (its payload gains the idempotency_key field). */
  async append(entry: OutboxEntry): Promise<void> {
    await this.locked(() => {
      const created = !existsSync(this.path);
      const fd = openSync(this.path, "a", 0o600);
      try {
        writeSync(fd, `${formatUnsentLine({ ...entry.payload, idempotency_key: entry.idempotencyKey })}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      if (created) fsyncDirectory(dirname(this.path));
    });
  }

  /** The entries waiting, oldest first. */
  read(): OutboxEntry[] {
    if (!existsSync(this.path)) return [];
    return parseUnsentLines(readFileSync(this.path, "utf8")).entries.map((e) => ({
      payload: e.payload,
      idempotencyKey: e.idempotencyKey,
    }));
  }

  /** Drop the entries with these keys, atomically. */
  async remove(keys: Set<string>): Promise<void> {
    if (keys.size === 0) return;
    await this.locked(() => {
      if (!existsSync(this.path)) return;
      const text = readFileSync(this.path, "utf8");
      const { entries } = parseUnsentLines(text);
      const gone = new Set(entries.filter((e) => keys.has(e.idempotencyKey)).map((e) => e.line));
      const kept = text.split("\n").filter((line, i) => line.trim() !== "" && !gone.has(i + 1));
      writeFileAtomic(this.path, kept.length > 0 ? `${kept.join("\n")}\n` : "");
    });
  }

  private locked(work: () => void): Promise<void> {
    return withFileLock(`${this.path}.lock`, `the outbox ${this.path}`, work);
  }
}
