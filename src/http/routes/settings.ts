/** `GET/PUT /api/settings` (admin): draft-PR repos, LLM choice, masked secrets. */
import { Router } from "express";
import { type DraftSettings, EnvFileError, SettingsError, settingsPatchSchema } from "../../settings/index.js";
import type { Authenticator } from "../auth.js";
import { ApiError, parseOr400 } from "../errors.js";
import { requireJsonBody } from "../json-body.js";

export function settingsRoutes(deps: { settings: DraftSettings; auth: Authenticator }): Router {
  const { settings, auth } = deps;
  const router = Router();

  router.get("/", auth.require("admin"), (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json(settings.publicView());
  });

  router.put("/", auth.require("admin"), (req, res) => {
    requireJsonBody(req);
    const patch = parseOr400(settingsPatchSchema, req.body, 422);
    try {
      res.setHeader("Cache-Control", "no-store");
      res.json(settings.update(patch));
    } catch (err) {
      if (err instanceof SettingsError) throw new ApiError(409, err.code, err.message);
      if (err instanceof EnvFileError) throw new ApiError(422, err.code, err.message);
      throw err;
    }
  });

  return router;
}
