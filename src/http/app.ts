/**
 * The sidecar's express app: ingestion + review REST API, health check, and
 * the mount points for the MCP endpoint, the draft-PR API and the dashboard.
 */
import express, { type Express } from "express";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FeedbackStore } from "../store/index.js";
import { Authenticator, type AuthResult } from "./auth.js";
import { errorHandler, notFound } from "./errors.js";
import {
  type BatchWriter,
  type CallsWriter,
  type DeferredAssignment,
  IngestQueue,
  PrivacyPolicy,
} from "../ingest/index.js";
import type { PrivacyMode } from "../privacy/index.js";
import { JSON_TYPES } from "./json-body.js";
import { autonomyRoutes } from "./routes/autonomy.js";
import { callsRoutes } from "./routes/calls.js";
import { privacyRoutes } from "./routes/privacy.js";
import { draftApi } from "./routes/draft.js";
import { exportRoutes } from "./routes/export.js";
import { feedbackRoutes } from "./routes/feedback.js";
import { gapIssueRoutes } from "./routes/gap-issue.js";
import { gapLlmRoutes } from "./routes/gap-llm.js";
import { gapRoutes, reportGapRoutes } from "./routes/gaps.js";
import { statsRoutes } from "./routes/stats.js";
import { alertRoutes } from "./routes/alerts.js";
import { AlertService } from "../alerts/index.js";
import { answerError, fastPaths, type FastPathRoute } from "./fast-paths.js";
import { DEFAULT_INGEST_LIMITS, IngestLimiter, type IngestLimits } from "./rate-limit.js";
import { hostCheck, hostRejecter, originCheck, type HostPolicy } from "./security.js";
import { dashboardRoutes } from "../ui/serve.js";
import { type McpHttpEndpoint, mcpEndpoint } from "../mcp/http.js";
import { DEFAULT_SIDECAR_URL } from "../net/sidecar-address.js";

export interface AppOptions {
  store: FeedbackStore;
  /** All-scopes key (FEEDBACK_API_KEY). */
  apiKey?: string | undefined;
  host?: HostPolicy | undefined;
  /** JSON body limit for the REST API, in bytes. */
  bodyLimitBytes?: number | undefined;
  /** Rate limit and daily byte cap on ingestion (DEFAULT_INGEST_LIMITS when absent). */
  limits?: IngestLimits | undefined;
  /** Called for each request a fast path answers (tests use it to prove the fast path ran). */
  onFastPath?: ((route: FastPathRoute) => void) | undefined;
  /** Deferred grouping (the store opened with `grouping: "deferred"`): the worker that assigns gaps. */
  deferred?: DeferredAssignment | undefined;
  /** Ingestion's writes on their own thread (serve on SQLite); absent: on the event loop. */
  writer?: (BatchWriter & CallsWriter) | undefined;
  /** The dashboard's public address, for the links in alerts (FEEDBACK_PUBLIC_URL). */
  publicUrl?: (() => string) | undefined;
  /** The process's default privacy mode (`serve --privacy` / FEEDBACK_PRIVACY); absent: the saved default. */
  privacy?: PrivacyMode | undefined;
}

export interface AppContext {
  app: Express;
  /** The request handler to serve: the hot-route fast paths in front of the express app. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  store: FeedbackStore;
  auth: Authenticator;
  queue: IngestQueue;
  /** The MCP endpoint's sessions: close them with the server. */
  mcp: McpHttpEndpoint;
  limiter: IngestLimiter;
}

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export function createApp(options: AppOptions): AppContext {
  const { store } = options;
  const auth = new Authenticator({ store, masterKey: options.apiKey });
  const privacy = new PrivacyPolicy(store, options.privacy);
  const queue = new IngestQueue(store, options.deferred, privacy, options.writer);
  const limiter = new IngestLimiter({ limits: options.limits ?? DEFAULT_INGEST_LIMITS, store });
  const ingestQueue = limiter.budgeted(queue);
  const policy: HostPolicy = options.host ?? { bindHost: "127.0.0.1", allowedHosts: [], allowedOrigins: [] };

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(hostCheck(policy));
  app.use(originCheck(policy));
  app.use((_req, res, next) => {
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    next();
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok", db: store.db.open ? "open" : "closed", grouping: store.gaps.progress() });
  });

  const api = express.Router();
  // Who is asking is settled before any body is read: without a valid key nobody gets the
  // server to parse a megabyte of JSON. Each route still checks its own scope.
  api.use(auth.require("ingest"));
  // A client over its rate is refused before its body is read, like one without a key.
  api.post("/feedback", (req, res, next) => {
    limiter.admit(req, res.locals.auth as AuthResult | undefined);
    next();
  });
  const bodyLimitBytes = options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  api.use(express.json({ limit: bodyLimitBytes, strict: false, type: JSON_TYPES }));
  api.use("/feedback", feedbackRoutes({ store, auth, queue: ingestQueue }));
  api.use("/feedback", reportGapRoutes({ store, auth }));
  api.use("/gaps", gapRoutes({ store, auth }));
  api.use("/gaps", gapLlmRoutes({ store, auth }));
  api.use("/gaps", gapIssueRoutes({ store, auth }));
  api.use("/stats", statsRoutes({ store, auth }));
  api.use("/export", exportRoutes({ store, auth }));
  api.use(draftApi({ store, auth }));
  api.use(
    "/alerts",
    alertRoutes({
      service: new AlertService(store, { publicUrl: options.publicUrl ?? (() => DEFAULT_SIDECAR_URL) }),
      auth,
    }),
  );
  api.use(autonomyRoutes({ store, auth }));
  api.use(callsRoutes({ store, auth, privacy, writer: options.writer }));
  api.use(privacyRoutes({ store, auth, processDefault: options.privacy }));
  app.use("/api", api);
  const mcp = mcpEndpoint({ store, auth, queue });
  app.all("/mcp", (req, res, next) => {
    mcp.handle(req, res).catch(next);
  });
  app.use(dashboardRoutes());

  const fast = fastPaths({
    store,
    auth,
    queue: ingestQueue,
    limiter,
    rejectHost: hostRejecter(policy),
    bodyLimitBytes,
    onFastPath: options.onFastPath,
  });
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    let taken: boolean;
    try {
      taken = fast(req, res);
    } catch (err) {
      // A store failure before the fast path answered (its auth check reads keys): an error answer, never a crash.
      if (!res.headersSent) answerError(res, err);
      return;
    }
    if (!taken) app(req, res);
  };
  return { app, handler, store, auth, queue, mcp, limiter };
}

/** Add the final 404 and error handlers; call after every mount. */
export function finishApp(app: Express): void {
  app.use(notFound);
  app.use(errorHandler);
}
