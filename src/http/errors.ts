/**
 * Every error the HTTP API returns is JSON `{error: {code, message, details?}}`.
 * Routes throw `ApiError`; the error middleware also translates body-parser
 * and zod failures so bad input never becomes a 500 or an HTML page.
 */
import type { ErrorRequestHandler, RequestHandler, Response } from "express";
import { z } from "zod";
import { toFieldIssues, type FieldIssue } from "../feedback/index.js";
import { IngestError, type IngestErrorCode } from "../ingest/index.js";
import { PgError, StoreError } from "../store/index.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Headers the answer carries, e.g. Retry-After on a 429. */
    readonly headers?: Record<string, string>,
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

/** How each ingestion failure is answered. */
const INGEST_STATUS: Record<IngestErrorCode, number> = { validation_failed: 422, invalid_idempotency_key: 400 };

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

export interface ErrorResponse {
  status: number;
  code: string;
  message: string;
  details?: unknown;
  headers?: Record<string, string>;
}

/** Map anything thrown while handling a request to the JSON error we answer with. */
export function errorResponse(err: unknown): ErrorResponse {
  if (err instanceof ApiError)
    return { status: err.status, code: err.code, message: err.message, details: err.details, headers: err.headers };
  if (err instanceof IngestError)
    return { status: INGEST_STATUS[err.code], code: err.code, message: err.message, details: err.issues };
  if (err instanceof StoreError) return { status: 400, code: err.code, message: err.message };
  if (err instanceof z.ZodError)
    return { status: 400, code: "validation_failed", message: "Invalid input.", details: toFieldIssues(err) };
  if (err instanceof PgError && err.transient) {
    // PostgreSQL is unreachable, restarting or overloaded: the connection is remade on the next request.
    return {
      status: 503,
      code: "storage_unavailable",
      message: `The database cannot be reached right now (${err.code ?? "no answer"}); retry shortly.`,
      headers: { "Retry-After": "1" },
    };
  }
  const sqliteCode = err instanceof Error && err.name === "SqliteError" ? (err as { code?: unknown }).code : undefined;
  if (typeof sqliteCode === "string" && /^SQLITE_(BUSY|LOCKED|FULL|IOERR)/.test(sqliteCode)) {
    // The database is locked by another process or the disk is in trouble: a retry may succeed.
    return {
      status: 503,
      code: "storage_unavailable",
      message: `The database cannot take writes right now (${sqliteCode}); retry shortly.`,
      headers: { "Retry-After": "1" },
    };
  }
  const type = typeof err === "object" && err !== null ? (err as { type?: unknown }).type : undefined;
  if (typeof type === "string" && BODY_ERRORS[type]) {
    const [status, code, message] = BODY_ERRORS[type];
    return { status, code, message };
  }
  const status = typeof err === "object" && err !== null ? (err as { status?: unknown }).status : undefined;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return { status, code: "bad_request", message: err instanceof Error ? err.message : "Bad request." };
  }
  process.stderr.write(
    `patchworkmcp: unhandled error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return { status: 500, code: "internal_error", message: "Internal server error." };
}

export const errorHandler: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  const { status, code, message, details, headers } = errorResponse(err);
  if (!res.headersSent) for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, value);
  sendError(res, status, code, message, details);
};

export const notFound: RequestHandler = (req, res) => {
  sendError(res, 404, "not_found", `No route for ${req.method} ${req.path}.`);
};
