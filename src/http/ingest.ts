/**
 * Ingesting one report over HTTP: validation, the Idempotency-Key rule and the
 * group-committed write. Shared by the express route and the fast path.
 */
import { LIMITS, parseFeedback } from "../feedback/index.js";
import { ApiError, validationError } from "./errors.js";
import type { IngestQueue } from "./ingest-queue.js";
import type { InsertResult } from "../store/index.js";

/** `created` is false when an earlier request with the same idempotency key stored it. */
export type Ingested = InsertResult;

export async function ingestReport(
  queue: IngestQueue,
  body: unknown,
  idempotencyHeader: string | undefined,
): Promise<Ingested> {
  const parsed = parseFeedback(body);
  if (!parsed.ok) throw validationError(parsed.issues);
  if (
    idempotencyHeader !== undefined &&
    (idempotencyHeader.length === 0 || idempotencyHeader.length > LIMITS.idempotency_key)
  ) {
    throw new ApiError(
      400,
      "invalid_idempotency_key",
      `Idempotency-Key must be 1 to ${LIMITS.idempotency_key} characters.`,
    );
  }
  return queue.add(parsed.payload, idempotencyHeader ?? parsed.idempotencyKey);
}

/**
 * The JSON body and status of a successful ingestion: `{id, status}`, plus
 * `gap` ({id, status, reports, agent_note}: admin-written state only) when the
 * report joined a gap the developers marked planned, fixed or wontfix, or gave an agent note.
 */
export function ingestedResponse({ id, created, gap }: Ingested): { status: 200 | 201; body: string } {
  return {
    status: created ? 201 : 200,
    body: JSON.stringify(gap ? { id, status: "recorded", gap } : { id, status: "recorded" }),
  };
}
