/**
 * Every error the HTTP API returns is JSON `{error: {code, message, details?}}`.
 * Routes throw `ApiError`; the error middleware also translates body-parser
 * and zod failures so bad input never becomes a 500 or an HTML page.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from "express";
import { z } from "zod";
import { toFieldIssues, type FieldIssue } from "../feedback/index.js";
import { StoreError } from "../store/index.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function sendError(res: Response, status: number, code: string, message: string, details?: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(status).json({ error: details === undefined ? { code, message } : { code, message, details } });
}

/** A validation failure naming each bad field. */
export function validationError(issues: FieldIssue[], status = 422): ApiError {
  const summary = issues.map((i) => `${i.field}: ${i.message}`).join("; ");
  return new ApiError(status, "validation_failed", `Invalid input: ${summary}`, issues);
}

/** Parse with zod or throw a 400 naming the bad fields (for query strings and small bodies). */
export function parseOr400<T>(schema: z.ZodType<T>, input: unknown, status = 400): T {
  const result = schema.safeParse(input);
  if (!result.success) throw validationError(toFieldIssues(result.error), status);
  return result.data;
}

/** body-parser error types → our codes. */
const BODY_ERRORS: Record<string, [number, string, string]> = {
  "entity.parse.failed": [400, "invalid_json", "The request body is not valid JSON."],
  "entity.too.large": [413, "payload_too_large", "The request body is larger than this endpoint accepts."],
  "encoding.unsupported": [415, "unsupported_encoding", "The request body's content encoding is not supported."],
  "charset.unsupported": [415, "unsupported_charset", "The request body's charset is not supported; use UTF-8."],
  "request.aborted": [400, "request_aborted", "The request body was not received completely."],
  "request.size.invalid": [400, "invalid_body_size", "The request body does not match its Content-Length."],
  "stream.encoding.set": [500, "internal_error", "Internal error while reading the request body."],
};

export const errorHandler: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  if (err instanceof ApiError) return sendError(res, err.status, err.code, err.message, err.details);
  if (err instanceof StoreError) return sendError(res, 400, err.code, err.message);
  if (err instanceof z.ZodError) {
    const issues = toFieldIssues(err);
    return sendError(res, 400, "validation_failed", "Invalid input.", issues);
  }
  const sqliteCode = err instanceof Error && err.name === "SqliteError" ? (err as { code?: unknown }).code : undefined;
  if (typeof sqliteCode === "string" && /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/.test(sqliteCode)) {
    // The database is locked by another process or the disk is in trouble: a retry may succeed.
    res.setHeader("Retry-After", "1");
    return sendError(res, 503, "storage_unavailable", `The database cannot take writes right now (${sqliteCode}); retry shortly.`);
  }
  const type = typeof err === "object" && err !== null ? (err as { type?: unknown }).type : undefined;
  if (typeof type === "string" && BODY_ERRORS[type]) {
    const [status, code, message] = BODY_ERRORS[type];
    return sendError(res, status, code, message);
  }
  const status = typeof err === "object" && err !== null ? (err as { status?: unknown }).status : undefined;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return sendError(res, status, "bad_request", err instanceof Error ? err.message : "Bad request.");
  }
  process.stderr.write(`patchworkmcp: unhandled error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return sendError(res, 500, "internal_error", "Internal server error.");
};

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, "not_found", `No route for ${req.method} ${req.path}.`);
};
