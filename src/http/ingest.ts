/** The HTTP answer to a successful ingestion (the work itself is src/ingest). */
import type { Ingested } from "../ingest/index.js";

/**
 * The JSON body and status of a successful ingestion: `{id, status}`, plus
 * `gap` ({id, status, reports, agent_note}: admin-written state only) when the
 * report joined a gap the developers marked planned, fixed or wontfix, or gave an agent note;
 * `redactions` ([{field, rule, count}]) when privacy replaced anything before storing it.
 */
export function ingestedResponse({ id, created, gap, redactions }: Ingested): { status: 200 | 201; body: string } {
  const body: Record<string, unknown> = { id, status: "recorded" };
  if (gap) body.gap = gap;
  if (created && redactions.length > 0) body.redactions = redactions;
  return { status: created ? 201 : 200, body: JSON.stringify(body) };
}
