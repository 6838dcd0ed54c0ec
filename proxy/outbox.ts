/**
 * The durable outbox: reports that could not be delivered, one
 * `PATCHWORKMCP_UNSENT_FEEDBACK {json}` line each (so `patchworkmcp replay
 * <outbox>` can send them too), every payload carrying its `idempotency_key`.
 *
 * Several proxies may share one outbox, so every change happens under a lock
 * file (exclusive create; a lock older than LOCK_STALE_MS is taken over).
 * Delivered entries are removed by rewriting the file to a temp file and
 * renaming it over the old one, keyed by idempotency key: an entry appended
 * meanwhile survives, and a crash between sending and rewriting only means a
 * re-send that the key makes harmless.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { formatUnsentLine, parseUnsentLines } from "../src/delivery/unsent.js";

export const DEFAULT_OUTBOX_PATH = join(homedir(), ".patchworkmcp", "outbox.log");
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 5_000;

export interface OutboxEntry {
  payload: Record<string, unknown>;
  idempotencyKey: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Outbox {
  constructor(readonly path: string) {}

  /** Append one report (its payload gains the idempotency_key field). */
  async append(entry: OutboxEntry): Promise<void> {
    await this.locked(() => {
      mkdirSync(dirname(this.path), { recursive: true });
      appendFileSync(this.path, `${formatUnsentLine({ ...entry.payload, idempotency_key: entry.idempotencyKey })}\n`, { mode: 0o600 });
    });
  }

  /** The entries waiting, oldest first. */
  read(): OutboxEntry[] {
    if (!existsSync(this.path)) return [];
    return parseUnsentLines(readFileSync(this.path, "utf8")).entries.map((e) => ({ payload: e.payload, idempotencyKey: e.idempotencyKey }));
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
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, kept.length > 0 ? `${kept.join("\n")}\n` : "", { mode: 0o600 });
      const fd = openSync(tmp, "r");
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, this.path);
    });
  }

  private async locked(work: () => void): Promise<void> {
    const lock = `${this.path}.lock`;
    mkdirSync(dirname(this.path), { recursive: true });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        closeSync(openSync(lock, "wx"));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        try {
          if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) unlinkSync(lock);
        } catch {
          // The holder released it between our checks.
        }
        if (Date.now() > deadline) throw new Error(`the outbox ${this.path} stayed locked by another process (remove ${lock} if none runs)`);
        await sleep(20 + Math.random() * 30);
      }
    }
    try {
      work();
    } finally {
      try {
        unlinkSync(lock);
      } catch {
        // Taken over as stale: nothing to release.
      }
    }
  }
}
