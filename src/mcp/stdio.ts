/**
 * The report server over stdio (`patchworkmcp mcp`). stdout carries protocol
 * only; logs go to stderr. The SDK's `serveStdio` decides the era from the
 * opening message: `initialize` pins a 2025-11-25 (or older) session,
 * `server/discover` or any request with the 2026-07-28 `_meta` envelope a
 * modern one; either way one server instance from the same factory serves the
 * connection. stdin EOF ends the process here too (a client that exits must
 * not leave us running, and the store must be closed).
 */
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import type { FeedbackPayload } from "../feedback/index.js";
import { insertScrubbed, PrivacyPolicy } from "../ingest/index.js";
import type { PrivacyMode } from "../privacy/index.js";
import { FeedbackStore } from "../store/index.js";
import { createReportServer } from "./server.js";

export interface StdioOptions {
  dbPath: string;
  defaultServerName?: string | undefined;
  feedbackOnly?: boolean | undefined;
  /** The default privacy mode (`--privacy` / FEEDBACK_PRIVACY). */
  privacy?: PrivacyMode | undefined;
  log?: (line: string) => void;
}

/** Serve until stdin closes or a signal arrives; resolves when shut down. */
export async function runStdioServer(options: StdioOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Same file `serve` writes: WAL and a busy timeout (set by FeedbackStore.open) make that safe.
  const store = FeedbackStore.open(options.dbPath);
  const privacy = new PrivacyPolicy(store, options.privacy);
  const ingest = (payload: FeedbackPayload, idempotencyKey?: string) =>
    Promise.resolve(insertScrubbed(store, privacy, [{ payload, idempotencyKey }])[0]!);
  // Unparseable input lines and the like: say so on stderr (stdout is protocol only).
  const onerror = (err: Error) => log(`patchworkmcp mcp: ${err.message}`);
  const handle = serveStdio(
    () => {
      const server = createReportServer({
        store,
        scope: "admin",
        ingest,
        defaultServerName: options.defaultServerName,
        feedbackOnly: options.feedbackOnly,
      });
      server.onerror = onerror;
      return server;
    },
    { onerror },
  );

  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  let closing = false;
  const shutdown = (why: string) => {
    if (closing) return;
    closing = true;
    log(`patchworkmcp mcp: ${why}, shutting down`);
    handle
      .close()
      .catch(() => {})
      .finally(() => {
        store.close();
        done();
      });
  };

  process.stdin.once("end", () => shutdown("stdin closed"));
  process.stdin.once("close", () => shutdown("stdin closed"));
  process.stdout.on("error", () => shutdown("stdout closed"));
  process.once("SIGINT", () => shutdown("SIGINT received"));
  process.once("SIGTERM", () => shutdown("SIGTERM received"));

  log(
    `patchworkmcp mcp: serving ${options.feedbackOnly ? "the feedback tool" : "report tools"} over stdio (db ${options.dbPath}, ` +
      `${store.countReports()} reports${options.defaultServerName ? `, server name ${options.defaultServerName}` : ""})`,
  );
  return finished;
}
