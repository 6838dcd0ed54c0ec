/**
 * Tool-call analytics over REST: `POST /api/calls` (ingest scope: the proxies' batches of call
 * events and spill rollups), `GET /api/tools` and `GET /api/tools/detail` (read scope).
 */
import { Router } from "express";
import { callBatchSchema } from "../../analytics/index.js";
import { toFieldIssues } from "../../feedback/index.js";
import { callsStore, type FeedbackStore, toolDetailFilterSchema, toolFilterSchema } from "../../store/index.js";
import type { Authenticator } from "../auth.js";
import { ApiError, parseOr400 } from "../errors.js";
import { requireJsonBody } from "../json-body.js";

/**
 * The wire contract, plus what a rollup's numbers must agree on: errors within calls, and a
 * histogram that counts every call once (percentiles are read off it).
 */
const batchBody = callBatchSchema.superRefine((b, ctx) => {
  b.rollups.forEach((r, i) => {
    if (r.errors > r.calls)
      ctx.addIssue({ code: "custom", path: ["rollups", i, "errors"], message: "must not exceed calls" });
    const counted = r.histogram.reduce((a, n) => a + n, 0);
    if (counted !== r.calls)
      ctx.addIssue({
        code: "custom",
        path: ["rollups", i, "histogram"],
        message: `must count every call once (counts ${counted}, calls is ${r.calls})`,
      });
  });
});

export function callsRoutes(deps: { store: FeedbackStore; auth: Authenticator }): Router {
  const router = Router();
  const calls = callsStore(deps.store);

  router.post("/calls", deps.auth.require("ingest"), (req, res) => {
    requireJsonBody(req);
    const parsed = batchBody.safeParse(req.body);
    if (!parsed.success) {
      const issues = toFieldIssues(parsed.error);
      throw new ApiError(
        422,
        "invalid_calls",
        `Invalid call batch: ${issues
          .slice(0, 5)
          .map((i) => `${i.field}: ${i.message}`)
          .join("; ")}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ""}`,
        issues,
      );
    }
    res.status(202).json({ accepted: calls.insertCalls(parsed.data) });
  });

  router.get("/tools", deps.auth.require("read"), (req, res) => {
    res.json(calls.toolStats(parseOr400(toolFilterSchema, req.query)));
  });

  router.get("/tools/detail", deps.auth.require("read"), (req, res) => {
    const filter = parseOr400(toolDetailFilterSchema, req.query);
    const detail = calls.toolDetail(filter);
    if (!detail)
      throw new ApiError(
        404,
        "tool_not_found",
        `No call of ${JSON.stringify(filter.tool_name)} on ${JSON.stringify(filter.server_name)} is stored between ${
          filter.since ?? "7 days ago"
        } and ${filter.until ?? "now"}.`,
      );
    res.json(detail);
  });

  return router;
}
