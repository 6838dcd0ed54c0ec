/**
 * Group commit for ingestion. Reports that arrive while the event loop is busy
 * are written in one transaction, so one fsync covers many 2xx answers. Each
 * caller is answered only after its transaction has committed. Both front
 * ends (REST and MCP over HTTP) share one queue per process.
 *
 * `serve` scrubs and writes on a thread of its own (src/ingest/writer-thread.ts): each turn's
 * batch is sent at once, and the batches that queue up while the writer commits go into its
 * next transaction, so the event loop never waits for a disk, a lock or PostgreSQL's round
 * trips. Otherwise (inline grouping; the MCP front end's tests) the batch is written here,
 * through the store.
 *
 * With deferred grouping (`serve`) the reports are stored without a gap; `deferred` wakes the
 * grouping worker and, where a known-gap echo may apply, holds the answer until the report
 * has its gap (src/gaps/deferred.ts).
 *
 * Privacy before storage: each batch is scrubbed for its servers' modes just before the
 * insert, on whichever thread writes it (insertScrubbed, src/ingest/privacy.ts), so no
 * unscrubbed text reaches the database.
 */
import type { FeedbackPayload } from "../feedback/index.js";
import type { FeedbackStore, InsertResult } from "../store/index.js";
import { insertScrubbed, PrivacyPolicy, type ScrubbedInsert } from "./privacy.js";
import type { BatchWriter } from "./writer-thread.js";

/** What the queue needs from deferred grouping (implemented by src/gaps/deferred.ts). */
export interface DeferredAssignment {
  committed(): void;
  settle(result: InsertResult, serverName: string): Promise<InsertResult>;
}

interface Pending {
  payload: FeedbackPayload;
  idempotencyKey: string | undefined;
  resolve: (r: ScrubbedInsert) => void;
  reject: (e: unknown) => void;
}

export class IngestQueue {
  private pending: Pending[] = [];
  private scheduled = false;

  private readonly privacy: PrivacyPolicy;

  constructor(
    private readonly store: FeedbackStore,
    private readonly deferred?: DeferredAssignment,
    /** Default: the saved privacy setting, else secrets+pii. Unused with a writer, which scrubs itself. */
    privacy?: PrivacyPolicy,
    /** Scrubs and writes on another thread (src/ingest/writer-thread.ts); absent: on this one, through `store`. */
    private readonly writer?: BatchWriter,
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
    const fail = (err: unknown): void => {
      for (const p of batch) p.reject(err);
    };
    try {
      const items = batch.map(({ payload, idempotencyKey }) => ({ payload, idempotencyKey }));
      if (this.writer) this.writer.write(items).then((results) => this.answer(batch, results), fail);
      else this.answer(batch, insertScrubbed(this.store, this.privacy, items));
    } catch (err) {
      fail(err);
    }
  }

  /** The batch has committed: answer each caller (after its gap, where an echo may apply). */
  private answer(batch: Pending[], results: ScrubbedInsert[]): void {
    const deferred = this.deferred;
    if (deferred) deferred.committed();
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (deferred && r.gap_id === null)
        deferred
          .settle(r, p.payload.server_name)
          .then((settled) => p.resolve({ ...settled, redactions: r.redactions }), p.reject);
      else p.resolve(r);
    });
  }
}
