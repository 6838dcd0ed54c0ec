/**
 * Ingesting one report: validation, the idempotency-key rule and the
 * group-committed write. Shared by the REST routes (express and fast path) and
 * the MCP `feedback` tool; failures are `IngestError`s with a code, which each
 * front end maps to its own answer (HTTP status, tool error).
 */
import { type FieldIssue, LIMITS, parseFeedback } from "../feedback/index.js";
import type { ScrubbedInsert } from "./privacy.js";
import type { IngestQueue } from "./queue.js";

export type IngestErrorCode = "validation_failed" | "invalid_idempotency_key";

export class IngestError extends Error {
  constructor(
    readonly code: IngestErrorCode,
    message: string,
    /** The bad fields, for `validation_failed`. */
    readonly issues?: FieldIssue[],
  ) {
    super(message);
    this.name = "IngestError";
  }
}

/** The stored report, its gap, the gap's admin-written state when it is worth echoing (see InsertResult), and what scrubbing replaced. */
export type Ingested = ScrubbedInsert;

/** Validate `body` and store it; `idempotencyKey` (e.g. the Idempotency-Key header) wins over one in the body. */
export async function ingestReport(
  queue: Pick<IngestQueue, "add">,
  body: unknown,
  idempotencyKey: string | undefined,
): Promise<Ingested> {
  const parsed = parseFeedback(body);
  if (!parsed.ok) {
    const summary = parsed.issues.map((i) => `${i.field}: ${i.message}`).join("; ");
    throw new IngestError("validation_failed", `Invalid input: ${summary}`, parsed.issues);
  }
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > LIMITS.idempotency_key)) {
    throw new IngestError(
      "invalid_idempotency_key",
      `Idempotency-Key must be 1 to ${LIMITS.idempotency_key} characters.`,
    );
  }
  return queue.add(parsed.payload, idempotencyKey ?? parsed.idempotencyKey);
}
