/**
 * The proxy's settings, checked at the edge: raw flag values (commander, with
 * env fallbacks) in, a typed `ProxySettings` or a list of sentences out.
 */
import { dirname, join } from "node:path";
import { z } from "zod";
import { FEEDBACK_TOOL_NAME } from "../src/feedback/index.js";
// The modes alone (zod only): the scrubber itself is loaded on use (reporter.ts, run.ts).
import { DEFAULT_PRIVACY_MODE, PRIVACY_MODES } from "../src/privacy/modes.js";
import { NICE_MAX, NICE_MIN } from "../src/net/thread-priority.js";
import { MAX_LINE_BYTES } from "./line-reader.js";
import { DEFAULT_OUTBOX_PATH } from "./outbox.js";

export const DEFAULT_COLLISION_TOOL_NAME = "patchworkmcp_feedback";
export const DEFAULT_IDLE_TIMEOUT_S = 1800;
export const DEFAULT_DELIVERY_TIMEOUT_MS = 3000;
/** How long the proxy waits for upstream to answer a request of its own (its tools/list). */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
/** `--sse-poll-after`: off until asked for (see sse-poll.ts). */
export const DEFAULT_SSE_POLL_AFTER_MS = 0;
/** How far a stdio proxy lowers its own CPU priority (see `--nice`). */
export const DEFAULT_NICE = 5;
const NICE_RANGE = `--nice must be a whole number from ${NICE_MIN} to ${NICE_MAX}`;
/** `--analytics-buffer`: call events held in memory before calls fold into rollups. */
export const DEFAULT_ANALYTICS_BUFFER = 10_000;

const toolName = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: "tool names are 1-64 letters, digits, '_', '-' or '.'" });

const header = z.string().transform((value, ctx) => {
  const colon = value.indexOf(":");
  const name = colon > 0 ? value.slice(0, colon).trim() : "";
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    ctx.addIssue({ code: "custom", message: `"${value}" is not a header: use Name: value` });
    return z.NEVER;
  }
  return [name, value.slice(colon + 1).trim()] as const;
});

const listen = z.string().transform((value, ctx) => {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim()) ?? /^()()(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    ctx.addIssue({ code: "custom", message: `--listen "${value}" is not HOST:PORT (e.g. 127.0.0.1:8100)` });
    return z.NEVER;
  }
  return { host: m[1] || m[2] || "127.0.0.1", port };
});

/** Raw values as commander hands them over. */
export const rawProxyFlags = z.object({
  command: z.array(z.string()).default([]),
  upstreamUrl: z.url({ protocol: /^https?$/, error: "--upstream-url must be an http(s) URL" }).optional(),
  upstreamHeader: z.array(header).default([]),
  upstreamHeaders: z.string().optional(),
  cwd: z.string().optional(),
  listen: listen.optional(),
  listenKey: z.string().min(1).optional(),
  allowedHosts: z.array(z.string()).default([]),
  allowedOrigins: z.array(z.string()).default([]),
  sessionIdleTimeout: z.coerce
    .number({ error: "--session-idle-timeout must be a number of seconds" })
    .positive()
    .default(DEFAULT_IDLE_TIMEOUT_S),
  name: z.string().min(1).max(200).optional(),
  toolName: toolName.default(FEEDBACK_TOOL_NAME),
  collisionToolName: toolName.default(DEFAULT_COLLISION_TOOL_NAME),
  sidecarUrl: z.url({ protocol: /^https?$/, error: "--sidecar-url must be an http(s) URL" }),
  apiKey: z.string().optional(),
  db: z.string().min(1).optional(),
  outbox: z.string().min(1).default(DEFAULT_OUTBOX_PATH),
  missingToolReports: z.boolean().default(true),
  deliveryTimeout: z.coerce
    .number({ error: "--delivery-timeout must be a number of milliseconds" })
    .int()
    .positive()
    .default(DEFAULT_DELIVERY_TIMEOUT_MS),
  probeTimeout: z.coerce
    .number({ error: "--probe-timeout must be a number of milliseconds" })
    .int({ error: "--probe-timeout must be a whole number of milliseconds" })
    .positive({ error: "--probe-timeout must be a positive number of milliseconds" })
    .default(DEFAULT_PROBE_TIMEOUT_MS),
  ssePollAfter: z.coerce
    .number({ error: "--sse-poll-after must be a number of milliseconds" })
    .int({ error: "--sse-poll-after must be a whole number of milliseconds" })
    .min(0, { error: "--sse-poll-after must be 0 (off) or a positive number of milliseconds" })
    .default(DEFAULT_SSE_POLL_AFTER_MS),
  debug: z.boolean().default(false),
  maxMessageBytes: z.coerce
    .number({ error: "--max-message-bytes must be a number of bytes" })
    .int({ error: "--max-message-bytes must be a whole number of bytes" })
    .min(1024, { error: "--max-message-bytes must be at least 1024" })
    .default(MAX_LINE_BYTES),
  analytics: z.boolean().optional(),
  analyticsUrl: z.url({ protocol: /^https?$/, error: "--analytics-url must be an http(s) URL" }).optional(),
  recordArguments: z.boolean().default(false),
  privacy: z
    .enum(PRIVACY_MODES, { error: `--privacy must be one of: ${PRIVACY_MODES.join(", ")}` })
    .default(DEFAULT_PRIVACY_MODE),
  analyticsBuffer: z.coerce
    .number({ error: "--analytics-buffer must be a number of events" })
    .int({ error: "--analytics-buffer must be a whole number of events" })
    .min(1, { error: "--analytics-buffer must be at least 1 event" })
    .max(10_000_000, { error: "--analytics-buffer must be at most 10000000 events" })
    .default(DEFAULT_ANALYTICS_BUFFER),
  analyticsSpill: z.string().min(1).optional(),
  otlpEndpoint: z.url({ protocol: /^https?$/, error: "--otlp-endpoint must be an http(s) URL" }).optional(),
  otlpHeaders: z.string().optional(),
  nice: z.coerce
    .number({ error: NICE_RANGE })
    .int({ error: NICE_RANGE })
    .min(NICE_MIN, { error: NICE_RANGE })
    .max(NICE_MAX, { error: NICE_RANGE })
    .default(DEFAULT_NICE),
});

export type ProxySettings = Omit<
  z.output<typeof rawProxyFlags>,
  "upstreamHeader" | "upstreamHeaders" | "analytics" | "analyticsSpill" | "otlpHeaders"
> & {
  headers: Record<string, string>;
  /** Tool-call analytics are recorded: sent to `analyticsUrl`, else into --db, else to the sidecar. */
  analytics: boolean;
  /** Where analytics wait while the sidecar is down: beside the outbox unless given. */
  analyticsSpill: string;
  /** Sent with every OTLP export (--otlp-headers). */
  otlpHeaders: Record<string, string>;
};

/** The spill's default place: beside the outbox. */
export const defaultSpillPath = (outbox: string): string => join(dirname(outbox), "calls-spill.json");

/** Headers from the env var: a JSON object, or "Name: value" lines. */
function envHeaders(text: string | undefined): Record<string, string> | string {
  if (text === undefined || text.trim() === "") return {};
  if (text.trim().startsWith("{")) {
    const parsed = z.record(z.string(), z.string()).safeParse(
      (() => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return undefined;
        }
      })(),
    );
    return parsed.success ? parsed.data : "FEEDBACK_PROXY_UPSTREAM_HEADERS must be a JSON object of strings";
  }
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/).filter((l) => l.trim() !== "")) {
    const h = header.safeParse(line);
    if (!h.success) return h.error.issues[0]!.message;
    out[h.data[0]] = h.data[1];
  }
  return out;
}

export function parseProxySettings(
  raw: unknown,
): { ok: true; settings: ProxySettings } | { ok: false; errors: string[] } {
  const parsed = rawProxyFlags.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: parsed.error.issues.map((i) => i.message) };
  const { upstreamHeader, upstreamHeaders, analytics, analyticsSpill, otlpHeaders, ...rest } = parsed.data;
  const errors: string[] = [];
  if (rest.command.length === 0 && rest.upstreamUrl === undefined) {
    errors.push("name the upstream: `patchworkmcp proxy -- <command> [args…]` or `--upstream-url <url>`");
  }
  if (rest.command.length > 0 && rest.upstreamUrl !== undefined)
    errors.push("give either an upstream command or --upstream-url, not both");
  if (rest.toolName === rest.collisionToolName) errors.push("--tool-name and --collision-tool-name must differ");
  const fromEnv = envHeaders(upstreamHeaders);
  if (typeof fromEnv === "string") errors.push(fromEnv);
  const otlp = parseOtlpHeaders(otlpHeaders);
  if (typeof otlp === "string") errors.push(otlp);
  if (errors.length > 0) return { ok: false, errors };
  const headers: Record<string, string> = { ...(fromEnv as Record<string, string>) };
  for (const [k, v] of upstreamHeader) headers[k] = v;
  return {
    ok: true,
    settings: {
      ...rest,
      headers,
      analytics: analytics ?? true,
      analyticsSpill: analyticsSpill ?? defaultSpillPath(rest.outbox),
      otlpHeaders: otlp as Record<string, string>,
    },
  };
}

/**
 * --otlp-headers / OTEL_EXPORTER_OTLP_HEADERS as the OpenTelemetry spec writes it: `key=value` pairs separated
 * by commas, values percent-encoded. Returns the headers, or a sentence naming what is wrong.
 */
export function parseOtlpHeaders(text: string | undefined): Record<string, string> | string {
  const out: Record<string, string> = {};
  if (text === undefined) return out;
  for (const pair of text.split(",")) {
    if (pair.trim() === "") continue;
    const eq = pair.indexOf("=");
    const name = eq > 0 ? pair.slice(0, eq).trim() : "";
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      return `--otlp-headers must be name=value pairs separated by commas: "${pair.trim()}" is not one`;
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      return `--otlp-headers: the value of "${name}" is not valid percent-encoding`;
    }
    out[name] = value;
  }
  return out;
}
