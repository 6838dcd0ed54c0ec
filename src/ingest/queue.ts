/**
 * Group commit for ingestion. Reports that arrive while the event loop is busy
 * are written in one transaction, so one fsync covers many 2xx answers. Each
 * caller is answered only after its transaction has committed. Both front
 * ends (REST and MCP over HTTP) share one queue per process.
 *
 * With deferred grouping (`serve`) the reports are stored without a gap; `deferred` wakes the
 * grouping worker and, where a known-gap echo may apply, holds the answer until the report
 * has its gap (src/gaps/deferred.ts).
 */
import type { FeedbackPayload } from "../feedback/index.js";
import type { FeedbackStore, InsertResult } from "../store/index.js";

/** What the queue needs from deferred grouping (implemented by src/gaps/deferred.ts). */
export interface DeferredAssignment {
  committed(): void;
  settle(result: InsertResult, serverName: string): Promise<InsertResult>;
}

interface Pending {
  payload: FeedbackPayload;
  idempotencyKey: string | undefined;
  resolve: (r: InsertResult) => void;
  reject: (e: unknown) => void;
}

/** How long a batch retries a write lock the grouping worker holds before it waits for it (blocking). */
const LOCK_RETRY_MS = 50;

export class IngestQueue {
  private pending: Pending[] = [];
  private scheduled = false;
  /** When the batch being retried first found the write lock taken. */
  private lockedSince: number | undefined;

  constructor(
    private readonly store: FeedbackStore,
    private readonly deferred?: DeferredAssignment,
  ) {}

  add(payload: FeedbackPayload, idempotencyKey?: string): Promise<InsertResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ payload, idempotencyKey, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      const items = batch.map(({ payload, idempotencyKey }) => ({ payload, idempotencyKey }));
      // With a grouping worker writing too, a taken lock is retried on a later turn (requests keep
      // being read meanwhile and join the batch) rather than blocking the event loop on it.
      const waited = this.lockedSince !== undefined && Date.now() - this.lockedSince > LOCK_RETRY_MS;
      const results = this.deferred && !waited ? this.store.tryInsertMany(items) : this.store.insertMany(items);
      if (results === undefined) {
        this.lockedSince ??= Date.now();
        this.pending = [...batch, ...this.pending];
        this.scheduled = true;
        setTimeout(() => this.flush(), 1);
        return;
      }
      this.lockedSince = undefined;
      const deferred = this.deferred;
      if (deferred) deferred.committed();
      batch.forEach((p, i) => {
        const r = results[i]!;
        if (deferred && r.gap_id === null) deferred.settle(r, p.payload.server_name).then(p.resolve, p.reject);
        else p.resolve(r);
      });
    } catch (err) {
      this.lockedSince = undefined;
      for (const p of batch) p.reject(err);
    }
  }
}
