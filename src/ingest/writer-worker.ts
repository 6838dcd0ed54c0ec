/**
 * The ingestion writer's thread (started by src/ingest/writer-thread.ts; not imported by
 * anything else): its own connection (on SQLite synchronous=FULL like the main one, so a batch is
 * on disk before its answers go out) and its own read of the saved privacy setting, once per
 * transaction. Group commit: the batches that queued up while a transaction ran
 * are written together in the next one (one fsync), in the order they were sent: the reports in
 * one transaction, the call batches in another (insertCalls' own, synchronous=NORMAL).
 */
import { parentPort, receiveMessageOnPort, workerData } from "node:worker_threads";
import { mergeCallBatches } from "../analytics/index.js";
import { callsStore, FeedbackStore, StoreError, WriteGate } from "../store/index.js";
import { insertScrubbed, PrivacyPolicy, type ScrubbedInsert } from "./privacy.js";
import type { WriterConfig, WriterIn, WriterOut } from "./writer-thread.js";

type Write = Extract<WriterIn, { type: "write" }>;
type Calls = Extract<WriterIn, { type: "calls" }>;

const config = workerData as WriterConfig;
const port = parentPort!;
const post = (m: WriterOut): void => port.postMessage(m);

// Checkpoints are the grouping worker's (src/gaps/grouping-worker.ts), so an ingest commit never
// also copies the WAL back into the database file.
const store = FeedbackStore.open(config.dbPath, {
  grouping: "deferred",
  busyTimeoutMs: config.busyTimeoutMs,
  writeGate: config.gate ? new WriteGate(config.gate, true, config.busyTimeoutMs) : undefined,
  checkpoints: "manual",
});
const calls = callsStore(store);
const privacy = new PrivacyPolicy(store, config.privacy);
post({ type: "ready" });

port.on("message", (first: WriterIn) => {
  const writes: Write[] = [];
  const callWrites: Calls[] = [];
  let stop = false;
  for (let m: WriterIn | undefined = first; m !== undefined; ) {
    if (m.type === "stop") stop = true;
    else if (m.type === "calls") callWrites.push(m);
    else writes.push(m);
    m = (receiveMessageOnPort(port)?.message as WriterIn | undefined) ?? undefined;
  }
  if (writes.length > 0) write(writes);
  if (callWrites.length > 0) writeCalls(callWrites);
  if (stop) {
    store.close();
    port.close();
  }
});

function write(writes: Write[]): void {
  let results: ScrubbedInsert[];
  try {
    results = insertScrubbed(
      store,
      privacy,
      writes.flatMap((w) => w.items),
    );
  } catch (err) {
    // Written one by one, so one batch's failure is only its own.
    if (writes.length > 1) for (const w of writes) write([w]);
    else failed(writes[0]!.id, err);
    return;
  }
  let at = 0;
  for (const w of writes) {
    post({ type: "written", id: w.id, results: results.slice(at, at + w.items.length) });
    at += w.items.length;
  }
}

function writeCalls(writes: Calls[]): void {
  try {
    calls.insertCalls(mergeCallBatches(writes.map((w) => w.batch)));
  } catch (err) {
    if (writes.length > 1) for (const w of writes) writeCalls([w]);
    else failed(writes[0]!.id, err);
    return;
  }
  for (const w of writes) post({ type: "written", id: w.id, results: [] });
}

function failed(id: number, err: unknown): void {
  const code = String((err as { code?: unknown }).code ?? "internal");
  const { name, message } = err instanceof Error ? err : new Error(String(err));
  post({ type: "failed", id, store: err instanceof StoreError, name, code, message });
}
