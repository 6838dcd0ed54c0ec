/**
 * Privacy modes over REST (admin scope): `GET/PUT /api/privacy` (the default every server
 * without an override gets, and the overrides) and `GET/PUT /api/servers/:name/privacy` (one
 * server's mode; `{"mode": null}` clears its override). A change applies to the next ingest batch.
 */
import { Router } from "express";
import type { PrivacyMode } from "../../privacy/index.js";
import {
  privacyDefaultPatchSchema,
  privacyView,
  serverPrivacy,
  serverPrivacyPatchSchema,
  setPrivacyDefault,
  setServerPrivacy,
} from "../../settings/index.js";
import type { FeedbackStore } from "../../store/index.js";
import type { Authenticator } from "../auth.js";
import { parseOr400 } from "../errors.js";
import { requireJsonBody } from "../json-body.js";
import { serverName } from "./autonomy.js";

export function privacyRoutes(deps: {
  store: FeedbackStore;
  auth: Authenticator;
  processDefault?: PrivacyMode | undefined;
}): Router {
  const { store, auth, processDefault } = deps;
  const router = Router();

  router.get("/privacy", auth.require("admin"), (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json(privacyView(store, processDefault));
  });

  router.put("/privacy", auth.require("admin"), (req, res) => {
    requireJsonBody(req);
    const patch = parseOr400(privacyDefaultPatchSchema, req.body, 422);
    setPrivacyDefault(store, patch.default);
    res.setHeader("Cache-Control", "no-store");
    res.json(privacyView(store, processDefault));
  });

  router.get("/servers/:name/privacy", auth.require("admin"), (req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json(serverPrivacy(store, serverName(req), processDefault));
  });

  router.put("/servers/:name/privacy", auth.require("admin"), (req, res) => {
    const name = serverName(req);
    requireJsonBody(req);
    const patch = parseOr400(serverPrivacyPatchSchema, req.body, 422);
    setServerPrivacy(store, name, patch.mode);
    res.setHeader("Cache-Control", "no-store");
    res.json(serverPrivacy(store, name, processDefault));
  });

  return router;
}
