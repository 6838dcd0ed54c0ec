/** `patchworkmcp serve`: the sidecar (REST API, MCP endpoint, dashboard). */
import { Option, type Command } from "commander";
import { existsSync } from "node:fs";
import { isPostgresUrl } from "../store/sql/db.js";
import {
  CALL_PURGE_INTERVAL_MS_DEFAULT,
  CALL_RETENTION_DAYS_DEFAULT,
  ROLLUP_RETENTION_DAYS_DEFAULT,
} from "../store/calls-defaults.js";
import { DEFAULT_PORT } from "../net/sidecar-address.js";
import { DEFAULT_BACKGROUND_NICE, NICE_MAX, NICE_MIN } from "../net/thread-priority.js";
import {
  apiKeyOption,
  dbOption,
  parseBytes,
  parseList,
  parseNonNegative,
  parsePort,
  parsePositiveInt,
  privacyOption,
  switchOption,
} from "./options.js";
import type { PrivacyMode } from "../privacy/modes.js";

// The same numbers as DEFAULT_INGEST_LIMITS (src/http/rate-limit.ts), which a test holds them to:
// this module must not load the web stack just to show --help.
export const SERVE_LIMIT_DEFAULTS = { rateLimit: 20, rateLimitBurst: 120, maxBytesPerServerDay: "50mb" } as const;

interface ServeFlags {
  port: number;
  host: string;
  db: string;
  apiKey?: string;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  rateLimit: number;
  rateLimitBurst: number;
  maxBytesPerServerDay: number;
  gapAnalysisInterval: number;
  issueSyncInterval: number;
  publicUrl?: string;
  alertInterval: number;
  alertMaxAttempts: number;
  alertRetryBase: number;
  autonomyInterval: number;
  autonomyVerify: boolean;
  callRetentionDays: number;
  rollupRetentionDays: number;
  callPurgeInterval: number;
  privacy?: PrivacyMode;
  backgroundNice: number;
}

const wholeIn = (flag: string, min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${flag} must be a whole number from ${min} to ${max}`);
  return n;
};

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
        "--rate-limit <per-second>",
        "reports per second one API key (or address, without keys) may send; 0 = off",
      )
        .env("FEEDBACK_RATE_LIMIT")
        .default(SERVE_LIMIT_DEFAULTS.rateLimit)
        .argParser(parseNonNegative),
    )
    .addOption(
      new Option("--rate-limit-burst <reports>", "reports one key may send at once before --rate-limit applies")
        .env("FEEDBACK_RATE_LIMIT_BURST")
        .default(SERVE_LIMIT_DEFAULTS.rateLimitBurst)
        .argParser(parsePositiveInt),
    )
    .addOption(
      new Option("--max-bytes-per-server-day <size>", "bytes stored per server_name per UTC day (e.g. 50mb); 0 = off")
        .env("FEEDBACK_MAX_BYTES_PER_SERVER_DAY")
        .default(parseBytes(SERVE_LIMIT_DEFAULTS.maxBytesPerServerDay), SERVE_LIMIT_DEFAULTS.maxBytesPerServerDay)
        .argParser(parseBytes),
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
    .addOption(
      new Option(
        "--issue-sync-interval <seconds>",
        "how often the gaps' GitHub issues are read back into their status; 0 = never (run `patchworkmcp sync`)",
      )
        .env("FEEDBACK_ISSUE_SYNC_INTERVAL")
        .default(0)
        .argParser(wholeIn("--issue-sync-interval", 0, 86_400)),
    )
    .addOption(
      new Option("--public-url <url>", "the dashboard's address, for the links in alerts (default: this server's URL)")
        .env("FEEDBACK_PUBLIC_URL")
        .argParser((v) => {
          if (!/^https?:\/\/[^\s/]+/i.test(v)) throw new Error("--public-url must be an http:// or https:// URL");
          return v;
        }),
    )
    .addOption(
      new Option(
        "--background-nice <n>",
        "nice value of the grouping and alert-rule threads, 0-19 (Linux): higher leaves more CPU to ingestion in a burst",
      )
        .env("PATCHWORKMCP_BACKGROUND_NICE")
        .default(DEFAULT_BACKGROUND_NICE)
        .argParser(wholeIn("--background-nice", NICE_MIN, NICE_MAX)),
    )
    .addOption(
      new Option("--alert-interval <ms>", "how often alert rules are evaluated and due deliveries sent")
        .env("PATCHWORKMCP_ALERT_INTERVAL_MS")
        .default(1000)
        .argParser(wholeIn("--alert-interval", 50, 3_600_000)),
    )
    .addOption(
      new Option("--alert-max-attempts <n>", "attempts before an alert delivery becomes a dead letter")
        .env("PATCHWORKMCP_ALERT_MAX_ATTEMPTS")
        .default(8)
        .argParser(wholeIn("--alert-max-attempts", 1, 100)),
    )
    .addOption(
      new Option(
        "--alert-retry-base <ms>",
        "the first retry's delay; each further one doubles (with jitter), up to 1 h",
      )
        .env("PATCHWORKMCP_ALERT_RETRY_BASE_MS")
        .default(5000)
        .argParser(wholeIn("--alert-retry-base", 10, 3_600_000)),
    )
    .addOption(
      new Option(
        "--autonomy-interval <ms>",
        "how often the autonomy worker looks for gaps to draft and CI to check (it acts only for servers at auto_draft)",
      )
        .env("PATCHWORKMCP_AUTONOMY_INTERVAL_MS")
        .default(60_000)
        .argParser((v) => {
          const n = Number(v);
          if (!Number.isInteger(n) || n < 100 || n > 86_400_000)
            throw new Error("--autonomy-interval must be a whole number of milliseconds from 100 to 86400000");
          return n;
        }),
    )
    .addOption(
      switchOption(
        "--autonomy-verify",
        "run the verification commands set per server (autonomy settings) before an automatic draft opens",
        "PATCHWORKMCP_AUTONOMY_VERIFY",
      ),
    )
    .addOption(
      new Option("--call-retention-days <days>", "days raw tool-call events are kept (0 = forever)")
        .env("PATCHWORKMCP_CALL_RETENTION_DAYS")
        .default(CALL_RETENTION_DAYS_DEFAULT)
        .argParser(wholeIn("--call-retention-days", 0, 36_500)),
    )
    .addOption(
      new Option("--rollup-retention-days <days>", "days hourly tool-call rollups are kept (0 = forever)")
        .env("PATCHWORKMCP_ROLLUP_RETENTION_DAYS")
        .default(ROLLUP_RETENTION_DAYS_DEFAULT)
        .argParser(wholeIn("--rollup-retention-days", 0, 36_500)),
    )
    .addOption(
      new Option("--call-purge-interval <ms>", "how often expired tool-call events and rollups are deleted")
        .env("PATCHWORKMCP_CALL_PURGE_INTERVAL_MS")
        .default(CALL_PURGE_INTERVAL_MS_DEFAULT)
        .argParser(wholeIn("--call-purge-interval", 100, 86_400_000)),
    )
    .addOption(privacyOption())
    .action(async (flags: ServeFlags) => {
      // Loaded on use: every verb shares one CLI, and only `serve` needs the web stack.
      const { startServer } = await import("../http/server.js");
      // serve may start a database; say so, so a mistyped --db is visible rather than an empty dashboard.
      const created = !isPostgresUrl(flags.db) && !existsSync(flags.db);
      const running = await startServer({
        port: flags.port,
        host: flags.host,
        dbPath: flags.db,
        apiKey: flags.apiKey || undefined,
        allowedHosts: flags.allowedHosts,
        allowedOrigins: flags.allowedOrigins,
        limits: {
          ratePerSecond: flags.rateLimit,
          burst: flags.rateLimitBurst,
          maxBytesPerServerDay: flags.maxBytesPerServerDay,
        },
        gapAnalysisIntervalMs: flags.gapAnalysisInterval,
        issueSyncIntervalMs: flags.issueSyncInterval * 1000,
        publicUrl: flags.publicUrl,
        alerts: {
          intervalMs: flags.alertInterval,
          maxAttempts: flags.alertMaxAttempts,
          baseDelayMs: flags.alertRetryBase,
        },
        autonomyIntervalMs: flags.autonomyInterval,
        autonomyVerify: flags.autonomyVerify,
        callRetention: {
          callDays: flags.callRetentionDays,
          rollupDays: flags.rollupRetentionDays,
          intervalMs: flags.callPurgeInterval,
        },
        privacy: flags.privacy,
        backgroundNice: flags.backgroundNice,
      });
      if (created) process.stderr.write(`patchworkmcp: created a new, empty database at ${flags.db}\n`);
      const where = running.context.store.label;
      const { authStatus } = await import("../auth/index.js");
      const status = authStatus(running.context.store);
      if (!flags.apiKey && status.mode === "on" && !status.activeKeys) {
        process.stderr.write(
          "patchworkmcp: authentication is on but no active key exists, so nobody can use the API. Create a key with " +
            "`patchworkmcp keys create --scope admin`, or turn authentication off with `patchworkmcp keys auth off`.\n",
        );
      }
      process.stderr.write(
        `patchworkmcp: listening on ${running.url} (db ${where}, auth ${running.context.auth.required ? "on" : "off"})\n`,
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
