/**
 * Serves the built dashboard (dist/ui, made by `npm run build`): index.html at
 * `/` with a strict Content-Security-Policy, and content-hashed assets under
 * `/assets/` cached as immutable. The page itself needs no API key; it asks for
 * one when the API answers 401.
 */
import express, { Router } from "express";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { sendError } from "../http/errors.js";

/** No inline script or style, nothing from other origins, no framing. */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

/** dist/ui next to the compiled dist/src/ui/serve.js, or ../../dist/ui from src/ui when run through tsx. */
export function defaultDashboardDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, "../../ui"), resolve(here, "../../dist/ui")];
  return candidates.find((dir) => existsSync(join(dir, "index.html"))) ?? candidates[0]!;
}

export function dashboardRoutes(options: { dir?: string } = {}): Router {
  const dir = options.dir ?? defaultDashboardDir();
  const router = Router();
  const page: express.RequestHandler = (_req, res) => {
    let html: Buffer;
    try {
      // Read per request (it is 1 KB): a rebuild renames the hashed assets it points to.
      html = readFileSync(join(dir, "index.html"));
    } catch {
      return sendError(
        res,
        503,
        "dashboard_not_built",
        `The dashboard is not built (no ${join(dir, "index.html")}). Run \`npm run build\`.`,
      );
    }
    res.setHeader("Content-Security-Policy", DASHBOARD_CSP);
    res.setHeader("X-Frame-Options", "DENY");
    res.setHeader("Cache-Control", "no-cache");
    res.type("html").send(html);
  };
  router.get(["/", "/index.html"], page);
  router.use(
    "/assets",
    express.static(join(dir, "assets"), {
      immutable: true,
      maxAge: "365d",
      index: false,
      redirect: false,
      fallthrough: true,
      setHeaders: (res) => res.setHeader("Content-Security-Policy", DASHBOARD_CSP),
    }),
  );
  return router;
}
