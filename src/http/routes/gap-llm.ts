/**
 * The LLM on a gap (admin scope): `POST /api/gaps/:id/analysis` runs (or
 * returns the fresh cached) analysis; `POST /api/gaps/:id/draft` drafts a PR
 * from all the gap's reports and streams the pipeline's progress as SSE, the
 * same stream as `POST /api/feedback/:id/draft-pr`. Problems found before the
 * stream starts (bad id, unknown gap, bad body, scope) are JSON errors.
 */
import { Router, type Request } from "express";
import { z } from "zod";
import { DraftSettings } from "../../settings/index.js";
import type { FeedbackStore } from "../../store/index.js";
import type { Authenticator } from "../auth.js";
import { ApiError, parseOr400 } from "../errors.js";
import { requireJsonBody } from "../json-body.js";
import { draftBodySchema, streamDraft } from "./draft.js";
import { actorOf, gapId } from "./gaps.js";

const analysisBodySchema = z.strictObject(
  { force: z.boolean({ error: "force must be true or false" }).optional() },
  { error: 'the body must be a JSON object like {"force": true}' },
);

/** Analysis failure codes and the HTTP status each deserves (the model's failures are a bad gateway). */
export const ANALYSIS_STATUS: Record<string, number> = {
  gap_analysis_off: 409,
  llm_not_configured: 409,
  gap_not_found: 404,
  gap_merged: 409,
  gap_empty: 409,
  invalid_repo: 409,
  invalid_analysis: 502,
  model_refused: 502,
  model_truncated: 502,
  llm_auth_failed: 502,
  llm_not_found: 502,
  llm_error: 502,
  llm_unreachable: 502,
  llm_rate_limited: 503,
  cancelled: 499,
};

/** An optional body, but one that is not JSON is refused rather than ignored. */
function optionalJsonBody(req: Request): unknown {
  requireJsonBody(req, { optional: true });
  return req.body ?? {};
}

export function gapLlmRoutes(deps: { store: FeedbackStore; auth: Authenticator; heartbeatMs?: number }): Router {
  const { store, auth } = deps;
  const settings = new DraftSettings(store);
  const router = Router();

  router.post("/:id/analysis", auth.require("admin"), async (req, res) => {
    const id = gapId(req);
    const body = parseOr400(analysisBodySchema, optionalJsonBody(req), 422);
    const { analyzeGap, GapAnalysisError } = await import("../../draft/gap-analysis.js");
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableEnded) controller.abort();
    });
    try {
      const result = await analyzeGap({
        store,
        settings,
        gapId: id,
        actor: actorOf(req),
        force: body.force ?? false,
        signal: controller.signal,
      });
      res.json({ ...result, gap: store.gaps.getGap(id) });
    } catch (err) {
      if (err instanceof GapAnalysisError) throw new ApiError(ANALYSIS_STATUS[err.code] ?? 500, err.code, err.message);
      throw err;
    }
  });

  router.post("/:id/draft", auth.require("admin"), async (req, res) => {
    const id = gapId(req);
    const body = parseOr400(draftBodySchema, optionalJsonBody(req), 422);
    const gap = store.gaps.getGap(id);
    if (!gap) throw new ApiError(404, "gap_not_found", `There is no gap ${id}.`);
    if (gap.status === "duplicate")
      throw new ApiError(
        409,
        "gap_merged",
        `Gap ${id} was merged into gap ${gap.duplicate_of}; draft from gap ${gap.duplicate_of} instead.`,
      );

    await streamDraft(req, res, {
      store,
      settings,
      heartbeatMs: deps.heartbeatMs,
      subject: { gapId: id },
      dryRun: body.dry_run ?? false,
    });
  });

  return router;
}
