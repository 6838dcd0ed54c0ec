/**
 * The durable outbox: reports that could not be delivered, one
 * `PATCHWORKMCP_UNSENT_FEEDBACK {json}` line each (so `patchworkmcp replay
 * <outbox>` can send them too), every payload carrying its `idempotency_key`.
 *
 * Several proxies may share one outbox, so every change happens under a lock
 * file (exclusive create). A lock older than LOCK_STALE_MS was left by a
 * process that died holding it and is taken over; taking over, like
 * releasing, first renames the lock aside and checks it is the one meant, so
 * two processes that both saw a stale lock never remove each other's fresh one.
 * Appends are fsynced before they count as kept. Delivered entries are removed
 * by rewriting the file to a temp file and renaming it over the old one, keyed
 * by idempotency key: an entry appended meanwhile survives, and a crash between
 * sending and rewriting only means a re-send that the key makes harmless.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  type Stats,
} from "node:fs";
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
      const tmp = `${this.path}.${process.pid}.tmp`;
      writeFileSync(tmp, kept.length > 0 ? `${kept.join("\n")}\n` : "", { mode: 0o600 });
      const fd = openSync(tmp, "r");
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, this.path);
      fsyncDirectory(dirname(this.path));
    });
  }

  private async locked(work: () => void): Promise<void> {
    const lock = `${this.path}.lock`;
    mkdirSync(dirname(this.path), { recursive: true });
    const deadline = Date.now() + LOCK_WAIT_MS;
    let mine: Stats;
    for (;;) {
      try {
        closeSync(openSync(lock, "wx"));
        mine = statSync(lock);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
        removeLockIf(lock, (held) => Date.now() - held.mtimeMs > LOCK_STALE_MS);
        if (Date.now() > deadline)
          throw new Error(`the outbox ${this.path} stayed locked by another process (remove ${lock} if none runs)`);
        await sleep(20 + Math.random() * 30);
      }
    }
    try {
      work();
    } finally {
      // Ours unless we held it so long that another process took it over as stale.
      removeLockIf(lock, (held) => held.ino === mine.ino && held.dev === mine.dev);
    }
  }
}

/**
 * Remove the lock file if `isTheOne` says so of the file actually removed:
 * the lock is renamed aside first (atomic, so only one process gets a given
 * lock file), checked, and linked back if it was not the one meant — unless
 * the place has been taken since, in which case the newer lock stands.
 */
function removeLockIf(lock: string, isTheOne: (held: Stats) => boolean): void {
  try {
    if (!isTheOne(statSync(lock))) return;
  } catch {
    return; // already gone
  }
  const aside = `${lock}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    renameSync(lock, aside);
  } catch {
    return; // another process moved it first
  }
  try {
    if (!isTheOne(statSync(aside))) linkSync(aside, lock);
  } catch {
    // EEXIST: a newer lock was taken meanwhile; it stands.
  } finally {
    try {
      unlinkSync(aside);
    } catch {
      // nothing left to clean
    }
  }
}

/** Make a rename or a new file in `dir` durable, where the platform allows opening a directory. */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Windows and some filesystems refuse: the data itself is already fsynced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
