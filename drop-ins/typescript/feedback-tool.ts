/**
 * PatchworkMCP feedback tool: a drop-in for TypeScript MCP servers built on the
 * official SDK, 1.x (`@modelcontextprotocol/sdk`) or 2.x (`@modelcontextprotocol/server`).
 *
 * Copy this ONE file into your server and register the tool in one line:
 *
 *   import { FEEDBACK_SERVER_INSTRUCTIONS, registerFeedbackTool } from "./feedback-tool.js";
 *   const server = new McpServer({ name: "billing-server", version: "1.0.0" }, { instructions: FEEDBACK_SERVER_INSTRUCTIONS });
 *   registerFeedbackTool(server, "billing-server");
 *
 * It imports no SDK module (so one file serves both majors), only the zod your SDK
 * uses (3 or 4; 1.x needs it for the tool's shape) and Node's fetch and fs.
 * Configuration: FEEDBACK_SIDECAR_URL (default http://localhost:8099),
 * FEEDBACK_API_KEY, FEEDBACK_OUTBOX (default ~/.patchworkmcp/outbox.log) and FEEDBACK_PRIVACY
 * (what a kept report is scrubbed of: off, secrets, secrets+pii), or options in code.
 * Delivery never throws into the host and never writes to stdout (that would corrupt a
 * stdio transport). A report that cannot be delivered is scrubbed and goes to
 * the outbox the proxy uses (same format, same lock), is re-sent in the background
 * with backoff, and can be re-sent by hand with `patchworkmcp replay <outbox>`.
 *
 * The original PatchworkMCP API works unchanged: TOOL_NAME, TOOL_DESCRIPTION,
 * TOOL_INPUT_SCHEMA (`server.tool(TOOL_NAME, TOOL_DESCRIPTION, TOOL_INPUT_SCHEMA, handler)`
 * on 1.x), `registerFeedbackTool(server, "my-server", { sidecarUrl, apiKey })` and
 * `await sendFeedback(args, "my-server")` (the text for the agent).
 *
 * The definition and texts below come from PatchworkMCP's contract
 * (drop-ins/spec); the tests fail if they drift.
 */
import { randomBytes, randomUUID } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  type Stats,
} from "node:fs";
import { isIPv6 } from "node:net";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { z } from "zod";

export const FEEDBACK_TOOL_NAME = "feedback";
export const FEEDBACK_TOOL_TITLE = "Report a gap in this server";

/** Tells the agent when and how to call the tool. */
export const FEEDBACK_TOOL_DESCRIPTION = [
  "Tell the developers of this MCP server what you needed and could not do. Call it whenever:",
  "- no tool here does what the task needs (missing_tool);",
  "- a tool answered but left out data you needed (incomplete_results);",
  "- a tool exists but lacks an argument or filter you needed (missing_parameter);",
  "- the data came back in a shape you had to convert, guess at or could not use (wrong_format);",
  "- you had to approximate, chain many calls or work around the server to get an answer;",
  "- you are about to tell the user that something cannot be done with these tools.",
  "Call it BEFORE you give your final answer to the user, then carry on with the task.",
  "Be specific: name the tools you called and the arguments you used, what came back,",
  "the exact capability that was missing, and the tool or parameter you would have wanted.",
  "Reports go to the server's developers and are used to build what is missing; they never",
  "change this conversation and you do not need the user's permission to send one.",
].join("\n");

/** Pass these as your server's `instructions`: without them agents rarely call the tool. */
export const FEEDBACK_SERVER_INSTRUCTIONS = [
  "This server has a `feedback` tool that goes straight to its developers. Use it whenever this",
  "server falls short of what your task needs: a tool you needed does not exist, a result was incomplete,",
  "a parameter was missing, a format was wrong, you had to approximate or work around the server, or you",
  "are about to tell the user something cannot be done. Call `feedback` before your final answer, with",
  "specifics: what you needed, which tools and arguments you tried and what came back, and what tool or",
  "parameter would have worked. One call per distinct gap. It costs the user nothing and is how this server improves.",
].join("\n");

export const FEEDBACK_REPLY_RECORDED =
  "Thank you. Your feedback was recorded (report {id}) and the server's developers will see it. Carry on with the task.";
export const FEEDBACK_REPLY_QUEUED =
  "Thank you. The feedback service could not be reached, so your report was kept locally and will be delivered later. Carry on with the task.";
export const FEEDBACK_REPLY_INVALID = "Feedback was not recorded: {details}. Fix these fields and call the tool again.";

/** Starts the stderr line of a report that could not be delivered. */
export const UNSENT_FEEDBACK_MARKER = "PATCHWORKMCP_UNSENT_FEEDBACK";

export const GAP_TYPES = ["missing_tool", "incomplete_results", "missing_parameter", "wrong_format", "other"] as const;
export const RESOLUTIONS = ["blocked", "worked_around", "partial"] as const;

interface StringProperty {
  type: "string";
  minLength?: number;
  maxLength?: number;
  enum?: readonly string[];
  description: string;
}
interface ListProperty {
  maxItems: number;
  type: "array";
  items: { type: "string"; maxLength: number };
  description: string;
}
type Property = StringProperty | ListProperty;

const text = (maxLength: number, description: string, required = false): StringProperty =>
  required ? { type: "string", minLength: 1, maxLength, description } : { type: "string", maxLength, description };

/** The tool's input JSON Schema, exactly as the contract defines it. */
export const FEEDBACK_INPUT_SCHEMA: { type: "object"; properties: Record<string, Property>; required: string[] } = {
  type: "object",
  properties: {
    what_i_needed: text(
      4000,
      "The capability you needed and could not get, stated concretely: the data, action or parameter, " +
        "e.g. 'filter invoices by date range' or 'get the total cost per project'.",
      true,
    ),
    what_i_tried: text(
      4000,
      "What you tried before giving up: the tools you called with which arguments, and what came back " +
        "or why it fell short.",
      true,
    ),
    gap_type: {
      type: "string",
      enum: GAP_TYPES,
      description:
        "missing_tool: no tool does it. incomplete_results: a tool answered but left data out. " +
        "missing_parameter: the tool exists but lacks an argument you needed. " +
        "wrong_format: the data came back in a shape you could not use. other: anything else.",
    },
    server_name: text(200, "Name of the MCP server this feedback is about."),
    server_version: text(100, "Version of the MCP server, if known."),
    tool_name: text(200, "The tool that fell short, if the gap is about one existing tool."),
    suggestion: text(
      4000,
      "Your proposed fix: a new tool with its signature, a new parameter, or a changed behaviour or format.",
    ),
    user_goal: text(2000, "The user's underlying task that surfaced the gap, in one or two sentences."),
    resolution: {
      type: "string",
      enum: RESOLUTIONS,
      description:
        "blocked: you could not do the task at all. worked_around: you got there another way. " +
        "partial: you could only do part of it.",
    },
    tools_available: {
      maxItems: 500,
      type: "array",
      items: { type: "string", maxLength: 200 },
      description: "Names of the tools you could see on this server when you hit the gap.",
    },
    agent_model: text(200, "Your model identifier, e.g. claude-sonnet-4-5."),
    session_id: text(200, "An identifier for this conversation, so reports from one session can be grouped."),
    client_type: text(200, "The client application you run in, e.g. claude-desktop, cursor, claude-code."),
  },
  required: ["what_i_needed", "what_i_tried", "gap_type"],
};

export const FEEDBACK_TOOL_ANNOTATIONS = {
  title: FEEDBACK_TOOL_TITLE,
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: false,
};

/** The tool exactly as the contract's tools/list entry (for low-level `Server` handlers). */
export function feedbackToolDefinition() {
  return {
    name: FEEDBACK_TOOL_NAME,
    title: FEEDBACK_TOOL_TITLE,
    description: FEEDBACK_TOOL_DESCRIPTION,
    inputSchema: structuredClone(FEEDBACK_INPUT_SCHEMA),
    annotations: { ...FEEDBACK_TOOL_ANNOTATIONS },
  };
}

/**
 * The zod shape McpServer needs, built from FEEDBACK_INPUT_SCHEMA with only the
 * zod calls that zod 3 and zod 4 share, so the JSON Schema the SDK derives from it
 * carries every enum, bound, description and required field.
 */
export function feedbackInputShape(): Record<string, z.ZodTypeAny> {
  const shape: Record<string, z.ZodTypeAny> = {};
  for (const [name, property] of Object.entries(FEEDBACK_INPUT_SCHEMA.properties)) {
    let schema: z.ZodTypeAny;
    if (property.type === "array") {
      schema = z.array(z.string().max(property.items.maxLength)).max(property.maxItems);
    } else if (property.enum) {
      schema = z.enum(property.enum as [string, ...string[]]);
    } else {
      let s = z.string();
      if (property.minLength !== undefined) s = s.min(property.minLength);
      if (property.maxLength !== undefined) s = s.max(property.maxLength);
      schema = s;
    }
    schema = schema.describe(property.description);
    shape[name] = FEEDBACK_INPUT_SCHEMA.required.includes(name) ? schema : schema.optional();
  }
  return shape;
}

/**
 * The input schema as a Standard Schema with JSON Schema (what SDK 2.x's registerTool
 * takes): tools/list shows exactly the contract's schema, and the sidecar does the
 * validation, so an invalid report gets the sidecar's field messages.
 */
function feedbackStandardSchema() {
  const schema = () => structuredClone(FEEDBACK_INPUT_SCHEMA) as Record<string, unknown>;
  return {
    "~standard": {
      version: 1 as const,
      vendor: "patchworkmcp",
      validate: (value: unknown) => ({ value }),
      jsonSchema: { input: schema, output: schema },
    },
  };
}

// ---- the original PatchworkMCP API -------------------------------------------------

export const TOOL_NAME = FEEDBACK_TOOL_NAME;
export const TOOL_DESCRIPTION = FEEDBACK_TOOL_DESCRIPTION;
/** The zod shape for 1.x `server.tool(TOOL_NAME, TOOL_DESCRIPTION, TOOL_INPUT_SCHEMA, handler)`. */
export const TOOL_INPUT_SCHEMA: Record<string, z.ZodTypeAny> = feedbackInputShape();

// ---- options and results ----------------------------------------------------------

export interface FeedbackOptions {
  /** Default: FEEDBACK_SIDECAR_URL, then http://localhost:8099. */
  sidecarUrl?: string;
  /** Default: FEEDBACK_API_KEY. */
  apiKey?: string;
  /** Fill in server_name/server_version on every report from this server. */
  serverName?: string;
  serverVersion?: string;
  /** Time allowed to connect and get the response headers, ms (default 3000). */
  connectTimeoutMs?: number;
  /** Upper bound for one attempt, ms (default 10000). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 2). */
  retries?: number;
  /** First backoff delay, ms; doubled per retry, plus jitter (default 250). */
  backoffMs?: number;
  /** Longest Retry-After waited for, ms (default 30000). A longer one (a daily cap says "after
   * midnight") is not waited out: the report is kept for replay at once. */
  maxRetryAfterMs?: number;
  /** Where undeliverable reports wait. Default: FEEDBACK_OUTBOX, then ~/.patchworkmcp/outbox.log (the proxy's). */
  outboxPath?: string;
  /** First delay before the outbox is re-sent, ms; doubled while the sidecar stays away, up to 5 min (default 2000). */
  outboxRetryMs?: number;
  /** What a kept report is scrubbed of. Default: FEEDBACK_PRIVACY, then secrets+pii. */
  privacy?: PrivacyMode;
}

/** What POST /api/feedback answers as `gap` when the report joined a gap the developers acted on. */
export interface KnownGap {
  id: number;
  status: string;
  reports: number;
  agent_note?: string | null;
}

export interface FeedbackResult {
  delivered: boolean;
  /** Kept for later delivery (in the outbox, or as a stderr line if even that failed). */
  unsent: boolean;
  reportId?: number;
  status?: number;
  /** The text for the agent. */
  reply: string;
  error?: string;
  /** The sidecar refused the report's content (400/422): it would fail again, so it is not kept;
   * the tool answers isError with the fields to fix, as the proxy does. */
  invalid?: boolean;
  /** The known gap the report joined, when the sidecar said so. */
  gap?: KnownGap;
  /** The outbox file the report was kept in. */
  outbox?: string;
}

// ---- the known-gap echo (wording from src/feedback/echo.ts, vectors in drop-ins/spec/echo.json) ----

const KNOWN_GAP_ADVICE: Record<string, string> = {
  planned: "the developers plan to build it, so work around it for now",
  fixed: "the developers marked it fixed, so a newer version of this server should do it; work around it for now",
  wontfix: "the developers decided not to build it, so find another way",
};

/** The one sentence that tells the agent the gap is known and what to do now. */
export function knownGapSentence(gap: KnownGap): string {
  const count = `${gap.reports} report${gap.reports === 1 ? "" : "s"}`;
  const advice = Object.hasOwn(KNOWN_GAP_ADVICE, gap.status) ? `: ${KNOWN_GAP_ADVICE[gap.status]}` : "";
  const note = typeof gap.agent_note === "string" ? gap.agent_note.trim() : "";
  return `This is a known gap (${gap.status}, ${count})${advice}.${note ? ` Note from the developers: ${note}` : ""}`;
}

function recordedReply(id: number | undefined, gap: KnownGap | undefined): string {
  const recorded = FEEDBACK_REPLY_RECORDED.replace("{id}", String(id ?? ""));
  return gap ? `${recorded} ${knownGapSentence(gap)}` : recorded;
}

function gapOf(body: unknown): KnownGap | undefined {
  const gap = (body as { gap?: unknown } | null)?.gap as Record<string, unknown> | undefined;
  if (typeof gap !== "object" || gap === null) return undefined;
  if (typeof gap.id !== "number" || typeof gap.status !== "string" || typeof gap.reports !== "number") return undefined;
  return {
    id: gap.id,
    status: gap.status,
    reports: gap.reports,
    agent_note: typeof gap.agent_note === "string" ? gap.agent_note : null,
  };
}

// ---- payload and context ----------------------------------------------------------

const FIELDS = Object.keys(FEEDBACK_INPUT_SCHEMA.properties);

/** Keep the known fields of the tool arguments; the configured server name/version win. */
export function buildFeedbackPayload(args: unknown, options: FeedbackOptions = {}): Record<string, unknown> {
  const input =
    typeof args === "object" && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {};
  const payload: Record<string, unknown> = {};
  for (const field of FIELDS) if (input[field] !== undefined && input[field] !== null) payload[field] = input[field];
  if (options.serverName) payload.server_name = options.serverName;
  if (options.serverVersion) payload.server_version = options.serverVersion;
  return payload;
}

/** What the server knows better than the agent, filled in as the proxy does. */
export interface FeedbackContext {
  /** The tools the server registered. Used when the agent sent none. */
  toolsAvailable?: string[];
  /** From the server's info. Wins over what the agent guessed. */
  serverVersion?: string;
  /** The client's info (`clientInfo` from initialize): "name/version". Used when the agent sent none. */
  clientType?: string;
  /** The transport's session, else this process's. Used when the agent sent none. */
  sessionId?: string;
}

const blank = (v: unknown) => v === undefined || v === null || (typeof v === "string" && v.trim() === "");

/** Fill the payload's gaps from the context; a configured serverVersion still wins. */
export function withFeedbackContext(
  payload: Record<string, unknown>,
  context: FeedbackContext,
  options: FeedbackOptions = {},
): Record<string, unknown> {
  const out = { ...payload };
  const tools = out.tools_available;
  if ((blank(tools) || (Array.isArray(tools) && tools.length === 0)) && context.toolsAvailable?.length) {
    out.tools_available = context.toolsAvailable.slice(0, 500).map((n) => n.slice(0, 200));
  }
  if (!options.serverVersion && context.serverVersion) out.server_version = context.serverVersion.slice(0, 100);
  if (blank(out.client_type) && context.clientType) out.client_type = context.clientType.slice(0, 200);
  if (blank(out.session_id) && context.sessionId) out.session_id = context.sessionId.slice(0, 200);
  return out;
}

/** One id per process: on stdio one process serves one client, so it groups that conversation's reports. */
const PROCESS_SESSION_ID = `process-${randomUUID()}`;

interface Implementation {
  name?: unknown;
  version?: unknown;
}
const CLIENT_INFO_META_KEY = "io.modelcontextprotocol/clientInfo";

/**
 * The context an McpServer (1.x or 2.x) exposes to a tool handler. `_serverInfo` and
 * `_registeredTools` are private fields both majors have; each read is guarded, so a
 * future SDK without them only means less context, never an error.
 */
function contextOf(server: McpServerLike, extra: unknown): FeedbackContext {
  const context: FeedbackContext = {};
  try {
    const inner = (server as { server?: { _serverInfo?: Implementation; getClientVersion?: () => unknown } }).server;
    const registered = (server as { _registeredTools?: Record<string, { enabled?: boolean }> })._registeredTools;
    if (registered && typeof registered === "object") {
      context.toolsAvailable = Object.entries(registered)
        .filter(([, tool]) => tool?.enabled !== false)
        .map(([name]) => name);
    }
    const version = inner?._serverInfo?.version;
    if (typeof version === "string" && version) context.serverVersion = version;
    const ex = (extra ?? {}) as {
      sessionId?: unknown;
      _meta?: Record<string, unknown>;
      mcpReq?: { _meta?: Record<string, unknown>; envelope?: Record<string, unknown> };
    };
    // 2026-07-28 requests carry the client's identity in their own _meta envelope; 2025-era ones had initialize.
    const fromEnvelope = (ex.mcpReq?.envelope?.[CLIENT_INFO_META_KEY] ??
      ex.mcpReq?._meta?.[CLIENT_INFO_META_KEY] ??
      ex._meta?.[CLIENT_INFO_META_KEY]) as Implementation | undefined;
    const client = (fromEnvelope ?? inner?.getClientVersion?.()) as Implementation | undefined;
    if (client && typeof client.name === "string" && client.name) {
      context.clientType =
        typeof client.version === "string" && client.version ? `${client.name}/${client.version}` : client.name;
    }
    context.sessionId = typeof ex.sessionId === "string" && ex.sessionId ? ex.sessionId : PROCESS_SESSION_ID;
  } catch {
    // context is a courtesy: never fail a report over it
  }
  return context;
}

// ---- delivery ---------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isNaN(ms) ? undefined : Math.max(ms, 0);
}

function issuesText(body: string, status: number): string {
  try {
    const error = (JSON.parse(body) as { error?: { message?: unknown; details?: unknown } }).error;
    if (Array.isArray(error?.details) && error.details.length > 0) {
      return error.details
        .map((d: { field?: unknown; message?: unknown }) => `${String(d.field)}: ${String(d.message)}`)
        .join("; ");
    }
    if (typeof error?.message === "string") return error.message;
  } catch {
    // not JSON: fall back to the status
  }
  return `the feedback service answered ${status}`;
}

/** POST with a connect deadline (until headers arrive) inside a total deadline. */
async function post(
  url: string,
  init: RequestInit,
  connectMs: number,
  totalMs: number,
): Promise<{ res: Response; body: string }> {
  const total = new AbortController();
  const connect = new AbortController();
  const totalTimer = setTimeout(() => total.abort(new Error(`no answer within ${totalMs} ms`)), totalMs);
  const connectTimer = setTimeout(() => connect.abort(new Error(`no connection within ${connectMs} ms`)), connectMs);
  const onConnectAbort = () => total.abort(connect.signal.reason);
  connect.signal.addEventListener("abort", onConnectAbort);
  try {
    const res = await fetch(url, { ...init, signal: total.signal });
    clearTimeout(connectTimer);
    connect.signal.removeEventListener("abort", onConnectAbort);
    return { res, body: await res.text() };
  } finally {
    clearTimeout(totalTimer);
    clearTimeout(connectTimer);
  }
}

type Attempts =
  | { kind: "delivered"; status: number; reportId?: number; gap?: KnownGap }
  | { kind: "invalid"; status: number; details: string }
  | { kind: "failed"; status?: number; error: string };

/** Send one report with its key: retries on network errors, 429 and 5xx, never throws. */
async function postReport(
  payload: Record<string, unknown>,
  key: string,
  options: FeedbackOptions,
  retries: number,
): Promise<Attempts> {
  const backoffMs = options.backoffMs ?? 250;
  let status: number | undefined;
  let lastError = "not attempted";
  try {
    const base = options.sidecarUrl ?? (process.env.FEEDBACK_SIDECAR_URL || "http://localhost:8099");
    const apiKey = options.apiKey ?? process.env.FEEDBACK_API_KEY ?? "";
    const url = `${base.replace(/\/+$/, "")}/api/feedback`;
    const headers: Record<string, string> = { "Content-Type": "application/json", "Idempotency-Key": key };
    if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
    const body = JSON.stringify(payload);
    for (let attempt = 0; attempt <= retries; attempt++) {
      const backoff = backoffMs * 2 ** attempt;
      let waitMs = backoff + Math.random() * backoff;
      try {
        const { res, body: answer } = await post(
          url,
          { method: "POST", headers, body },
          options.connectTimeoutMs ?? 3000,
          options.timeoutMs ?? 10_000,
        );
        status = res.status;
        if (res.ok) {
          let parsed: unknown;
          try {
            parsed = JSON.parse(answer);
          } catch {
            // any 2xx is success, whatever the body
          }
          const id = (parsed as { id?: unknown } | undefined)?.id;
          return { kind: "delivered", status, reportId: typeof id === "number" ? id : undefined, gap: gapOf(parsed) };
        }
        if (res.status === 400 || res.status === 422) {
          return { kind: "invalid", status, details: issuesText(answer, res.status) };
        }
        if (res.status !== 429 && res.status < 500) {
          // 401/403/404/413…: a setup problem, not the report's fault: keep it for later.
          return { kind: "failed", status, error: issuesText(answer, res.status) };
        }
        lastError = `the feedback service answered ${res.status}`;
        const askedMs = retryAfterMs(res.headers.get("retry-after"));
        // "Not before tomorrow" (a daily cap) is not worth holding the agent for: keep it for later now.
        if (askedMs !== undefined && askedMs > (options.maxRetryAfterMs ?? 30_000)) {
          return { kind: "failed", status, error: issuesText(answer, res.status) };
        }
        waitMs = askedMs ?? waitMs;
      } catch (err) {
        lastError = `could not reach the feedback service: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (attempt < retries) await sleep(waitMs);
    }
  } catch (err) {
    lastError = err instanceof Error ? err.message : String(err);
  }
  return { kind: "failed", status, error: lastError };
}

/** Deliver one report to the sidecar, or keep it in the outbox. Never throws, never writes to stdout. */
export async function deliverFeedback(args: unknown, options: FeedbackOptions = {}): Promise<FeedbackResult> {
  const payload = buildFeedbackPayload(args, options);
  return deliverPayload(payload, options);
}

async function deliverPayload(payload: Record<string, unknown>, options: FeedbackOptions): Promise<FeedbackResult> {
  const key = randomUUID();
  const outcome = await postReport(payload, key, options, Math.max(0, options.retries ?? 2));
  if (outcome.kind === "delivered") {
    // A report delivered now is a sign the sidecar is back: send what waits, too.
    if (outboxFlushers.has(outboxPathOf(options))) outboxFlusher(options).soon();
    return {
      delivered: true,
      unsent: false,
      reportId: outcome.reportId,
      status: outcome.status,
      reply: recordedReply(outcome.reportId, outcome.gap),
      ...(outcome.gap ? { gap: outcome.gap } : {}),
    };
  }
  if (outcome.kind === "invalid") {
    return {
      delivered: false,
      unsent: false,
      status: outcome.status,
      reply: FEEDBACK_REPLY_INVALID.replace("{details}", outcome.details),
      error: outcome.details,
      invalid: true,
    };
  }
  return keep(payload, key, outcome.status, outcome.error, options);
}

async function keep(
  payload: Record<string, unknown>,
  key: string,
  status: number | undefined,
  error: string,
  options: FeedbackOptions,
): Promise<FeedbackResult> {
  const path = outboxPathOf(options);
  const result: FeedbackResult = { delivered: false, unsent: true, status, reply: FEEDBACK_REPLY_QUEUED, error };
  const mode = privacyModeOf(options);
  try {
    const kept = scrubForKeeping(payload, mode);
    await outboxAppend(path, kept.payload, key);
    result.outbox = path;
    const scrubbed = kept.replaced.length > 0 ? ` (privacy ${mode} replaced ${kept.replaced.join("; ")})` : "";
    process.stderr.write(`patchworkmcp: feedback not delivered (${error}); kept in the outbox ${path}${scrubbed}\n`);
    outboxFlusher(options).later();
  } catch (err) {
    // Even the outbox failed: the stderr line is the last place `patchworkmcp replay` can read it from.
    try {
      const line = scrubForKeeping(payload, "secrets+pii").payload;
      process.stderr.write(
        `patchworkmcp: the outbox ${path} could not be written (${err instanceof Error ? err.message : String(err)})\n` +
          `${UNSENT_FEEDBACK_MARKER} ${JSON.stringify({ ...line, idempotency_key: key })}\n`,
      );
    } catch {
      // stderr itself failing must not reach the host
    }
  }
  return result;
}

/**
 * The original API: deliver one report and return the text for the agent.
 * `sendFeedback(args, "my-server", { sidecarUrl, apiKey })`.
 */
export function sendFeedback(args: unknown, serverName?: string, options?: FeedbackOptions): Promise<string>;
/** @deprecated The result form: use deliverFeedback(args, options). */
export function sendFeedback(args: unknown, options: FeedbackOptions): Promise<FeedbackResult>;
export async function sendFeedback(
  args: unknown,
  serverNameOrOptions?: string | FeedbackOptions,
  options: FeedbackOptions = {},
): Promise<string | FeedbackResult> {
  if (typeof serverNameOrOptions === "object" && serverNameOrOptions !== null) {
    return deliverFeedback(args, serverNameOrOptions);
  }
  const result = await deliverFeedback(args, {
    ...options,
    serverName: serverNameOrOptions || options.serverName || "unknown",
  });
  return result.reply;
}

// ---- privacy: what is scrubbed before a report is kept (drop-ins/spec/privacy.json) ---------
//
// The sidecar scrubs every report with its full rule set (secretlint's preset among them) before
// it stores it; a report this process keeps (the outbox, the stderr line) never reaches it first,
// so it is scrubbed here with a portable subset of those rules, to the same placeholders.
// FEEDBACK_PRIVACY (or options.privacy): off, secrets, secrets+pii (the default; an unknown
// value counts as the default, never as off). The stderr line of last resort is always
// scrubbed with secrets+pii.

export type PrivacyMode = "off" | "secrets" | "secrets+pii";
export const PRIVACY_MODES: readonly PrivacyMode[] = ["off", "secrets", "secrets+pii"];
export const DEFAULT_PRIVACY_MODE: PrivacyMode = "secrets+pii";
/** The free-text fields scrubbed (the sidecar's SCRUBBED_FIELDS). */
export const SCRUBBED_FIELDS = ["what_i_needed", "what_i_tried", "suggestion", "user_goal"] as const;

/**
 * One rule: group 1 of `pattern` is a prefix left in place, group 2 the value replaced (what
 * follows it in the match stays too). `notBefore` / `notAfter` are characters that must not
 * touch the match (the sidecar's lookarounds), `dotDigitAfter` refuses a match followed by
 * ".<digit>", and `accept` checks the value.
 */
interface ScrubRule {
  name: string;
  pii: boolean;
  pattern: RegExp;
  notBefore?: RegExp;
  notAfter?: RegExp;
  dotDigitAfter?: boolean;
  accept?: (value: string) => boolean;
}

const WORD = /[A-Za-z0-9_]/;
const SECRET_KEY_WORDS =
  "api[_-]?key|apikey|access[_-]?key|secret[_-]?key|client[_-]?secret|private[_-]?key|access[_-]?token|auth[_-]?token|" +
  "refresh[_-]?token|id[_-]?token|session[_-]?token|token|secret|password|passwd|pwd|passphrase|credentials?";
const SECRET_KEY = `["']?[A-Za-z0-9_.-]*(?:${SECRET_KEY_WORDS})["']?\\s*(?:=>|=|:)\\s*`;
const HARMLESS_IPS = new Set(["127.0.0.1", "0.0.0.0", "::1", "::", "0:0:0:0:0:0:0:1", "0:0:0:0:0:0:0:0"]);
const PII_PLACEHOLDERS: Record<string, string> = { email: "[email]", phone: "[phone]", card: "[card]", ip: "[ip]" };

const countDigits = (s: string): number => s.replace(/[^0-9]/g, "").length;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

/** Base64 (padding optional) that decodes to `user:password`. */
function basicCredentials(value: string): boolean {
  const padded = value.replace(/=+$/, "");
  if (padded.length % 4 === 1) return false;
  const decoded = Buffer.from(padded, "base64").toString("utf8");
  return /^[^\s:]{1,200}:\S/.test(decoded) && !decoded.includes("\uFFFD");
}

function ipv4(value: string): boolean {
  return value.split(".").every((o) => /^(?:0|[1-9][0-9]{0,2})$/.test(o) && Number(o) <= 255);
}

function ipv6(value: string): boolean {
  return (value.match(/:/g) ?? []).length >= 2 && isIPv6(value);
}

const SCRUB_RULES: readonly ScrubRule[] = [
  {
    name: "github",
    pii: false,
    pattern: /()((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}|github_pat_[A-Za-z0-9_]{82})/g,
    notBefore: /[A-Za-z]/,
    notAfter: WORD,
  },
  {
    name: "slack",
    pii: false,
    pattern: /()((?:xoxb|xoxp|xapp|xoxa|xoxo|xoxr)-(?:[0-9]-)?(?:[a-zA-Z0-9]{1,40}-)+[a-zA-Z0-9]{1,40})/g,
    notBefore: WORD,
    notAfter: WORD,
  },
  {
    name: "aws",
    pii: false,
    pattern: /()((?:A3T[A-Z0-9]|AKIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASIA)[A-Z0-9]{16})/g,
    notBefore: WORD,
    notAfter: WORD,
    accept: (v) => v !== "AKIAIOSFODNN7EXAMPLE",
  },
  { name: "npm", pii: false, pattern: /()(npm_[A-Za-z0-9_]{36})/g, notBefore: /[A-Za-z]/, notAfter: WORD },
  {
    name: "openai",
    pii: false,
    pattern:
      /()(sk-(?:proj|svcacct|admin)-(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})T3BlbkFJ(?:[A-Za-z0-9_-]{74}|[A-Za-z0-9_-]{58})|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20})/g,
    notAfter: WORD,
  },
  {
    name: "anthropic",
    pii: false,
    pattern: /()(sk-ant-api0[0-9]-[A-Za-z0-9_-]{90,128}AA)/g,
    notAfter: /[A-Za-z0-9_-]/,
  },
  {
    name: "private_key",
    pii: false,
    // A truncated key (no END line) is replaced to the end of its field.
    pattern:
      /()(-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|[\s\S]*))/g,
  },
  {
    name: "bearer",
    pii: false,
    pattern: /(bearer\s+)([A-Za-z0-9._~+/-]{8,}=*)/gi,
    notBefore: WORD,
    // "bearer authentication" is prose; a token has a digit or is long.
    accept: (v) => /[0-9]/.test(v) || v.length >= 20,
  },
  {
    name: "basic_auth",
    pii: false,
    pattern: /(basic\s+)([A-Za-z0-9+/]{6,}={0,2})/gi,
    notBefore: WORD,
    accept: basicCredentials,
  },
  {
    name: "authorization",
    pii: false,
    pattern: /((?:proxy-)?authorization["']?\s*[:=]\s*["']?)([^\s"',;]{8,})/gi,
    notBefore: WORD,
  },
  {
    name: "jwt",
    pii: false,
    pattern: /()(eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})/g,
    notBefore: WORD,
  },
  // key=value secrets: a quoted value is replaced inside its quotes.
  ...[
    `(${SECRET_KEY}")((?:[^"\\\\\\n]|\\\\.){1,500})"`,
    `(${SECRET_KEY}')([^'\\n]{1,500})'`,
    `(${SECRET_KEY})([^\\s"',;&<>()\\[\\]{}]{1,500})`,
  ].map(
    (source): ScrubRule => ({
      name: "key_value",
      pii: false,
      pattern: new RegExp(source, "gi"),
      notBefore: /[A-Za-z0-9[]/,
    }),
  ),
  {
    name: "email",
    pii: true,
    pattern:
      /()([A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,})/g,
    notAfter: /[A-Za-z0-9-]/,
  },
  {
    name: "card",
    pii: true,
    pattern: /()([2-6](?:[ -]?[0-9]){12,18})/g,
    notBefore: /[0-9.-]/,
    notAfter: /[0-9-]/,
    dotDigitAfter: true,
    accept: (v) => {
      const digits = v.replace(/[ -]/g, "");
      return digits.length >= 13 && digits.length <= 19 && luhn(digits);
    },
  },
  {
    name: "phone",
    pii: true,
    pattern:
      /()(\+[1-9][0-9]{0,2}(?:[ .-]?\(?[0-9]{1,4}\)?){2,6}|(?:\([0-9]{3}\) ?|[0-9]{3}[ .-])[0-9]{3}[ .-][0-9]{4}|0[0-9]{1,4}(?:[ .-][0-9]{2,4}){2,4})/g,
    notBefore: /[A-Za-z0-9_+.]/,
    notAfter: /[A-Za-z0-9_-]/,
    dotDigitAfter: true,
    accept: (v) => {
      const n = countDigits(v);
      return v.startsWith("+") ? n >= 8 && n <= 15 : v.startsWith("0") ? n >= 9 && n <= 12 : n === 10;
    },
  },
  {
    name: "ip",
    pii: true,
    pattern: /()((?:[0-9]{1,3}\.){3}[0-9]{1,3})/g,
    notBefore: /[A-Za-z0-9_.]/,
    notAfter: WORD,
    dotDigitAfter: true,
    accept: (v) => ipv4(v) && !HARMLESS_IPS.has(v),
  },
  {
    name: "ip",
    pii: true,
    pattern: /()([0-9A-Fa-f:]{2,39})/g,
    notBefore: /[A-Za-z0-9_:.]/,
    notAfter: /[A-Za-z0-9_:]/,
    dotDigitAfter: true,
    accept: (v) => ipv6(v) && !HARMLESS_IPS.has(v.toLowerCase()),
  },
];

interface ScrubHit {
  start: number;
  end: number;
  rule: ScrubRule;
}

function touches(text: string, at: number, chars: RegExp | undefined): boolean {
  return chars !== undefined && at >= 0 && at < text.length && chars.test(text[at]!);
}

/** `text` scrubbed for `mode`, and how many matches of each rule it replaced (in order of first match). */
export function scrubText(text: string, mode: PrivacyMode): { text: string; counts: Array<[string, number]> } {
  if (mode === "off" || text === "") return { text, counts: [] };
  const hits: ScrubHit[] = [];
  for (const rule of SCRUB_RULES) {
    if (rule.pii && mode !== "secrets+pii") continue;
    for (const m of text.matchAll(rule.pattern)) {
      const start = m.index + m[1]!.length;
      const value = m[2]!;
      const after = m.index + m[0].length;
      if (value === "" || touches(text, m.index - 1, rule.notBefore) || touches(text, after, rule.notAfter)) continue;
      if (rule.dotDigitAfter && text[after] === "." && /[0-9]/.test(text[after + 1] ?? "")) continue;
      if (rule.accept && !rule.accept(value)) continue;
      hits.push({ start, end: start + value.length, rule });
    }
  }
  // Overlaps: the earliest match wins, the longest of those, the first rule of equals.
  hits.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = "";
  let at = 0;
  const counts = new Map<string, number>();
  for (const h of hits) {
    if (h.start < at) continue;
    out += text.slice(at, h.start) + (h.rule.pii ? PII_PLACEHOLDERS[h.rule.name] : `[secret:${h.rule.name}]`);
    at = h.end;
    counts.set(h.rule.name, (counts.get(h.rule.name) ?? 0) + 1);
  }
  return { text: out + text.slice(at), counts: [...counts] };
}

function privacyModeOf(options: FeedbackOptions): PrivacyMode {
  const mode = options.privacy ?? process.env.FEEDBACK_PRIVACY;
  return PRIVACY_MODES.includes(mode as PrivacyMode) ? (mode as PrivacyMode) : DEFAULT_PRIVACY_MODE;
}

/**
 * The report as it may be kept: its free-text fields scrubbed and cut back to their limits (a
 * placeholder can be longer than what it replaced). `replaced` says which rules fired where
 * (`github ×1 in what_i_tried`), never what they replaced.
 */
export function scrubForKeeping(
  payload: Record<string, unknown>,
  mode: PrivacyMode,
): { payload: Record<string, unknown>; replaced: string[] } {
  const out = { ...payload };
  const replaced: string[] = [];
  for (const field of SCRUBBED_FIELDS) {
    const value = out[field];
    if (typeof value !== "string") continue;
    const scrubbed = scrubText(value, mode);
    if (scrubbed.counts.length === 0) continue;
    const max = (FEEDBACK_INPUT_SCHEMA.properties[field] as StringProperty).maxLength!;
    out[field] = scrubbed.text.slice(0, max);
    for (const [rule, n] of scrubbed.counts) replaced.push(`${rule} ×${n} in ${field}`);
  }
  return { payload: out, replaced };
}

// ---- the outbox (the proxy's format and lock: proxy/outbox.ts) ----------------------

export const DEFAULT_OUTBOX_PATH = join(homedir(), ".patchworkmcp", "outbox.log");
const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 5_000;

function outboxPathOf(options: FeedbackOptions): string {
  return options.outboxPath ?? (process.env.FEEDBACK_OUTBOX || DEFAULT_OUTBOX_PATH);
}

interface OutboxEntry {
  payload: Record<string, unknown>;
  key: string;
}

/** The entries waiting that carry their own idempotency key (a line without one is left to `replay`). */
export function readOutbox(path: string): OutboxEntry[] {
  if (!existsSync(path)) return [];
  const entries: OutboxEntry[] = [];
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    const at = line.indexOf(UNSENT_FEEDBACK_MARKER);
    if (at === -1) continue;
    try {
      const value = JSON.parse(line.slice(at + UNSENT_FEEDBACK_MARKER.length)) as Record<string, unknown>;
      const { idempotency_key: key, ...payload } = value;
      if (typeof value === "object" && value !== null && typeof key === "string" && key) entries.push({ payload, key });
    } catch {
      // not ours to judge: it stays for a human and `patchworkmcp replay`
    }
  }
  return entries;
}

async function outboxAppend(path: string, payload: Record<string, unknown>, key: string): Promise<void> {
  await locked(path, () => {
    const created = !existsSync(path);
    const fd = openSync(path, "a", 0o600);
    try {
      writeSync(fd, `${UNSENT_FEEDBACK_MARKER} ${JSON.stringify({ ...payload, idempotency_key: key })}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (created) fsyncDirectory(dirname(path));
  });
}

/** Drop the lines of these keys by rewriting the file and renaming it over (atomic). */
async function outboxRemove(path: string, keys: Set<string>): Promise<void> {
  if (keys.size === 0) return;
  await locked(path, () => {
    if (!existsSync(path)) return;
    const kept = readFileSync(path, "utf8")
      .split("\n")
      .filter((line) => {
        if (line.trim() === "") return false;
        const at = line.indexOf(UNSENT_FEEDBACK_MARKER);
        if (at === -1) return true;
        try {
          const key = (JSON.parse(line.slice(at + UNSENT_FEEDBACK_MARKER.length)) as { idempotency_key?: unknown })
            .idempotency_key;
          return !(typeof key === "string" && keys.has(key));
        } catch {
          return true;
        }
      });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, kept.length > 0 ? `${kept.join("\n")}\n` : "", { mode: 0o600 });
    const fd = openSync(tmp, "r");
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
    fsyncDirectory(dirname(path));
  });
}

/** Every change happens under `<outbox>.lock` (exclusive create); a lock older than 30 s is taken over. */
async function locked(path: string, work: () => void): Promise<void> {
  const lock = `${path}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  let mine: Stats;
  for (;;) {
    try {
      closeSync(openSync(lock, "wx"));
      mine = statSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      removeLockIf(lock, (held) => Date.now() - held.mtimeMs > LOCK_STALE_MS);
      if (Date.now() > deadline)
        throw new Error(`the outbox ${path} stayed locked (remove ${lock} if no process runs)`);
      await sleep(20 + Math.random() * 30);
    }
  }
  try {
    work();
  } finally {
    removeLockIf(lock, (held) => held.ino === mine.ino && held.dev === mine.dev);
  }
}

/** Rename the lock aside (only one process gets it), check it is the one meant, else link it back. */
function removeLockIf(lock: string, isTheOne: (held: Stats) => boolean): void {
  try {
    if (!isTheOne(statSync(lock))) return;
  } catch {
    return;
  }
  const aside = `${lock}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    renameSync(lock, aside);
  } catch {
    return;
  }
  try {
    if (!isTheOne(statSync(aside))) linkSync(aside, lock);
  } catch {
    // a newer lock was taken meanwhile; it stands
  } finally {
    try {
      unlinkSync(aside);
    } catch {
      // nothing left to clean
    }
  }
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // some platforms refuse; the data itself is fsynced
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Re-sends one outbox in the background, backing off while the sidecar stays away. */
class OutboxFlusher {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private delay: number;
  /** Keys the sidecar refused (their content): left for a human and `replay`, not re-sent by this process. */
  private readonly refused = new Set<string>();

  constructor(
    readonly path: string,
    private readonly options: FeedbackOptions,
  ) {
    this.delay = this.base();
  }

  private base(): number {
    return this.options.outboxRetryMs ?? 2000;
  }

  soon(): void {
    this.schedule(0);
  }

  later(): void {
    if (!this.timer && !this.running) this.schedule(this.delay);
  }

  /** Send every waiting entry once. */
  flush(): Promise<void> {
    this.running ??= this.flushOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
    this.timer.unref();
  }

  private async flushOnce(): Promise<void> {
    let unreachable = false;
    try {
      const delivered = new Set<string>();
      for (const entry of readOutbox(this.path)) {
        if (this.refused.has(entry.key)) continue;
        const outcome = await postReport(entry.payload, entry.key, this.options, 0);
        if (outcome.kind === "delivered") delivered.add(entry.key);
        else if (outcome.kind === "invalid") this.refused.add(entry.key);
        else {
          unreachable = true;
          break;
        }
      }
      await outboxRemove(this.path, delivered);
      if (delivered.size > 0) {
        process.stderr.write(`patchworkmcp: delivered ${delivered.size} report(s) from the outbox ${this.path}\n`);
      }
    } catch (err) {
      unreachable = true;
      process.stderr.write(
        `patchworkmcp: the outbox ${this.path} could not be re-sent yet (${err instanceof Error ? err.message : String(err)})\n`,
      );
    }
    if (unreachable) {
      this.schedule(this.delay);
      this.delay = Math.min(this.delay * 2, 300_000);
    } else {
      this.delay = this.base();
    }
  }
}

const outboxFlushers = new Map<string, OutboxFlusher>();

/** The background sender of this process for the outbox these options name (one per file). */
export function outboxFlusher(options: FeedbackOptions = {}): OutboxFlusher {
  const path = outboxPathOf(options);
  let flusher = outboxFlushers.get(path);
  if (!flusher) {
    flusher = new OutboxFlusher(path, options);
    outboxFlushers.set(path, flusher);
  }
  return flusher;
}

/** Start re-sending what an earlier run left in the outbox. */
function resumeOutbox(options: FeedbackOptions): void {
  try {
    if (readOutbox(outboxPathOf(options)).length > 0) outboxFlusher(options).soon();
  } catch {
    // unreadable now: the next undelivered report schedules a retry
  }
}

// ---- registration -----------------------------------------------------------------

/** Structurally an McpServer of SDK 1.x or 2.x (the drop-in imports neither). */
export interface McpServerLike {
  registerTool: (...args: never[]) => unknown;
}

type ToolReply = { content: Array<{ type: "text"; text: string }>; isError?: boolean };

/** The CallToolResult for one report: isError when its content was refused (a kept report is not an error). */
export function feedbackToolResult(result: FeedbackResult): ToolReply {
  return { content: [{ type: "text", text: result.reply }], ...(result.invalid ? { isError: true } : {}) };
}

/**
 * Add the feedback tool to an McpServer (SDK 1.x or 2.x) in one line. Pass
 * FEEDBACK_SERVER_INSTRUCTIONS as the server's `instructions` too. Every report gets the
 * server's name and version, the client's name, the tools registered and a session id.
 */
export function registerFeedbackTool(
  server: McpServerLike,
  serverName: string = "unknown",
  options: FeedbackOptions = {},
): void {
  const configured: FeedbackOptions = { ...options, serverName: serverName || options.serverName || "unknown" };
  const register = server.registerTool.bind(server) as unknown as (
    name: string,
    config: { title: string; description: string; inputSchema: unknown; annotations: typeof FEEDBACK_TOOL_ANNOTATIONS },
    callback: (args: Record<string, unknown>, extra: unknown) => Promise<ToolReply>,
  ) => unknown;
  // 1.x (it still has `tool`) takes a zod shape; 2.x takes a Standard Schema, which shows the contract's schema as is.
  const v1 = typeof (server as { tool?: unknown }).tool === "function";
  register(
    FEEDBACK_TOOL_NAME,
    {
      title: FEEDBACK_TOOL_TITLE,
      description: FEEDBACK_TOOL_DESCRIPTION,
      inputSchema: v1 ? feedbackInputShape() : feedbackStandardSchema(),
      annotations: FEEDBACK_TOOL_ANNOTATIONS,
    },
    async (args, extra) => {
      const payload = withFeedbackContext(buildFeedbackPayload(args, configured), contextOf(server, extra), configured);
      return feedbackToolResult(await deliverPayload(payload, configured));
    },
  );
  resumeOutbox(configured);
}
