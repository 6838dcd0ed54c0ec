/**
 * The draft-PR HTTP surface (admin scope): `GET/PUT /api/settings` and
 * `POST /api/feedback/:id/draft-pr`, which streams the pipeline's progress
 * as Server-Sent Events. Problems found before the stream starts (bad id,
 * unknown report, bad body, scope) are ordinary JSON errors.
 */
import { Router, type Request, type Response } from "express";
import { z } from "zod";
import { eventPayload, type DraftEvent } from "../../draft/events.js";
import type { FeedbackStore } from "../../store/index.js";
import { DraftSettings } from "../../settings/index.js";
import type { Authenticator } from "../auth.js";
import { gapUrl, reportUrl } from "../../net/report-url.js";
import { ApiError, parseOr400 } from "../errors.js";
import { requireJsonBody } from "../json-body.js";
import { reportId } from "./feedback.js";
import { settingsRoutes } from "./settings.js";

export const SSE_HEARTBEAT_MS = 15_000;

/** The body of a draft request (report or gap). */
export const draftBodySchema = z.strictObject(
  { dry_run: z.boolean({ error: "dry_run must be true or false" }).optional() },
  { error: 'the body must be a JSON object like {"dry_run": true}' },
);

/** One SSE frame: `event: X`, one `data:` line of JSON, blank line. */
export function sseFrame(event: string, data: unknown): string {
  // JSON.stringify never emits raw newlines, so one data line always suffices.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export interface SseStream {
  send(event: DraftEvent): void;
  end(): void;
  /** Aborted when the client goes away before the stream ends. */
  signal: AbortSignal;
}

export function openSse(res: Response, heartbeatMs = SSE_HEARTBEAT_MS): SseStream {
  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-cache, no-transform");
  res.setHeader("Connection", "keep-alive");
  res.setHeader("X-Accel-Buffering", "no");
  res.flushHeaders();
  res.socket?.setNoDelay(true);
  const controller = new AbortController();
  let ended = false;
  const heartbeat = setInterval(() => {
    if (!ended) res.write(": keep-alive\n\n");
  }, heartbeatMs);
  heartbeat.unref();
  res.on("close", () => {
    clearInterval(heartbeat);
    if (!ended) controller.abort();
  });
  res.write(": draft stream open\n\n");
  return {
    signal: controller.signal,
    send(event) {
      if (!ended && !res.writableEnded) res.write(sseFrame(event.type, eventPayload(event)));
    },
    end() {
      ended = true;
      clearInterval(heartbeat);
      if (!res.writableEnded) res.end();
    },
  };
}

/**
 * Run the draft pipeline on one report or gap, streaming its progress as SSE on
 * `res`; the PR links back to the subject's dashboard page at the request's host.
 */
export async function streamDraft(
  req: Request,
  res: Response,
  options: {
    store: FeedbackStore;
    settings: DraftSettings;
    heartbeatMs?: number | undefined;
    subject: { reportId: number } | { gapId: number };
    dryRun: boolean;
  },
): Promise<void> {
  const { subject } = options;
  const { runDraft } = await import("../../draft/pipeline.js");
  const stream = openSse(res, options.heartbeatMs);
  const host = req.get("host");
  const origin = host ? `${req.protocol}://${host}` : undefined;
  await runDraft({
    store: options.store,
    settings: options.settings,
    ...subject,
    dryRun: options.dryRun,
    signal: stream.signal,
    onEvent: (event) => stream.send(event),
    reportUrl:
      origin === undefined
        ? undefined
        : "reportId" in subject
          ? reportUrl(origin, subject.reportId)
          : gapUrl(origin, subject.gapId),
  });
  stream.end();
}

export function draftApi(deps: { store: FeedbackStore; auth: Authenticator; heartbeatMs?: number }): Router {
  const { store, auth } = deps;
  const settings = new DraftSettings(store);
  const router = Router();
  router.use("/settings", settingsRoutes({ settings, auth }));

  router.post("/feedback/:id/draft-pr", auth.require("admin"), async (req, res) => {
    const id = reportId(req);
    // A body is optional, but one that is not JSON is refused rather than ignored (it might have said dry_run).
    requireJsonBody(req, { optional: true });
    const body = parseOr400(draftBodySchema, req.body ?? {}, 422);
    if (!store.getReport(id)) throw new ApiError(404, "report_not_found", `There is no report ${id}.`);

    await streamDraft(req, res, {
      store,
      settings,
      heartbeatMs: deps.heartbeatMs,
      subject: { reportId: id },
      dryRun: body.dry_run ?? false,
    });
  });

  return router;
}
