/**
 * Group commit for ingestion. Reports that arrive while the event loop is busy
 * are written in one transaction, so one fsync covers many 2xx answers. Each
 * caller is answered only after its transaction has committed. Both front
 * ends (REST and MCP over HTTP) share one queue per process.
 *
 * With deferred grouping (`serve`) the reports are stored without a gap; `deferred` wakes the
 * grouping worker and, where a known-gap echo may apply, holds the answer until the report
 * has its gap (src/gaps/deferred.ts).
 *
 * Privacy before storage: each batch is scrubbed for its servers' modes just before the
 * insert (src/ingest/privacy.ts), so no unscrubbed text reaches the database.
 */
import type { FeedbackPayload } from "../feedback/index.js";
import type { FeedbackStore, InsertResult, NewReport } from "../store/index.js";
import { PrivacyPolicy, type ScrubbedInsert } from "./privacy.js";

/** What the queue needs from deferred grouping (implemented by src/gaps/deferred.ts). */
export interface DeferredAssignment {
  committed(): void;
  settle(result: InsertResult, serverName: string): Promise<InsertResult>;
}

interface Pending {
  payload: FeedbackPayload;
  idempotencyKey: string | undefined;
  /** Set once scrubbed (a batch that meets a taken lock is retried without scrubbing again). */
  scrubbed?: NewReport;
  resolve: (r: ScrubbedInsert) => void;
  reject: (e: unknown) => void;
}

/** How long a batch retries a write lock the grouping worker holds before it waits for it (blocking). */
const LOCK_RETRY_MS = 50;

export class IngestQueue {
  private pending: Pending[] = [];
  private scheduled = false;
  /** When the batch being retried first found the write lock taken. */
  private lockedSince: number | undefined;

  private readonly privacy: PrivacyPolicy;

  constructor(
    private readonly store: FeedbackStore,
    private readonly deferred?: DeferredAssignment,
    /** Default: the saved privacy setting, else secrets+pii. */
    privacy?: PrivacyPolicy,
  ) {
    this.privacy = privacy ?? new PrivacyPolicy(store);
  }

  add(payload: FeedbackPayload, idempotencyKey?: string): Promise<ScrubbedInsert> {
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
      const fresh = batch.filter((p) => p.scrubbed === undefined);
      if (fresh.length > 0) {
        const scrubbed = this.privacy.scrub(fresh);
        fresh.forEach((p, i) => {
          p.scrubbed = scrubbed[i];
        });
      }
      const items = batch.map((p) => p.scrubbed!);
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
        const r: ScrubbedInsert = { ...results[i]!, redactions: [...(p.scrubbed!.redactions ?? [])] };
        if (deferred && r.gap_id === null)
          deferred
            .settle(r, p.payload.server_name)
            .then((settled) => p.resolve({ ...settled, redactions: r.redactions }), p.reject);
        else p.resolve(r);
      });
    } catch (err) {
      this.lockedSince = undefined;
      for (const p of batch) p.reject(err);
    }
  }
}
