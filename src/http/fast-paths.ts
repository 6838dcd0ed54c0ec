/**
 * The two hot routes without express: `POST /api/feedback` (every agent's
 * report) and `GET /api/feedback` (every list page). Express 5 on Node 20 costs
 * several times more per request than the work itself (measured here: about
 * 2,300 ingest req/s through express against about 6,000 on a bare handler).
 * These handlers take only the plain, well-formed case — exact path, no Origin,
 * no Content-Encoding, a UTF-8 JSON body within the limit, no repeated query
 * keys, an acceptable Host and key — and return false for everything else,
 * which the express app then answers exactly as it always has. Both paths share
 * the host rule, auth, the ingestion limits, validation, the store calls and the
 * error mapping.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Authenticator } from "./auth.js";
import { ApiError, errorResponse } from "./errors.js";
import { gapListQuerySchema, listQuerySchema, type FeedbackStore } from "../store/index.js";
import { ingestReport } from "../ingest/index.js";
import { ingestedResponse } from "./ingest.js";
import type { IngestLimiter, IngestQueueLike } from "./rate-limit.js";
import { listPageJson } from "./routes/feedback.js";
import { gapListJson } from "./routes/gaps.js";

const JSON_UTF8 = /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

export interface FastPathDeps {
  store: FeedbackStore;
  auth: Authenticator;
  /** The ingest queue behind the daily byte cap. */
  queue: IngestQueueLike;
  limiter: IngestLimiter;
  rejectHost: (hostHeader: string | undefined) => string | undefined;
  bodyLimitBytes: number;
  onFastPath?: ((route: FastPathRoute) => void) | undefined;
}

export type FastPathRoute = "ingest" | "list";

export function fastPaths(deps: FastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const h = req.headers;
    if (h.origin !== undefined || deps.rejectHost(h.host) !== undefined) return false;
    if (req.method === "POST" && req.url === "/api/feedback") return ingest(deps, req, res);
    if (
      req.method === "GET" &&
      req.url !== undefined &&
      (req.url === "/api/feedback" || req.url.startsWith("/api/feedback?"))
    ) {
      return list(deps, req, res);
    }
    if (
      req.method === "GET" &&
      req.url !== undefined &&
      (req.url === "/api/gaps" || req.url.startsWith("/api/gaps?"))
    ) {
      return listGaps(deps, req, res);
    }
    return false;
  };
}

function ingest(deps: FastPathDeps, req: IncomingMessage, res: ServerResponse): boolean {
  const h = req.headers;
  if (h["content-encoding"] !== undefined || h["transfer-encoding"] !== undefined) return false;
  if (!JSON_UTF8.test(h["content-type"] ?? "")) return false;
  const length = Number(h["content-length"]);
  // An empty body is `{}` to express's parser (a 422, not a 400): leave it to express.
  if (!Number.isInteger(length) || length <= 0 || length > deps.bodyLimitBytes) return false;
  const authorized = deps.auth.authorize(req, "ingest");
  if (!authorized.ok) return false;
  deps.onFastPath?.("ingest");
  try {
    deps.limiter.admit(req, authorized.result);
  } catch (err) {
    // Refused before the body is read; the rest of it is discarded.
    answerError(res, err);
    req.resume();
    return true;
  }

  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    let body: unknown;
    try {
      const raw = Buffer.concat(chunks);
      // Skip a UTF-8 byte-order mark, as express's body parser does.
      body = JSON.parse(raw.toString("utf8", raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf ? 3 : 0));
    } catch {
      return answerError(res, new ApiError(400, "invalid_json", "The request body is not valid JSON."));
    }
    const key = h["idempotency-key"];
    ingestReport(deps.queue, body, Array.isArray(key) ? key.join(", ") : key).then(
      (ingested) => {
        const { status, body: json } = ingestedResponse(ingested);
        answer(res, status, json, ingested.created ? {} : { "Idempotent-Replayed": "true" });
      },
      (err: unknown) => answerError(res, err),
    );
  });
  return true;
}

function list(deps: FastPathDeps, req: IncomingMessage, res: ServerResponse): boolean {
  const search = new URLSearchParams(req.url!.slice("/api/feedback".length));
  const query: Record<string, string> = {};
  for (const [key, value] of search) {
    // express reads a repeated key as a list (and answers 400): leave those to it.
    if (key in query) return false;
    query[key] = value;
  }
  if (!deps.auth.authorize(req, "read").ok) return false;
  const parsed = listQuerySchema.safeParse(query);
  if (!parsed.success) return false; // express answers the 400 with the same schema
  deps.onFastPath?.("list");
  const { limit, cursor, ...filter } = parsed.data;
  listPageJson(deps.store, filter, { limit, cursor }).then(
    (json) => answer(res, 200, json),
    (err: unknown) => answerError(res, err),
  );
  return true;
}

/** GET /api/gaps (the dashboard's home view): the same rules as `list`, the same JSON as the express route. */
function listGaps(deps: FastPathDeps, req: IncomingMessage, res: ServerResponse): boolean {
  const query = singleQuery(req.url!.slice("/api/gaps".length));
  if (!query || !deps.auth.authorize(req, "read").ok) return false;
  const parsed = gapListQuerySchema.safeParse(query);
  if (!parsed.success) return false;
  try {
    answer(res, 200, gapListJson(deps.store, parsed.data));
  } catch (err) {
    answerError(res, err);
  }
  return true;
}

/** Query parameters as a record, or undefined when a key repeats (express answers those). */
function singleQuery(search: string): Record<string, string> | undefined {
  const query: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(search)) {
    if (key in query) return undefined;
    query[key] = value;
  }
  return query;
}

/** The headers the express app sets on every response. */
const COMMON_HEADERS = { "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer" } as const;

function answer(res: ServerResponse, status: number, json: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...COMMON_HEADERS, ...headers, "Content-Type": "application/json; charset=utf-8" }).end(json);
}

export function answerError(res: ServerResponse, err: unknown): void {
  const { status, code, message, details, headers } = errorResponse(err);
  answer(
    res,
    status,
    JSON.stringify({ error: details === undefined ? { code, message } : { code, message, details } }),
    headers,
  );
}
