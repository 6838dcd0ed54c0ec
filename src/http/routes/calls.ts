/**
 * Tool-call analytics over REST: `POST /api/calls` (ingest scope: the proxies' batches of call
 * events and spill rollups), `GET /api/tools` and `GET /api/tools/detail` (read scope).
 */
import { Router } from "express";
import { type CallBatch, callBatchSchema, mergeCallBatches } from "../../analytics/index.js";
import { toFieldIssues } from "../../feedback/index.js";
import { callsStore, type FeedbackStore, toolDetailFilterSchema, toolFilterSchema } from "../../store/index.js";
import type { CallsWriter, PrivacyPolicy } from "../../ingest/index.js";
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

/**
 * Group commit for call batches on the event loop (a store without the writer thread: inline
 * grouping, the tests): the batches validated in one turn of the event loop (several proxies
 * posting at once) are stored in one transaction, then each request is answered. A commit
 * costs about as much as inserting a thousand rows, so this is what keeps ingestion near the
 * store's own rate under concurrent load. A failed transaction fails every batch in it
 * (validation happened before, so only the database can fail it).
 */
function groupCommit(insert: (batch: CallBatch) => unknown): (batch: CallBatch) => Promise<void> {
  let pending: { batch: CallBatch; done: (err?: unknown) => void }[] = [];
  const flush = () => {
    const group = pending;
    pending = [];
    try {
      insert(mergeCallBatches(group.map((g) => g.batch)));
    } catch (err) {
      for (const g of group) g.done(err);
      return;
    }
    for (const g of group) g.done();
  };
  return (batch) =>
    new Promise<void>((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ batch, done: (err) => (err === undefined ? resolve() : reject(err)) });
    });
}

export function callsRoutes(deps: {
  store: FeedbackStore;
  auth: Authenticator;
  privacy: PrivacyPolicy;
  /** The writer thread (`serve`), which group-commits what queues while it writes. */
  writer?: CallsWriter | undefined;
}): Router {
  const router = Router();
  const calls = callsStore(deps.store);
  // Recorded arguments are scrubbed before they are stored, like report text.
  const write = deps.writer
    ? (batch: CallBatch) => deps.writer!.writeCalls(batch)
    : groupCommit((batch) => calls.insertCalls(batch));
  const store = (batch: CallBatch) => write(deps.privacy.scrubCalls(batch));

  router.post("/calls", deps.auth.require("ingest"), async (req, res) => {
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
    await store(parsed.data);
    res.status(202).json({ accepted: { calls: parsed.data.calls.length, rollups: parsed.data.rollups.length } });
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
