/** `patchworkmcp serve`: the sidecar (REST API, MCP endpoint, dashboard). */
import { Option, type Command } from "commander";
import { apiKeyOption, dbOption, DEFAULT_PORT, parseList, parsePort } from "./options.js";

interface ServeFlags {
  port: number;
  host: string;
  db: string;
  apiKey?: string;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  gapAnalysisInterval: number;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the sidecar: ingestion + review API, MCP endpoint at /mcp, dashboard at /")
    .addOption(
      new Option("--port <port>", "port to listen on (0 = any free port)")
        .env("FEEDBACK_PORT")
        .default(DEFAULT_PORT)
        .argParser(parsePort),
    )
    .addOption(new Option("--host <address>", "address to bind").env("FEEDBACK_HOST").default("127.0.0.1"))
    .addOption(dbOption())
    .addOption(apiKeyOption())
    .addOption(
      new Option("--allowed-hosts <list>", 'extra Host names to accept, comma-separated ("*" = any)')
        .env("FEEDBACK_ALLOWED_HOSTS")
        .argParser(parseList),
    )
    .addOption(
      new Option("--allowed-origins <list>", "browser origins allowed to call the API, comma-separated")
        .env("FEEDBACK_ALLOWED_ORIGINS")
        .argParser(parseList),
    )
    .addOption(
      new Option(
        "--gap-analysis-interval <ms>",
        "how often automatic gap analysis looks for gaps (it runs only when gap_analysis.auto_at_reports is set)",
      )
        .env("PATCHWORKMCP_GAP_ANALYSIS_INTERVAL_MS")
        .default(60_000)
        .argParser((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 100 || n > 86_400_000)
            throw new Error("--gap-analysis-interval must be a whole number of milliseconds from 100 to 86400000");
          return n;
        }),
    )
    .action(async (flags: ServeFlags) => {
      // Loaded on use: every verb shares one CLI, and only `serve` needs the web stack.
      const { startServer } = await import("../http/server.js");
      const running = await startServer({
        port: flags.port,
        host: flags.host,
        dbPath: flags.db,
        apiKey: flags.apiKey || undefined,
        allowedHosts: flags.allowedHosts,
        allowedOrigins: flags.allowedOrigins,
        gapAnalysisIntervalMs: flags.gapAnalysisInterval,
      });
      process.stderr.write(
        `patchworkmcp: listening on ${running.url} (db ${flags.db}, auth ${running.context.auth.required ? "on" : "off"})\n`,
      );
      const stop = (signal: string) => {
        process.stderr.write(`patchworkmcp: ${signal} received, shutting down\n`);
        running.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
}
