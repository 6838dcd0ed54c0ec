/**
 * The grouping worker's thread (started by src/gaps/deferred.ts; not imported by anything else).
 * Its own connection to the database `serve` writes (WAL, busy timeout): the live assignment
 * behind the `assigned_upto` watermark first, then any backfill or regroup batch, each in short
 * transactions so ingest writers are never starved. Progress goes to the main thread as
 * `{type: "progress", assignedUpTo, latestId}`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { stepBack } from "../net/thread-priority.js";
import { FeedbackStore, WriteGate } from "../store/index.js";
import type { WorkerConfig, WorkerIn, WorkerOut } from "./deferred.js";

const config = workerData as WorkerConfig;
const port = parentPort!;
const post = (m: WorkerOut): void => port.postMessage(m);

// Grouping and indexing can wait; the answers to the requests arriving meanwhile cannot.
stepBack(config.nice, "grouping worker", (line) => post({ type: "log", line }));

// NORMAL: the assignments are redone from the watermark if a power cut loses the last ones.
// Checkpoints by hand, between transactions (checkpoint()): an automatic one runs inside the
// commit that crosses 1000 WAL pages, while this thread still holds the write gate, and every
// ingest batch would wait for the copy and its fsync.
const gate = config.gate ? new WriteGate(config.gate) : undefined;
const store = FeedbackStore.open(config.dbPath, {
  synchronous: "normal",
  busyTimeoutMs: config.busyTimeoutMs,
  writeGate: gate,
  checkpoints: "manual",
});
/** At most one checkpoint this often (ms): a PASSIVE one with nothing new to copy costs little. */
const CHECKPOINT_EVERY_MS = 250;
let lastCheckpoint = 0;
/** A transaction of ours ends early when an ingest batch waits for the gate. */
const yieldTo = gate ? () => gate.contended : undefined;
let stopping = false;
let timer: NodeJS.Timeout | undefined;
let lastWake = 0;
let lastPosted = -1;
let lastLatest = 0;
let lastLog = 0;
/** The pending timer is the idle wait (a wake ends it), not a pause between busy transactions. */
let idle = false;
/** An ingest answer waits for the watermark to pass this id (a known-gap echo): no pauses until it has. */
let hurryUpTo = 0;

const isBusy = (err: unknown): boolean => /SQLITE_BUSY|SQLITE_LOCKED/.test(String((err as { code?: unknown }).code));

function schedule(ms: number, asIdle = false): void {
  idle = asIdle;
  if (timer !== undefined) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    tick();
  }, ms);
}

/** A failure here (other than a lock) is logged once and does not hold up the grouping. */
let lastIndexError = "";
function indexText(): void {
  try {
    store.indexPending(config.ftsBatch);
    lastIndexError = "";
  } catch (err) {
    const message = (err as Error).message;
    if (isBusy(err) || message === lastIndexError) return;
    lastIndexError = message;
    post({ type: "log", line: `patchworkmcp: full-text indexing: ${message}` });
  }
}

/** The WAL back into the database file, holding no lock: ingestion goes on meanwhile. */
function checkpoint(): void {
  if (performance.now() - lastCheckpoint < CHECKPOINT_EVERY_MS) return;
  lastCheckpoint = performance.now();
  try {
    store.checkpoint();
  } catch (err) {
    if (!isBusy(err)) post({ type: "log", line: `patchworkmcp: checkpoint: ${(err as Error).message}` });
  }
}

function tick(): void {
  if (stopping) return;
  checkpoint();
  const started = performance.now();
  let more: boolean;
  try {
    // The full-text index first: a search catches it up itself, but each batch it finds waiting costs it.
    if (config.ftsBatch > 0) indexText();
    const step = store.gaps.assignPending({ maxReports: config.maxReports, maxMs: config.maxMs, yieldTo });
    lastLatest = step.latestId;
    if (step.assignedUpTo !== lastPosted) {
      lastPosted = step.assignedUpTo;
      post({ type: "progress", assignedUpTo: step.assignedUpTo, latestId: step.latestId });
    }
    more = step.assignedUpTo < step.latestId;
    // Term counts an upgrade left to fill (migration 7), while the live assignment is caught up.
    if (!more) more = store.gaps.fillTermCounts(config.backfillBatch);
    if (!more && store.gaps.progress().mode !== "idle") {
      // Backfill or regroup of what was stored before: only while the live assignment is caught up.
      const p = store.gaps.step(config.backfillBatch);
      more = p.mode !== "idle";
      if (!more || Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        post({
          type: "log",
          line: more
            ? `patchworkmcp: grouping ${p.mode}: ${p.done} of ${p.total} reports`
            : `patchworkmcp: grouping pass finished (${p.done} reports)`,
        });
      }
    }
  } catch (err) {
    if (!isBusy(err)) post({ type: "log", line: `patchworkmcp: grouping worker: ${(err as Error).message}` });
    schedule(isBusy(err) ? 20 : 1000);
    return;
  }
  if (!more) {
    // Caught up: the main thread wakes the worker after each commit; the timer covers other processes.
    schedule(config.idleMs, true);
    return;
  }
  // While reports keep arriving, leave the write lock (and the CPU) to ingestion for pauseRatio
  // times as long as the transaction took, as long as the lag stays under maxLag and no answer
  // waits for an echo; once they stop, catch up back to back.
  const busyIngest = Date.now() - lastWake < 50;
  if (busyIngest && lastPosted >= hurryUpTo && lastLatest - lastPosted < config.maxLag)
    schedule(Math.max(1, Math.round((performance.now() - started) * config.pauseRatio)));
  else {
    idle = false;
    setImmediate(tick);
  }
}

port.on("message", (m: WorkerIn) => {
  if (m.type === "wake" || m.type === "hurry") {
    if (m.type === "wake") lastWake = Date.now();
    else {
      hurryUpTo = Math.max(hurryUpTo, m.id);
      if (!idle && timer !== undefined && !stopping) schedule(0);
    }
    if (idle && !stopping) schedule(0);
  } else if (m.type === "stop") {
    stopping = true;
    if (timer !== undefined) clearTimeout(timer);
    store.close();
    post({ type: "stopped" });
    port.close();
  }
});

tick();
