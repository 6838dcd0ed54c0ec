/**
 * Group commit for ingestion. Reports that arrive while the event loop is busy
 * are written in one transaction, so one fsync covers many 2xx answers. Each
 * caller is answered only after its transaction has committed. Both front
 * ends (REST and MCP over HTTP) share one queue per process.
 */
import type { FeedbackPayload } from "../feedback/index.js";
import type { FeedbackStore, InsertResult } from "../store/index.js";

interface Pending {
  payload: FeedbackPayload;
  idempotencyKey: string | undefined;
  resolve: (r: InsertResult) => void;
  reject: (e: unknown) => void;
}

export class IngestQueue {
  private pending: Pending[] = [];
  private scheduled = false;

  constructor(private readonly store: FeedbackStore) {}

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
      const results = this.store.insertMany(batch.map(({ payload, idempotencyKey }) => ({ payload, idempotencyKey })));
      batch.forEach((p, i) => {
        p.resolve(results[i]!);
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
