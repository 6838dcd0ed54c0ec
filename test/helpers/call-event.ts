/** A stored-shape call event (src/analytics' CallEvent) for unit tests: fixed defaults, any field overridden. */
import type { CallEvent } from "../../src/analytics/index.js";

export const callEvent = (over: Partial<CallEvent> = {}): CallEvent => ({
  server_name: "s",
  server_version: null,
  tool_name: "t",
  started_at: "2026-12-03T10:00:00.000Z",
  duration_ms: 3,
  outcome: "ok",
  error_code: null,
  client_name: "c",
  client_version: null,
  protocol_version: null,
  session_id: null,
  request_bytes: 1,
  response_bytes: 2,
  arguments: null,
  ...over,
});
