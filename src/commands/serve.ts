/** `patchworkmcp serve`: the sidecar (REST API, MCP endpoint, dashboard). */
import { Option, type Command } from "commander";
import { existsSync } from "node:fs";
import { apiKeyOption, dbOption, DEFAULT_PORT, parseList, parsePort } from "./options.js";

interface ServeFlags {
  port: number;
  host: string;
  db: string;
  apiKey?: string;
  allowedHosts?: string[];
  allowedOrigins?: string[];
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
    .action(async (flags: ServeFlags) => {
      // Loaded on use: every verb shares one CLI, and only `serve` needs the web stack.
      const { startServer } = await import("../http/server.js");
      // serve may start a database; say so, so a mistyped --db is visible rather than an empty dashboard.
      const created = !existsSync(flags.db);
      const running = await startServer({
        port: flags.port,
        host: flags.host,
        dbPath: flags.db,
        apiKey: flags.apiKey || undefined,
        allowedHosts: flags.allowedHosts,
        allowedOrigins: flags.allowedOrigins,
      });
      if (created) process.stderr.write(`patchworkmcp: created a new, empty database at ${flags.db}\n`);
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
