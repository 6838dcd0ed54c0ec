/** Fill a store with realistic, varied reports quickly (benchmarks only). */
import { GAP_TYPES, RESOLUTIONS, type FeedbackPayload } from "../src/feedback/index.js";
import type { FeedbackStore } from "../src/store/index.js";

const WORDS = [
  "invoice", "date", "range", "filter", "pagination", "export", "customer", "currency", "total", "project",
  "cost", "search", "timezone", "batch", "upload", "schema", "nested", "csv", "retry", "webhook",
];

export function syntheticReport(i: number): FeedbackPayload {
  const w = (k: number) => WORDS[(i * 7 + k * 13) % WORDS.length]!;
  return {
    server_name: `server-${i % 20}`,
    what_i_needed: `Needed to ${w(1)} the ${w(2)} by ${w(3)} for report ${i}`,
    what_i_tried: `Called list_${w(4)} with ${w(5)}=${i % 97}, got ${i % 50} rows without ${w(6)}`,
    gap_type: GAP_TYPES[i % GAP_TYPES.length]!,
    resolution: RESOLUTIONS[i % RESOLUTIONS.length]!,
    suggestion: `Add a ${w(7)} parameter to list_${w(4)}`,
    tools_available: [`list_${w(4)}`, `get_${w(8)}`, `create_${w(9)}`],
    tool_name: `list_${w(4)}`,
    agent_model: i % 2 ? "claude-sonnet-4-5" : "gpt-5",
    session_id: `session-${Math.floor(i / 5)}`,
    client_type: ["claude-desktop", "cursor", "claude-code"][i % 3]!,
  };
}

/** Insert reports until the store holds `target` rows; returns how many were added. */
export function seedTo(store: FeedbackStore, target: number, batch = 5000): number {
  const start = store.countReports();
  for (let n = start; n < target; n += batch) {
    const items = [];
    for (let i = n; i < Math.min(n + batch, target); i++) items.push({ payload: syntheticReport(i) });
    store.insertMany(items);
  }
  return Math.max(0, target - start);
}
