/** The `days` window of the stats query, as REST `GET /api/stats` and the MCP `get_stats` tool accept it. */
import { z } from "zod";
import { STATS_DAYS_DEFAULT } from "./store.js";

/** A leap year's worth, so "the last year" always fits. */
export const STATS_DAYS_MAX = 366;

export const statsDaysArg = z.coerce
  .number({ error: "must be a number" })
  .int({ error: "must be a whole number" })
  .min(1, { error: "must be at least 1" })
  .max(STATS_DAYS_MAX, { error: `must be at most ${STATS_DAYS_MAX}` })
  .optional()
  .describe(`How many days back the per-day counts go (default ${STATS_DAYS_DEFAULT}, at most ${STATS_DAYS_MAX}).`);
