/**
 * `patchworkmcp proxy`: put any MCP server behind the proxy and every agent
 * gets a feedback tool, with no change to the server.
 *
 *   patchworkmcp proxy -- npx @modelcontextprotocol/server-memory
 *   patchworkmcp proxy --upstream-url https://example.com/mcp --listen 127.0.0.1:8100
 */
import { Option, type Command } from "commander";
import { apiKeyOption, parseDbPath, sidecarUrlOption, switchOption } from "../src/commands/options.js";
import { DEFAULT_PRIVACY_MODE, PRIVACY_MODES } from "../src/privacy/modes.js";
import { MAX_LINE_BYTES } from "./line-reader.js";
import { stderrLog } from "./log.js";
import {
  DEFAULT_ANALYTICS_BUFFER,
  DEFAULT_COLLISION_TOOL_NAME,
  DEFAULT_DELIVERY_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_S,
  DEFAULT_NICE,
  DEFAULT_PROBE_TIMEOUT_MS,
  DEFAULT_SSE_POLL_AFTER_MS,
  parseProxySettings,
} from "./options.js";
import { DEFAULT_OUTBOX_PATH } from "./outbox.js";

const collect = (value: string, previous: string[] = []) => [...previous, value];
const list = (value: string) =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

export function registerProxy(program: Command): void {
  program
    .command("proxy")
    .description("wrap any MCP server (a stdio command after --, or --upstream-url) and add the feedback tool")
    .argument("[command...]", "the upstream server's command and arguments, after --")
    .addOption(
      new Option("--upstream-url <url>", "streamable-HTTP upstream instead of a command").env(
        "FEEDBACK_PROXY_UPSTREAM_URL",
      ),
    )
    .addOption(
      new Option("--upstream-header <name:value>", "header for the HTTP upstream (repeatable)").argParser(collect),
    )
    .addOption(
      new Option("--upstream-headers <headers>", "headers for the HTTP upstream: JSON object or Name: value lines").env(
        "FEEDBACK_PROXY_UPSTREAM_HEADERS",
      ),
    )
    .addOption(new Option("--cwd <dir>", "working directory of the upstream command").env("FEEDBACK_PROXY_CWD"))
    .addOption(
      new Option("--listen <host:port>", "serve streamable HTTP at http://HOST:PORT/mcp instead of stdio").env(
        "FEEDBACK_PROXY_LISTEN",
      ),
    )
    .addOption(new Option("--listen-key <key>", "bearer key HTTP clients must send").env("FEEDBACK_PROXY_LISTEN_KEY"))
    .addOption(
      new Option("--allowed-hosts <list>", "extra Host names accepted in HTTP mode (comma-separated, * for any)")
        .env("FEEDBACK_PROXY_ALLOWED_HOSTS")
        .argParser(list),
    )
    .addOption(
      new Option("--allowed-origins <list>", "browser origins allowed in HTTP mode (comma-separated)")
        .env("FEEDBACK_PROXY_ALLOWED_ORIGINS")
        .argParser(list),
    )
    .addOption(
      new Option("--session-idle-timeout <seconds>", "close HTTP sessions idle this long")
        .env("FEEDBACK_PROXY_SESSION_IDLE_TIMEOUT")
        .default(String(DEFAULT_IDLE_TIMEOUT_S)),
    )
    .addOption(
      new Option("--name <name>", "server name in reports (default: upstream's serverInfo.name)").env(
        "FEEDBACK_PROXY_NAME",
      ),
    )
    .addOption(
      new Option("--tool-name <name>", "name of the injected tool").env("FEEDBACK_PROXY_TOOL_NAME").default("feedback"),
    )
    .addOption(
      new Option("--collision-tool-name <name>", "name used when upstream already has a tool of --tool-name")
        .env("FEEDBACK_PROXY_COLLISION_TOOL_NAME")
        .default(DEFAULT_COLLISION_TOOL_NAME),
    )
    .addOption(sidecarUrlOption())
    .addOption(apiKeyOption())
    .addOption(
      new Option("--db <path>", "write reports straight into this SQLite file instead of a sidecar")
        .env("FEEDBACK_PROXY_DB")
        .argParser(parseDbPath),
    )
    .addOption(
      new Option("--outbox <path>", "where undeliverable reports wait for a retry")
        .env("FEEDBACK_OUTBOX")
        .default(DEFAULT_OUTBOX_PATH),
    )
    .addOption(
      switchOption(
        "--missing-tool-reports",
        "report calls to tools upstream never listed as missing_tool",
        "FEEDBACK_PROXY_MISSING_TOOL_REPORTS",
      ).default(true),
    )
    .addOption(new Option("--no-missing-tool-reports", "the opt-out: same as --missing-tool-reports no"))
    .addOption(
      new Option("--delivery-timeout <ms>", "time allowed for one delivery attempt")
        .env("FEEDBACK_PROXY_DELIVERY_TIMEOUT_MS")
        .default(String(DEFAULT_DELIVERY_TIMEOUT_MS)),
    )
    .addOption(
      new Option("--probe-timeout <ms>", "how long to wait for upstream to answer the proxy's own tools/list")
        .env("FEEDBACK_PROXY_PROBE_TIMEOUT_MS")
        .default(String(DEFAULT_PROBE_TIMEOUT_MS)),
    )
    .addOption(
      new Option(
        "--sse-poll-after <ms>",
        "HTTP mode: end a call's SSE stream open this long without its answer, for the client to resume with Last-Event-ID (SEP-1699); 0 = never",
      )
        .env("FEEDBACK_PROXY_SSE_POLL_AFTER_MS")
        .default(String(DEFAULT_SSE_POLL_AFTER_MS)),
    )
    .addOption(
      switchOption("--debug", "log details to stderr for troubleshooting", "FEEDBACK_PROXY_DEBUG").default(false),
    )
    .addOption(
      new Option("--max-message-bytes <n>", "longest stdio message passed on; longer lines are dropped")
        .env("FEEDBACK_PROXY_MAX_MESSAGE_BYTES")
        .default(String(MAX_LINE_BYTES)),
    )
    .addOption(
      switchOption(
        "--analytics",
        "record every tools/call: to --analytics-url, else into --db, else to the sidecar's POST /api/calls (default: yes)",
        "FEEDBACK_ANALYTICS",
      ),
    )
    .addOption(
      new Option(
        "--analytics-url <url>",
        "sidecar that takes call analytics (default: --db if given, else --sidecar-url)",
      ).env("FEEDBACK_ANALYTICS_URL"),
    )
    .addOption(
      switchOption(
        "--record-arguments",
        "keep each call's argument values (scrubbed with --privacy before they leave the proxy) in its analytics event and in missing_tool reports; off: argument names in reports, none in events",
        "FEEDBACK_RECORD_ARGUMENTS",
      ).default(false),
    )
    .addOption(
      new Option(
        "--privacy <mode>",
        "scrub reports and recorded arguments with this mode before the proxy writes them to its outbox or sends them (the sidecar still applies its own on arrival; off: leave it to the sidecar)",
      )
        .env("FEEDBACK_PRIVACY")
        .choices(PRIVACY_MODES)
        .default(DEFAULT_PRIVACY_MODE),
    )
    .addOption(
      new Option("--analytics-buffer <events>", "call events held in memory; past this, calls fold into hourly rollups")
        .env("FEEDBACK_ANALYTICS_BUFFER")
        .default(String(DEFAULT_ANALYTICS_BUFFER)),
    )
    .addOption(
      new Option(
        "--analytics-spill <path>",
        "where call analytics aggregate while the sidecar is down (default: calls-spill.json beside --outbox)",
      ).env("FEEDBACK_ANALYTICS_SPILL"),
    )
    .addOption(
      new Option(
        "--otlp-endpoint <url>",
        "also export every tools/call as OpenTelemetry spans and metrics to this OTLP/HTTP base URL",
      ).env("OTEL_EXPORTER_OTLP_ENDPOINT"),
    )
    .addOption(
      new Option("--otlp-headers <pairs>", "headers for the OTLP export: name=value pairs, comma-separated").env(
        "OTEL_EXPORTER_OTLP_HEADERS",
      ),
    )
    .addOption(
      new Option(
        "--nice <n>",
        "stdio mode: lower the proxy's own CPU priority by n (0-19) once the upstream runs, so it yields to the server; 0 keeps it",
      )
        .env("FEEDBACK_PROXY_NICE")
        .default(String(DEFAULT_NICE)),
    )
    .action(async (command: string[], flags: Record<string, unknown>) => {
      const parsed = parseProxySettings({ ...flags, command });
      if (!parsed.ok) {
        for (const e of parsed.errors) stderrLog(e);
        process.exitCode = 2;
        return;
      }
      // Loaded on use: a proxy starts with every agent session, so it loads only what it runs.
      const { runProxy } = await import("./run.js");
      // Exit explicitly: an open stdin or a lingering socket must not keep a finished proxy alive.
      process.exit(await runProxy(parsed.settings));
    });
}
