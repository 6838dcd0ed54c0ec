/**
 * `/api/alerts` (admin scope): destinations (a webhook's signing secret in the answer once),
 * rules, test sends, secret rotation, and the delivery queue with its dead letters and retry.
 */
import { Router, type Request } from "express";
import { z } from "zod";
import {
  AlertConfigError,
  type AlertConfigErrorCode,
  AlertSendError,
  type AlertService,
  deliveryStateSchema,
  destinationInputSchema,
  ruleInputSchema,
} from "../../alerts/index.js";
import { EnvFileError } from "../../settings/index.js";
import type { Authenticator } from "../auth.js";
import { ApiError, parseOr400 } from "../errors.js";
import { requireJsonBody } from "../json-body.js";

const STATUS: Record<AlertConfigErrorCode, number> = {
  invalid_url: 422,
  unsupported_url_scheme: 422,
  url_has_credentials: 422,
  unknown_destination: 422,
  destination_not_found: 404,
  rule_not_found: 404,
  delivery_not_found: 404,
  already_delivered: 409,
  not_a_webhook: 409,
};

function translate<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AlertConfigError) throw new ApiError(STATUS[err.code] ?? 400, err.code, err.message);
    if (err instanceof EnvFileError) throw new ApiError(422, err.code, err.message);
    throw err;
  }
}

const idParam = (req: Request, what: string): number => {
  const raw = String(req.params.id ?? "");
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1)
    throw new ApiError(400, "invalid_id", `${what} id must be a positive whole number, not "${raw.slice(0, 40)}".`);
  return n;
};

const deliveriesQuery = z.strictObject({
  state: deliveryStateSchema.optional(),
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int({ error: "limit must be a whole number" })
    .min(1, { error: "limit must be at least 1" })
    .max(500, { error: "limit must be at most 500" })
    .optional(),
  before: z.coerce.number({ error: "before must be a number" }).int().positive().optional(),
});

export function alertRoutes(deps: { service: AlertService; auth: Authenticator }): Router {
  const { service, auth } = deps;
  const router = Router();
  router.use(auth.require("admin"), (_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  });

  router.get("/destinations", (_req, res) => {
    res.json({ items: service.listDestinations() });
  });
  router.post("/destinations", (req, res) => {
    requireJsonBody(req);
    const input = parseOr400(destinationInputSchema, req.body, 422);
    res.status(201).json(translate(() => service.addDestination(input)));
  });
  router.delete("/destinations/:id", (req, res) => {
    const id = idParam(req, "destination");
    translate(() => service.deleteDestination(id));
    res.json({ deleted: true, id });
  });
  router.post("/destinations/:id/test", async (req, res) => {
    const id = idParam(req, "destination");
    translate(() => service.requireDestination(id));
    try {
      res.json(await service.test(id));
    } catch (err) {
      if (err instanceof AlertSendError) throw new ApiError(502, err.code, err.message);
      throw err;
    }
  });
  router.post("/destinations/:id/rotate-secret", (req, res) => {
    const id = idParam(req, "destination");
    res.json(translate(() => service.rotateSecret(id)));
  });

  router.get("/rules", (_req, res) => {
    res.json({ items: service.listRules() });
  });
  router.post("/rules", (req, res) => {
    requireJsonBody(req);
    const input = parseOr400(ruleInputSchema, req.body, 422);
    res.status(201).json(translate(() => service.addRule(input)));
  });
  router.delete("/rules/:id", (req, res) => {
    const id = idParam(req, "rule");
    translate(() => service.deleteRule(id));
    res.json({ deleted: true, id });
  });

  router.get("/deliveries", (req, res) => {
    const q = parseOr400(deliveriesQuery, req.query);
    res.json({ items: service.deliveries(q), counts: service.alerts.counts() });
  });
  router.post("/deliveries/:id/retry", (req, res) => {
    const id = idParam(req, "delivery");
    res.json(translate(() => service.retry(id)));
  });
  return router;
}
