/** The one rule for request bodies: JSON, or 415 Unsupported Media Type. */
import type { Request } from "express";
import { ApiError } from "./errors.js";

/** The content types the JSON body parser reads (and routes accept). */
export const JSON_TYPES = ["application/json", "application/*+json"];

/**
 * Throw a 415 unless the body is JSON. With `optional`, a request without a
 * body passes; one with a body in another type is still refused rather than
 * ignored (it might have said something).
 */
export function requireJsonBody(req: Request, options: { optional?: boolean } = {}): void {
  if (options.optional) {
    const sentBody = Number(req.get("content-length") ?? 0) > 0 || req.get("transfer-encoding") !== undefined;
    if (!sentBody) return;
  }
  if (!req.is(JSON_TYPES)) {
    throw new ApiError(415, "unsupported_media_type", "Send the body as JSON with Content-Type: application/json.");
  }
}
