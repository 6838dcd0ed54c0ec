/** Ingestion and review endpoints under /api/feedback. */
import { Router, type Request } from "express";
import { z } from "zod";
import {
  listQuerySchema,
  noteInputShape,
  REPORT_STATUSES,
  type FeedbackStore,
  type ReportFilter,
} from "../../store/index.js";
import type { Authenticator } from "../auth.js";
import { ApiError, parseOr400 } from "../errors.js";
import { ingestReport } from "../../ingest/index.js";
import { ingestedResponse } from "../ingest.js";
import { requireJsonBody } from "../json-body.js";
import type { IngestQueueLike } from "../rate-limit.js";

const idParam = z.coerce
  .number({ error: "must be a report id (a positive whole number)" })
  .int({ error: "must be a report id (a positive whole number)" })
  .positive({ error: "must be a report id (a positive whole number)" })
  .max(Number.MAX_SAFE_INTEGER);

export function reportId(req: Request): number {
  const parsed = idParam.safeParse(req.params.id);
  if (!parsed.success)
    throw new ApiError(400, "invalid_id", `"${String(req.params.id)}" is not a report id (a positive whole number).`);
  return parsed.data;
}

const patchSchema = z
  .strictObject(
    {
      reviewed: z.boolean({ error: "reviewed must be true or false" }).optional(),
      status: z.enum(REPORT_STATUSES, { error: `status must be one of: ${REPORT_STATUSES.join(", ")}` }).optional(),
    },
    { error: "the body must be a JSON object" },
  )
  .refine((b) => b.reviewed !== undefined || b.status !== undefined, {
    error: "send reviewed and/or status",
  });

const noteSchema = z.preprocess(
  // `content` is what the original sidecar accepted; `body` is canonical.
  (v) =>
    v && typeof v === "object" && !("body" in v) && "content" in v
      ? { ...v, body: (v as { content: unknown }).content }
      : v,
  z.object(noteInputShape, { error: "the body must be a JSON object" }),
);

/** One list page as response JSON (the store builds the items' JSON itself). */
export async function listPageJson(
  store: FeedbackStore,
  filter: ReportFilter,
  page: { limit?: number | undefined; cursor?: string | undefined },
): Promise<string> {
  const { itemsJson, nextCursor } = await store.listReportsJson(filter, page);
  return `{"items":${itemsJson},"nextCursor":${JSON.stringify(nextCursor)}}`;
}

/** `queue` is the app's ingest queue behind the daily byte cap; the rate limit runs before the body is read (app.ts). */
export function feedbackRoutes(deps: { store: FeedbackStore; auth: Authenticator; queue: IngestQueueLike }): Router {
  const { store, auth, queue } = deps;
  const router = Router();

  // The common case of this route (and of the list below) is served by fast-paths.ts; these handle the rest identically.
  router.post("/", auth.require("ingest"), async (req, res) => {
    requireJsonBody(req);
    const ingested = await ingestReport(queue, req.body, req.get("Idempotency-Key"));
    if (!ingested.created) res.setHeader("Idempotent-Replayed", "true");
    const { status, body } = ingestedResponse(ingested);
    res.status(status).type("application/json").send(body);
  });

  router.get("/", auth.require("read"), async (req, res) => {
    const { limit, cursor, ...filter } = parseOr400(listQuerySchema, req.query);
    res.type("application/json").send(await listPageJson(store, filter, { limit, cursor }));
  });

  router.get("/:id", auth.require("read"), (req, res) => {
    const id = reportId(req);
    const detail = store.getReportDetail(id);
    if (!detail) throw new ApiError(404, "report_not_found", `There is no report ${id}.`);
    res.json(detail);
  });

  router.patch("/:id", auth.require("admin"), (req, res) => {
    const id = reportId(req);
    requireJsonBody(req);
    const change = parseOr400(patchSchema, req.body, 422);
    const report = store.updateStatus(id, change);
    if (!report) throw new ApiError(404, "report_not_found", `There is no report ${id}.`);
    res.json(report);
  });

  router.post("/:id/notes", auth.require("admin"), (req, res) => {
    const id = reportId(req);
    requireJsonBody(req);
    const { body, author } = parseOr400(noteSchema, req.body, 422);
    const note = store.addNote(id, body, author);
    if (!note) throw new ApiError(404, "report_not_found", `There is no report ${id}.`);
    res.status(201).json(note);
  });

  return router;
}
