/** The HTTP answer to a successful ingestion (the work itself is src/ingest). */
import type { Ingested } from "../ingest/index.js";

/** The JSON body and status of a successful ingestion. */
export function ingestedResponse({ id, created }: Ingested): { status: 200 | 201; body: string } {
  return { status: created ? 201 : 200, body: JSON.stringify({ id, status: "recorded" }) };
}
