/** The HTTP answer to a successful ingestion (the work itself is src/ingest). */
import type { Ingested } from "../ingest/index.js";

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
