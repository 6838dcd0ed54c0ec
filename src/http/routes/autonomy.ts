/**
 * The autonomy ladder over REST (admin scope): `GET /api/autonomy` (every
 * server that left the defaults), `GET/PUT /api/servers/:name/autonomy` (one
 * server's level and guardrails) and `POST /api/gaps/:id/draft/rollback`
 * (close the gap's open draft PR and delete its branch, in one action).
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { Router, type Request } from "express";
import { z } from "zod";
import { DraftError } from "../../draft/events.js";
import {
  autonomyFor,
  autonomyPatchSchema,
  DraftSettings,
  listAutonomy,
  SettingsError,
  updateAutonomy,
} from "../../settings/index.js";
import { autonomyOf, type FeedbackStore } from "../../store/index.js";
import type { Authenticator } from "../auth.js";
import { ApiError, parseOr400 } from "../errors.js";
import { requireJsonBody } from "../json-body.js";
import { actorOf, gapId } from "./gaps.js";

const serverNameParam = z
  .string()
  .trim()
  .min(1, { error: "the server name must not be empty" })
  .max(200, { error: "the server name must be at most 200 characters" });

export function serverName(req: Request): string {
  const parsed = serverNameParam.safeParse(req.params.name);
  if (!parsed.success)
    throw new ApiError(400, "invalid_server_name", parsed.error.issues[0]?.message ?? "bad server name");
  return parsed.data;
}

const rollbackBodySchema = z.strictObject(
  {
    draft_id: z
      .number({ error: "draft_id must be a draft id" })
      .int({ error: "draft_id must be a whole number" })
      .positive({ error: "draft_id must be positive" })
      .optional(),
  },
  { error: 'the body must be a JSON object like {"draft_id": 3}' },
);

/** Rollback failures and the HTTP status each deserves (GitHub's failures are a bad gateway). */
const ROLLBACK_STATUS: Record<string, number> = {
  missing_github_token: 409,
  invalid_repo: 409,
  not_a_pull_request: 409,
  credentials_in_url: 409,
  github_auth_failed: 502,
  github_forbidden: 502,
  github_not_found: 502,
  github_rejected: 502,
  github_error: 502,
  github_unreachable: 502,
};

export function autonomyRoutes(deps: { store: FeedbackStore; auth: Authenticator }): Router {
  const { store, auth } = deps;
  const settings = new DraftSettings(store);
  const router = Router();

  router.get("/autonomy", auth.require("admin"), (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json({ servers: listAutonomy(store) });
  });

  router.get("/servers/:name/autonomy", auth.require("admin"), (req, res) => {
    const name = serverName(req);
    res.setHeader("Cache-Control", "no-store");
    res.json({ server_name: name, ...autonomyFor(store, name) });
  });

  router.put("/servers/:name/autonomy", auth.require("admin"), (req, res) => {
    const name = serverName(req);
    requireJsonBody(req);
    const patch = parseOr400(autonomyPatchSchema, req.body, 422);
    const checkout = patch.verification?.checkout;
    if (checkout) {
      if (!existsSync(checkout) || !statSync(checkout).isDirectory())
        throw new ApiError(422, "invalid_checkout", `verification.checkout ${checkout} is not a directory.`);
      if (!existsSync(join(checkout, ".git")))
        throw new ApiError(422, "invalid_checkout", `verification.checkout ${checkout} is not a git checkout.`);
    }
    updateAutonomy(store, name, patch);
    res.setHeader("Cache-Control", "no-store");
    res.json({ server_name: name, ...autonomyFor(store, name) });
  });

  router.post("/gaps/:id/draft/rollback", auth.require("admin"), async (req, res) => {
    const id = gapId(req);
    requireJsonBody(req, { optional: true });
    const body = parseOr400(rollbackBodySchema, req.body ?? {}, 422);
    const gap = store.gaps.getGap(id);
    if (!gap) throw new ApiError(404, "gap_not_found", `There is no gap ${id}.`);
    const auto = autonomyOf(store);
    const draft =
      body.draft_id === undefined ? auto.openDraftOf(id) : store.gaps.draftsOf(id).find((d) => d.id === body.draft_id);
    if (!draft)
      throw new ApiError(
        body.draft_id === undefined ? 409 : 404,
        body.draft_id === undefined ? "no_open_draft" : "draft_not_found",
        body.draft_id === undefined
          ? `Gap ${id} has no open draft PR to roll back.`
          : `Gap ${id} has no draft ${body.draft_id}.`,
      );
    const closed = auto.closureOf(draft.id);
    if (closed)
      throw new ApiError(
        409,
        "already_rolled_back",
        `Draft ${draft.id} was already rolled back at ${closed.closed_at}.`,
      );
    const { rollbackDraft } = await import("../../draft/pull-control.js");
    try {
      const result = await rollbackDraft({ store, settings, gapId: id, draft, actor: actorOf(req), reason: "manual" });
      res.json(result);
    } catch (err) {
      if (err instanceof DraftError) throw new ApiError(ROLLBACK_STATUS[err.code] ?? 500, err.code, err.message);
      if (err instanceof SettingsError) throw new ApiError(409, err.code, err.message);
      throw err;
    }
  });

  return router;
}
