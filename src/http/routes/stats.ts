/** GET /api/stats: counts for the dashboard tiles and charts. */
import { Router } from "express";
import { z } from "zod";
import { reportFilterShape, STATS_DAYS_DEFAULT, statsDaysArg, type FeedbackStore } from "../../store/index.js";
import type { Authenticator } from "../auth.js";
import { parseOr400 } from "../errors.js";

const statsQuery = z.object({
  ...reportFilterShape,
  days: statsDaysArg,
});

export function statsRoutes(deps: { store: FeedbackStore; auth: Authenticator }): Router {
  const router = Router();
  router.get("/", deps.auth.require("read"), (req, res) => {
    const { days, ...filter } = parseOr400(statsQuery, req.query);
    res.json(deps.store.stats(filter, days ?? STATS_DAYS_DEFAULT));
  });
  return router;
}
