/**
 * Gaps over REST: /api/gaps (list, one, edit, merge, split) and
 * POST /api/feedback/:id/gap (move one report). Read scope reads, admin writes.
 */
import { Router, type Request } from "express";
import { z } from "zod";
import { gapDetail } from "../../gaps/detail.js";
import { gapSparklines, gapTrend, SPARKLINE_MAX_IDS } from "../../gaps/trend.js";
import {
  AGENT_NOTE_MAX,
  GAP_TITLE_MAX,
  gapFilterShape,
  gapListQuerySchema,
  pageShape,
  SETTABLE_GAP_STATUSES,
  SPLIT_MAX,
  StoreError,
  type FeedbackStore,
  type GapListQuery,
} from "../../store/index.js";
import { bearerToken, type Authenticator } from "../auth.js";
import { cachedGapListJson } from "../gap-list-cache.js";
import { ApiError, parseOr400 } from "../errors.js";
import { reportId } from "./feedback.js";

const ID_MESSAGE = "must be a gap id (a positive whole number)";
const gapIdValue = z.coerce
  .number({ error: ID_MESSAGE })
  .int({ error: ID_MESSAGE })
  .positive({ error: ID_MESSAGE })
  .max(Number.MAX_SAFE_INTEGER, { error: ID_MESSAGE });

export function gapId(req: Request): number {
  const parsed = gapIdValue.safeParse(req.params.id);
  if (!parsed.success)
    throw new ApiError(400, "invalid_id", `"${String(req.params.id)}" is not a gap id (a positive whole number).`);
  return parsed.data;
}

const nullableText = (max: number, field: string) =>
  z
    .string({ error: `${field} must be a string or null` })
    .trim()
    .max(max, { error: `${field} must be at most ${max} characters` })
    .nullable()
    .transform((s) => (s === "" ? null : s));

export const gapChangeSchema = z
  .strictObject(
    {
      status: z
        .enum(SETTABLE_GAP_STATUSES, {
          error: `status must be one of: ${SETTABLE_GAP_STATUSES.join(", ")} (duplicate comes from a merge)`,
        })
        .optional(),
      fixed_in: nullableText(100, "fixed_in").optional(),
      title: z
        .string({ error: "title must be a string" })
        .trim()
        .min(1, { error: "title must not be empty" })
        .max(GAP_TITLE_MAX, { error: `title must be at most ${GAP_TITLE_MAX} characters` })
        .optional(),
      agent_note: nullableText(AGENT_NOTE_MAX, "agent_note").optional(),
    },
    { error: "the body must be a JSON object" },
  )
  .refine((b) => Object.values(b).some((v) => v !== undefined), {
    error: "send at least one of status, fixed_in, title, agent_note",
  });

const mergeSchema = z.strictObject(
  { into: gapIdValue },
  { error: 'the body must be a JSON object such as {"into": 12}' },
);

const splitSchema = z.strictObject(
  {
    report_ids: z
      .array(z.number({ error: "each report id must be a number" }).int().positive(), {
        error: "report_ids must be an array of report ids",
      })
      .min(1, { error: "report_ids must name at least one report" })
      .max(SPLIT_MAX, { error: `report_ids may name at most ${SPLIT_MAX} reports` }),
  },
  { error: 'the body must be a JSON object such as {"report_ids": [3, 7]}' },
);

const moveSchema = z.strictObject(
  { gap_id: gapIdValue },
  { error: 'the body must be a JSON object such as {"gap_id": 12}' },
);

const detailQuery = z.object(pageShape);

const IDS_MESSAGE = `ids must be a comma-separated list of at most ${SPARKLINE_MAX_IDS} gap ids`;
const sparklineQuery = z.strictObject(
  {
    ids: z
      .string({ error: IDS_MESSAGE })
      .regex(/^\d{1,15}(,\d{1,15})*$/, { error: IDS_MESSAGE })
      .transform((s) => s.split(",").map(Number))
      .refine((ids) => ids.length <= SPARKLINE_MAX_IDS, { error: IDS_MESSAGE }),
  },
  { error: "the query takes only ids" },
);

const trendQuery = z.strictObject({
  server_name: gapFilterShape.server_name,
  status: gapFilterShape.status,
  gap_type: gapFilterShape.gap_type,
  tool_name: gapFilterShape.tool_name,
  days: z.coerce
    .number({ error: "days must be a number" })
    .int({ error: "days must be a whole number" })
    .min(1, { error: "days must be at least 1" })
    .max(90, { error: "days must be at most 90" })
    .optional(),
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int({ error: "limit must be a whole number" })
    .min(1, { error: "limit must be at least 1" })
    .max(50, { error: "limit must be at most 50" })
    .optional(),
});

/** StoreError codes from gap operations and the HTTP status each deserves. */
const STATUS_BY_CODE: Record<string, number> = {
  gap_not_found: 404,
  report_not_found: 404,
  gap_merged: 409,
  regroup_in_progress: 409,
  merge_into_itself: 400,
  merge_across_servers: 400,
  move_across_servers: 400,
  reports_not_in_gap: 400,
  split_leaves_gap_empty: 400,
  too_many_reports: 400,
  invalid_report_ids: 400,
  invalid_version: 422,
  invalid_agent_note: 422,
  invalid_cursor: 400,
};

function translate<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof StoreError) throw new ApiError(STATUS_BY_CODE[err.code] ?? 400, err.code, err.message);
    throw err;
  }
}

/** One page of GET /api/gaps as response JSON: `{items, nextCursor, grouping}` (cached until the next write). */
export function gapListJson(store: FeedbackStore, query: GapListQuery): string {
  return translate(() => cachedGapListJson(store, query));
}

/** Who is acting, for the gap history: the key id (never its secret), the all-scopes key, or the local user. */
export function actorOf(req: Request): string {
  const token = bearerToken(req.headers.authorization);
  if (!token) return "local";
  const match = /^pwm_([0-9a-f]{12})_/.exec(token);
  return match ? `key:${match[1]}` : "api-key";
}

function requireJsonBody(req: Request): void {
  if (!req.is(["application/json", "application/*+json"]))
    throw new ApiError(415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json.");
}

export function gapRoutes(deps: { store: FeedbackStore; auth: Authenticator }): Router {
  const { store, auth } = deps;
  const router = Router();

  // The common case is served by fast-paths.ts through the same gapListJson.
  router.get("/", auth.require("read"), (req, res) => {
    res.type("application/json").send(gapListJson(store, parseOr400(gapListQuerySchema, req.query)));
  });

  // Dashboard helpers; registered before "/:id" so their names are not read as ids.
  router.get("/sparklines", auth.require("read"), (req, res) => {
    const { ids } = parseOr400(sparklineQuery, req.query);
    res.json(gapSparklines(store, ids));
  });

  router.get("/trend", auth.require("read"), (req, res) => {
    const { days, limit, ...filter } = parseOr400(trendQuery, req.query);
    res.json(gapTrend(store, { days, limit, filter }));
  });

  router.get("/:id", auth.require("read"), (req, res) => {
    const id = gapId(req);
    const page = parseOr400(detailQuery, req.query);
    const detail = translate(() => gapDetail(store, id, page));
    if (!detail) throw new ApiError(404, "gap_not_found", `There is no gap ${id}.`);
    res.json(detail);
  });

  router.patch("/:id", auth.require("admin"), (req, res) => {
    const id = gapId(req);
    requireJsonBody(req);
    const change = parseOr400(gapChangeSchema, req.body, 422);
    res.json(translate(() => store.gaps.updateGap(id, change, actorOf(req))));
  });

  router.post("/:id/merge", auth.require("admin"), (req, res) => {
    const id = gapId(req);
    requireJsonBody(req);
    const { into } = parseOr400(mergeSchema, req.body, 422);
    res.json(translate(() => store.gaps.mergeGaps(id, into, actorOf(req))));
  });

  router.post("/:id/split", auth.require("admin"), (req, res) => {
    const id = gapId(req);
    requireJsonBody(req);
    const { report_ids } = parseOr400(splitSchema, req.body, 422);
    res.status(201).json(translate(() => store.gaps.splitGap(id, report_ids, actorOf(req))));
  });

  return router;
}

/** POST /api/feedback/:id/gap {gap_id}: move one report into another gap (admin). */
export function reportGapRoutes(deps: { store: FeedbackStore; auth: Authenticator }): Router {
  const router = Router();
  router.post("/:id/gap", deps.auth.require("admin"), (req, res) => {
    const id = reportId(req);
    requireJsonBody(req);
    const { gap_id } = parseOr400(moveSchema, req.body, 422);
    const gap = translate(() => deps.store.gaps.moveReport(id, gap_id, actorOf(req)));
    res.json({ report: deps.store.getReport(id), gap });
  });
  return router;
}
