/**
 * Files several proxies share (the outbox, the analytics spill): changes happen
 * under a lock file (exclusive create). A lock older than LOCK_STALE_MS was left
 * by a process that died holding it and is taken over; taking over, like
 * releasing, first renames the lock aside and checks it is the one meant, so two
 * processes that both saw a stale lock never remove each other's fresh one.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from "node:fs";
import { dirname } from "node:path";

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 5_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Run `work` holding `lock`; `what` names the shared file in the error when the lock never comes free. */
export async function withFileLock<T>(lock: string, what: string, work: () => T): Promise<T> {
  mkdirSync(dirname(lock), { recursive: true });
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
        throw new Error(`${what} stayed locked by another process (remove ${lock} if none runs)`);
      await sleep(20 + Math.random() * 30);
    }
  }
  try {
    return work();
  } finally {
    // Ours unless we held it so long that another process took it over as stale.
    removeLockIf(lock, (held) => held.ino === mine.ino && held.dev === mine.dev);
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

/** Replace `path` with `text` all at once: a temp file, fsynced, renamed over it. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  const fd = openSync(tmp, "r");
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDirectory(dirname(path));
}

/** Make a rename or a new file in `dir` durable, where the platform allows opening a directory. */
export function fsyncDirectory(dir: string): void {
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
