/**
 * `POST /api/gaps/:id/issue` (admin, like drafting from a gap): the gap's
 * GitHub issue, created on first call (201) and the same one on every later
 * call (200), concurrent ones included. Answers `{url, created, issue, gap}`.
 */
import { Router } from "express";
import { z } from "zod";
import { gapUrl } from "../../net/report-url.js";
import { DraftSettings } from "../../settings/index.js";
import type { FeedbackStore } from "../../store/index.js";
import type { Authenticator } from "../auth.js";
import { ApiError, parseOr400 } from "../errors.js";
import { requireJsonBody } from "../json-body.js";
import { actorOf, gapId } from "./gaps.js";

const issueBodySchema = z.strictObject({}, { error: "the body must be an empty JSON object (or no body)" });

export function gapIssueRoutes(deps: { store: FeedbackStore; auth: Authenticator }): Router {
  const { store, auth } = deps;
  const settings = new DraftSettings(store);
  const router = Router();

  router.post("/:id/issue", auth.require("admin"), async (req, res) => {
    const id = gapId(req);
    requireJsonBody(req, { optional: true });
    parseOr400(issueBodySchema, req.body ?? {}, 422);
    // Loaded on first use: octokit is not needed to serve the API.
    const { createGapIssue, IssueError, ISSUE_STATUS } = await import("../../draft/issues.js");
    const controller = new AbortController();
    res.on("close", () => {
      if (!res.writableEnded) controller.abort();
    });
    // The link back points at the dashboard the request came through, as a draft PR's does.
    const host = req.get("host");
    const origin = host ? `${req.protocol}://${host}` : undefined;
    try {
      const { issue, created } = await createGapIssue({
        store,
        settings,
        gapId: id,
        actor: actorOf(req),
        gapUrl: origin ? gapUrl(origin, id) : undefined,
        signal: controller.signal,
      });
      res.status(created ? 201 : 200).json({ url: issue.url, created, issue, gap: store.gaps.getGap(id) });
    } catch (err) {
      if (err instanceof IssueError) throw new ApiError(ISSUE_STATUS[err.code] ?? 400, err.code, err.message);
      throw err;
    }
  });

  return router;
}
