/**
 * The analytics spill: where tool-call analytics wait while the sidecar cannot
 * take them. Not a line per call — calls fold into rollups (server × tool ×
 * client × hour, with a latency histogram: src/analytics), so the file grows
 * with the number of distinct keys, never with traffic, and a fleet of proxies
 * sharing one path cannot fill a disk. At most SPILL_MAX_ROWS rows are kept;
 * calls of keys past that are counted and dropped (logged once).
 *
 * The file is one JSON document `{"version":1,"rollups":[…]}`, shared by every
 * proxy that names it, changed only under its lock (file-lock.ts) and
 * replaced atomically. Replaying claims it first: under the lock it is renamed
 * to `<path>.sending.<pid>.<random>`, so calls spilled meanwhile start a new
 * file and no two proxies send the same rows. A claim whose process died
 * before it finished is picked up by the next replay; one that fails goes back
 * into the spill (or, when even that fails, is retried by the same proxy's next replay).
 */
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { callRollupSchema, emptyHistogram, mergeHistograms, type CallRollup } from "../src/analytics/index.js";
import { withFileLock, writeFileAtomic } from "./file-lock.js";
import type { Log } from "./log.js";

/** Rows the spill keeps: a few MB at most. */
export const SPILL_MAX_ROWS = 50_000;

const SPILL_VERSION = 1;

export const rollupKey = (r: Pick<CallRollup, "server_name" | "tool_name" | "client_name" | "hour">): string =>
  `${r.server_name}\u0000${r.tool_name}\u0000${r.client_name ?? ""}\u0000${r.hour}`;

/** Add `from` into the map of rollups by key; false when the key was new and `maxRows` stopped it. */
export function mergeRollup(
  into: Map<string, CallRollup>,
  from: CallRollup,
  maxRows = Number.POSITIVE_INFINITY,
): boolean {
  const key = rollupKey(from);
  const have = into.get(key);
  if (have) {
    have.calls += from.calls;
    have.errors += from.errors;
    mergeHistograms(have.histogram, from.histogram);
    return true;
  }
  if (into.size >= maxRows) return false;
  const copy = { ...from, histogram: emptyHistogram() };
  mergeHistograms(copy.histogram, from.histogram);
  into.set(key, copy);
  return true;
}

function readRollups(path: string): CallRollup[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  if (text.trim() === "") return [];
  const doc = JSON.parse(text) as { rollups?: unknown };
  const rows = Array.isArray(doc.rollups) ? doc.rollups : [];
  const out: CallRollup[] = [];
  // A row that does not validate (hand-edited, another version) is left out rather than blocking the rest.
  for (const row of rows) {
    const parsed = callRollupSchema.safeParse(row);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

export interface Claim {
  rollups: CallRollup[];
  /** The claimed file is gone: the rows were delivered. */
  done(): void;
  /** Delivery failed: the rows go back into the spill. */
  giveBack(): Promise<void>;
}

export class CallSpill {
  private droppedCalls = 0;

  constructor(
    readonly path: string,
    private readonly log: Log,
    private readonly maxRows = SPILL_MAX_ROWS,
  ) {}

  /** Quick look, without the lock: is anything (spilled or claimed by a dead proxy) waiting? */
  get waiting(): boolean {
    if (existsSync(this.path)) return true;
    return this.orphanClaims().length > 0;
  }

  /** Calls dropped because the spill was full, since this proxy started. */
  get dropped(): number {
    return this.droppedCalls;
  }

  /** Fold rollups into the file. */
  async add(rollups: readonly CallRollup[]): Promise<void> {
    if (rollups.length === 0) return;
    await withFileLock(`${this.path}.lock`, `the analytics spill ${this.path}`, () => {
      const rows = new Map<string, CallRollup>();
      for (const r of readRollups(this.path)) mergeRollup(rows, r);
      let dropped = 0;
      for (const r of rollups) if (!mergeRollup(rows, r, this.maxRows)) dropped += r.calls;
      if (dropped > 0) {
        if (this.droppedCalls === 0)
          this.log(
            `the analytics spill ${this.path} holds ${this.maxRows} rows, its limit: calls of further server × tool × client × hour keys are dropped until the sidecar takes the spill`,
          );
        this.droppedCalls += dropped;
      }
      writeFileAtomic(this.path, JSON.stringify({ version: SPILL_VERSION, rollups: [...rows.values()] }));
    });
  }

  /** Take everything waiting (the spill, and claims of proxies that died sending); undefined when nothing is. */
  async claim(): Promise<Claim | undefined> {
    const claimed = await withFileLock(`${this.path}.lock`, `the analytics spill ${this.path}`, () => {
      const files = this.orphanClaims();
      if (existsSync(this.path)) {
        const mine = `${this.path}.sending.${process.pid}.${randomBytes(4).toString("hex")}`;
        renameSync(this.path, mine);
        files.push(mine);
      }
      return files;
    });
    if (claimed.length === 0) return undefined;
    const rows = new Map<string, CallRollup>();
    for (const file of claimed) {
      try {
        for (const r of readRollups(file)) mergeRollup(rows, r);
      } catch (err) {
        this.log(
          `the analytics spill ${file} could not be read (${err instanceof Error ? err.message : String(err)}); it is left for a human`,
        );
        claimed.splice(claimed.indexOf(file), 1);
      }
    }
    const remove = () => {
      for (const file of claimed)
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
    };
    const rollups = [...rows.values()];
    return {
      rollups,
      done: remove,
      giveBack: async () => {
        await this.add(rollups);
        remove();
      },
    };
  }

  /** `<path>.sending.<pid>.*` files whose process is gone, or that this process left. */
  private orphanClaims(): string[] {
    const dir = dirname(this.path);
    const prefix = `${basename(this.path)}.sending.`;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const name of names) {
      if (!name.startsWith(prefix)) continue;
      const pid = Number(name.slice(prefix.length).split(".")[0]);
      // This process's own: a claim it could neither deliver nor give back (the lock stayed taken).
      // Only one replay runs at a time per process, so none of its claims is in use now.
      if (Number.isInteger(pid) && (pid === process.pid || !isAlive(pid))) out.push(join(dir, name));
    }
    return out;
  }
}
