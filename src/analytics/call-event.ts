/**
 * THE contract for tool-call analytics: what the proxy records about each `tools/call` it
 * passes on, and what `POST /api/calls` takes. The proxy (proxy/), the sidecar's route and
 * store, the MCP tool and the dashboard all derive from these schemas and constants.
 *
 * A call event never carries arguments or results unless the proxy runs with
 * `--record-arguments`; then `arguments` holds the call's arguments, scrubbed before they are
 * stored (src/privacy/).
 *
 * Two shapes travel on the wire:
 * - `calls`: one event per call (raw events, kept for the retention period);
 * - `rollups`: what a proxy aggregated while the sidecar was down (its bounded spill),
 *   one row per server × tool × client × hour with a latency histogram (histogram.ts).
 */
import { z } from "zod";
import { HISTOGRAM_BOUNDS_MS } from "./histogram.js";

/** How a call ended: a result, a JSON-RPC error answer, or a result with `isError: true`. */
export const CALL_OUTCOMES = ["ok", "error", "tool_error"] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** Upper bounds, one definition: string lengths in characters, batch sizes in items. */
export const CALL_LIMITS = {
  name: 200,
  version: 100,
  session_id: 200,
  /** Events (or rollups) one `POST /api/calls` may carry. */
  batch_items: 5000,
  /**
   * The JSON size a sender keeps one `POST /api/calls` under, in bytes: half the sidecar's
   * default body limit (1 MiB), so a full batch of events with recorded arguments is never a 413.
   */
  batch_bytes: 512 * 1024,
  /** The JSON text of recorded arguments, after scrubbing; longer is cut and marked. */
  arguments_chars: 4000,
} as const;

const name = z.string().min(1).max(CALL_LIMITS.name);
const optionalText = (max: number) => z.string().max(max).nullable().default(null);
const count = z.number().int().min(0);

export const callEventSchema = z.object({
  /** The upstream server (its serverInfo.name, or the proxy's --server-name). */
  server_name: name,
  server_version: optionalText(CALL_LIMITS.version),
  tool_name: name,
  /** When the call was sent upstream, ISO 8601. */
  started_at: z.iso.datetime({ offset: true }),
  duration_ms: z.number().min(0).max(86_400_000),
  outcome: z.enum(CALL_OUTCOMES),
  /** The JSON-RPC error code when `outcome` is "error", else null. */
  error_code: z.number().int().nullable().default(null),
  client_name: optionalText(CALL_LIMITS.name),
  client_version: optionalText(CALL_LIMITS.version),
  protocol_version: optionalText(CALL_LIMITS.version),
  /** The MCP session (HTTP) or the proxy's id for a stdio connection. */
  session_id: optionalText(CALL_LIMITS.session_id),
  request_bytes: count,
  response_bytes: count,
  /** Only with --record-arguments (scrubbed before storage). */
  arguments: z.record(z.string(), z.unknown()).nullable().default(null),
});
export type CallEvent = z.infer<typeof callEventSchema>;
export type CallEventInput = z.input<typeof callEventSchema>;

export const callRollupSchema = z.object({
  server_name: name,
  tool_name: name,
  client_name: optionalText(CALL_LIMITS.name),
  /** The hour the calls started in: ISO 8601 at a whole UTC hour. */
  hour: z.iso.datetime({ offset: true }).refine((s) => new Date(s).getTime() % 3_600_000 === 0, {
    message: "must be the start of a UTC hour",
  }),
  calls: count.min(1),
  errors: count,
  /** Calls per latency bucket (HISTOGRAM_BOUNDS_MS, plus one bucket for anything slower). */
  histogram: z.array(count).length(HISTOGRAM_BOUNDS_MS.length + 1),
});
export type CallRollup = z.infer<typeof callRollupSchema>;

/** The body of `POST /api/calls`: either list may be empty, not both. */
export const callBatchSchema = z
  .object({
    calls: z.array(callEventSchema).max(CALL_LIMITS.batch_items).default([]),
    rollups: z.array(callRollupSchema).max(CALL_LIMITS.batch_items).default([]),
  })
  .refine((b) => b.calls.length + b.rollups.length > 0, { message: "send at least one call or rollup" });
export type CallBatch = z.infer<typeof callBatchSchema>;

/** Several batches as one (group commit): their events and rollups, in the order given. */
export function mergeCallBatches(batches: readonly CallBatch[]): CallBatch {
  if (batches.length === 1) return batches[0]!;
  return { calls: batches.flatMap((b) => b.calls), rollups: batches.flatMap((b) => b.rollups) };
}
