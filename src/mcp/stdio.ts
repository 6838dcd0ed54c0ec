/**
 * The report server over stdio (`patchworkmcp mcp`). stdout carries protocol
 * only; logs go to stderr. The SDK's stdio transport does not notice stdin
 * closing, so EOF ends the process here (a client that exits must not leave
 * us running).
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { FeedbackStore } from "../store/index.js";
import { createReportServer } from "./server.js";

export interface StdioOptions {
  dbPath: string;
  defaultServerName?: string | undefined;
  feedbackOnly?: boolean | undefined;
  log?: (line: string) => void;
}

/** Serve until stdin closes or a signal arrives; resolves when shut down. */
export async function runStdioServer(options: StdioOptions): Promise<void> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Same file `serve` writes: WAL and a busy timeout (set by FeedbackStore.open) make that safe.
  const store = FeedbackStore.open(options.dbPath);
  const server = createReportServer({
    store,
    scope: "admin",
    defaultServerName: options.defaultServerName,
    feedbackOnly: options.feedbackOnly,
  });
  const transport = new StdioServerTransport();
  // Unparseable input lines and the like: say so on stderr (stdout is protocol only).
  server.onerror = (err) => log(`patchworkmcp mcp: ${err.message}`);

  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  let closing = false;
  const shutdown = (why: string) => {
    if (closing) return;
    closing = true;
    log(`patchworkmcp mcp: ${why}, shutting down`);
    server
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

  await server.connect(transport);
  log(
    `patchworkmcp mcp: serving ${options.feedbackOnly ? "the feedback tool" : "report tools"} over stdio (db ${options.dbPath}, ` +
      `${store.countReports()} reports${options.defaultServerName ? `, server name ${options.defaultServerName}` : ""})`,
  );
  return finished;
}
