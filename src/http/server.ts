/**
 * Start and stop the sidecar HTTP server. Used by `patchworkmcp serve` and by
 * tests (port 0 gives an ephemeral port).
 */
import type { PrivacyMode } from "../privacy/modes.js";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  BUSY_TIMEOUT_MS_DEFAULT,
  CALL_PURGE_INTERVAL_MS_DEFAULT,
  CALL_RETENTION_DAYS_DEFAULT,
  FeedbackStore,
  isPostgresUrl,
  ROLLUP_RETENTION_DAYS_DEFAULT,
  WriteGate,
} from "../store/index.js";
import { startCallRetention } from "./calls-retention.js";
import { createApp, finishApp, type AppContext } from "./app.js";
import type { IngestLimits } from "./rate-limit.js";
import { isLoopbackHost } from "./security.js";
import { groupInBackground } from "../gaps/backfill.js";
import { GroupingWorker } from "../gaps/deferred.js";
import { ThreadWriter } from "../ingest/index.js";
import { DEFAULT_SIDECAR_URL } from "../net/sidecar-address.js";

const FTS_INDEX_INTERVAL_MS = 250;
/** Reports per full-text indexing transaction in the grouping worker (short, so ingestion is not held up). */
const FTS_BATCH = 500;

export interface ServeOptions {
  port: number;
  host: string;
  dbPath: string;
  apiKey?: string | undefined;
  allowedHosts?: string[] | undefined;
  allowedOrigins?: string[] | undefined;
  /** Rate limit and daily byte cap on ingestion (the defaults when absent). */
  limits?: IngestLimits | undefined;
  /** How often automatic gap analysis looks for gaps to analyse (it runs only when the settings turn it on). */
  gapAnalysisIntervalMs?: number | undefined;
  /** How often linked GitHub issues are read back into their gaps' status (0 or absent: never). */
  issueSyncIntervalMs?: number | undefined;
  /** How often the autonomy worker looks for gaps to draft and CI to check (it acts only for servers at auto_draft). */
  autonomyIntervalMs?: number | undefined;
  /** Let the autonomy worker run the verification commands configured per server (off: such changes are held). */
  autonomyVerify?: boolean | undefined;
  /** Where warnings go (stderr by default). */
  log?: ((line: string) => void) | undefined;
  /**
   * `deferred` (default): reports are stored without a gap and a worker thread assigns them
   * (src/gaps/deferred.ts), so grouping costs ingestion nothing. `inline`: in the ingest transaction.
   */
  grouping?: "inline" | "deferred" | undefined;
  /** The grouping and alert-rule threads' nice value (0-19; absent: DEFAULT_BACKGROUND_NICE). */
  backgroundNice?: number | undefined;
  /** The dashboard's address for links in alerts (default: this server's own URL). */
  publicUrl?: string | undefined;
  /** The default privacy mode (`--privacy` / FEEDBACK_PRIVACY); absent: the saved default, else secrets+pii. */
  privacy?: PrivacyMode | undefined;
  /** Alert evaluation and delivery (src/alerts/runner.ts). */
  alerts?: { intervalMs?: number; maxAttempts?: number; baseDelayMs?: number } | undefined;
  /** Tool-call analytics retention: raw events and rollups kept this many days (0 = forever), purged every intervalMs. */
  callRetention?: { callDays?: number; rollupDays?: number; intervalMs?: number } | undefined;
}

export interface RunningServer {
  url: string;
  port: number;
  context: AppContext;
  server: Server;
  close(): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const grouping = options.grouping ?? "deferred";
  const sqlite = !isPostgresUrl(options.dbPath);
  // SQLite: this process's writers take turns through one gate, ingestion first.
  const gate = sqlite ? new WriteGate() : undefined;
  const store = FeedbackStore.open(options.dbPath, { grouping, writeGate: gate });
  // The worker also runs any backfill or regroup, and keeps the full-text index, off the event loop.
  const worker =
    grouping === "deferred"
      ? GroupingWorker.start(store, {
          log,
          config: {
            gate: gate?.buffer,
            ftsBatch: sqlite ? FTS_BATCH : 0,
            ...(options.backgroundNice === undefined ? {} : { nice: options.backgroundNice }),
          },
        })
      : undefined;
  // The ingest transactions (SQLite's fsyncs, PostgreSQL's round trips) on a thread of their own,
  // so the event loop never waits for them. Inline grouping needs the store's own connection.
  const writer = worker
    ? await ThreadWriter.start({
        dbPath: store.path,
        busyTimeoutMs: BUSY_TIMEOUT_MS_DEFAULT,
        gate: gate?.buffer,
        privacy: options.privacy,
      })
    : undefined;
  let ownUrl = DEFAULT_SIDECAR_URL;
  const publicUrl = (): string => options.publicUrl ?? ownUrl;
  const context = createApp({
    store,
    publicUrl,
    deferred: worker,
    writer,
    apiKey: options.apiKey,
    limits: options.limits,
    privacy: options.privacy,
    host: {
      bindHost: options.host,
      allowedHosts: options.allowedHosts ?? [],
      allowedOrigins: options.allowedOrigins ?? [],
    },
  });
  finishApp(context.app);

  if (!isLoopbackHost(options.host) && !context.auth.required) {
    log(
      `patchworkmcp: WARNING: listening on ${options.host} with NO API key. Anyone who can reach this port can read ` +
        "and change every report. Set FEEDBACK_API_KEY (or create keys with `patchworkmcp keys create`).",
    );
  }

  const server = await new Promise<Server>((resolve, reject) => {
    const s = createServer(context.handler).listen(options.port, options.host, () => resolve(s));
    s.once("error", reject);
  });
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  const displayHost = options.host.includes(":") ? `[${options.host}]` : options.host;
  ownUrl = `http://${displayHost}:${port}`;

  // Keep the full-text index close behind ingestion (searches also catch it up first). The grouping
  // worker does it when there is one; PostgreSQL's is generated with the row.
  const indexer =
    worker || !sqlite
      ? undefined
      : setInterval(() => {
          try {
            store.indexPending();
          } catch {
            // Busy or locked by another process: the next tick or the next search catches up.
          }
        }, FTS_INDEX_INTERVAL_MS).unref();

  // An existing database (or an interrupted regroup) is grouped in the background, from its watermark.
  const backfill = worker ? undefined : groupInBackground(store, { log });

  // Cached analyses judge staleness by the refresh setting in effect (an env var may have changed it).
  const { DraftSettings } = await import("../settings/index.js");
  store.gaps.analyses.setRefreshAfter(new DraftSettings(store).gapAnalysis().refresh_after_reports);
  // Automatic analysis spends LLM tokens: its ticks do nothing unless the settings turn it on.
  const { startAutoAnalysis } = await import("../draft/gap-analysis-worker.js");
  const analysis = startAutoAnalysis(store, { intervalMs: options.gapAnalysisIntervalMs, log });
  // Reading issues back is opt-in: it calls GitHub once per linked issue on every pass.
  const issueSync = options.issueSyncIntervalMs
    ? (await import("../draft/issue-sync.js")).startIssueSync(store, new DraftSettings(store), {
        intervalMs: options.issueSyncIntervalMs,
        log,
      })
    : undefined;

  // Alerts: rules evaluated behind watermarks and deliveries sent from the queue, off the request path.
  const { startAlerts } = await import("../alerts/index.js");
  const alerts = startAlerts(store, {
    publicUrl: publicUrl(),
    log,
    gate: gate?.buffer,
    ...(options.backgroundNice === undefined ? {} : { nice: options.backgroundNice }),
    ...options.alerts,
  });
  // The autonomy ladder: nothing happens unless a server is set to auto_draft.
  const { startAutonomy } = await import("../draft/autonomy-worker.js");
  const autonomy = startAutonomy(store, {
    intervalMs: options.autonomyIntervalMs,
    allowVerify: options.autonomyVerify,
    log,
  });

  // Tool-call analytics: raw events expire long before their hourly rollups.
  const retention = startCallRetention(store, {
    callDays: options.callRetention?.callDays ?? CALL_RETENTION_DAYS_DEFAULT,
    rollupDays: options.callRetention?.rollupDays ?? ROLLUP_RETENTION_DAYS_DEFAULT,
    intervalMs: options.callRetention?.intervalMs ?? CALL_PURGE_INTERVAL_MS_DEFAULT,
    log,
  });

  let closing: Promise<void> | undefined;
  return {
    url: `http://${displayHost}:${port}`,
    port,
    context,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(indexer);
        // Ending the MCP sessions also ends their open streams, so close() need not wait for them.
        void context.mcp.close();
        backfill?.stop();
        // Aborted, not awaited: a pass waiting on an LLM, GitHub or a verification command must
        // not hold the shutdown; the store closes under it and its next query fails, logged.
        void analysis.stop();
        void issueSync?.stop();
        const alertsStopped = alerts.stop();
        void autonomy.stop();
        retention.stop();
        server.close(() => {
          void Promise.all([writer?.stop(), worker?.stop(), alertsStopped]).then(() => {
            store.close();
            resolve();
          });
        });
        server.closeIdleConnections();
        // Open streams (SSE, exports) get a moment, then are cut.
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
      return closing;
    },
  };
}
