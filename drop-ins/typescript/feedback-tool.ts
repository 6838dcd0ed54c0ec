/**
 * PatchworkMCP feedback tool: a drop-in for TypeScript MCP servers built on
 * @modelcontextprotocol/sdk 1.x (`McpServer`).
 *
 * Copy this ONE file into your server and register the tool in one line:
 *
 *   import { FEEDBACK_SERVER_INSTRUCTIONS, registerFeedbackTool } from "./feedback-tool.js";
 *   const server = new McpServer({ name: "billing-server", version: "1.0.0" }, { instructions: FEEDBACK_SERVER_INSTRUCTIONS });
 *   registerFeedbackTool(server, "billing-server");
 *
 * It needs only the SDK, the zod your SDK uses (3 or 4) and the built-in fetch
 * (Node 18+). Configuration: FEEDBACK_SIDECAR_URL (default http://localhost:8099)
 * and FEEDBACK_API_KEY, or options in code. Delivery never throws into the host
 * and never writes to stdout (that would corrupt a stdio transport); a report that
 * cannot be delivered after 2 retries is written to stderr as ONE line
 * `PATCHWORKMCP_UNSENT_FEEDBACK {json}` that `patchworkmcp replay` re-sends.
 *
 * The definition and texts below come from PatchworkMCP's contract
 * (drop-ins/spec); the tests fail if they drift.
 */
import { randomUUID } from "node:crypto";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
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
}

export interface FeedbackResult {
  delivered: boolean;
  /** Written to stderr for `patchworkmcp replay`. */
  unsent: boolean;
  reportId?: number;
  status?: number;
  /** The text for the agent. */
  reply: string;
  error?: string;
  /** The sidecar refused the report's content (400/422): it would fail again, so it is not kept;
   * the tool answers isError with the fields to fix, as the proxy does. */
  invalid?: boolean;
}

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

function writeUnsent(
  payload: Record<string, unknown>,
  key: string,
  status: number | undefined,
  error: string,
): FeedbackResult {
  try {
    process.stderr.write(`${UNSENT_FEEDBACK_MARKER} ${JSON.stringify({ ...payload, idempotency_key: key })}\n`);
  } catch {
    // stderr itself failing must not reach the host
  }
  return { delivered: false, unsent: true, status, reply: FEEDBACK_REPLY_QUEUED, error };
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

/** Deliver one report to the sidecar. Never throws, never writes to stdout. */
export async function sendFeedback(args: unknown, options: FeedbackOptions = {}): Promise<FeedbackResult> {
  const payload = buildFeedbackPayload(args, options);
  const key = randomUUID();
  const retries = Math.max(0, options.retries ?? 2);
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
          let reportId: number | undefined;
          try {
            const id = (JSON.parse(answer) as { id?: unknown }).id;
            if (typeof id === "number") reportId = id;
          } catch {
            // any 2xx is success, whatever the body
          }
          return {
            delivered: true,
            unsent: false,
            reportId,
            status,
            reply: FEEDBACK_REPLY_RECORDED.replace("{id}", String(reportId ?? "")),
          };
        }
        if (res.status === 400 || res.status === 422) {
          const details = issuesText(answer, res.status);
          return {
            delivered: false,
            unsent: false,
            status,
            reply: FEEDBACK_REPLY_INVALID.replace("{details}", details),
            error: details,
            invalid: true,
          };
        }
        if (res.status !== 429 && res.status < 500) {
          // 401/403/404/413…: a setup problem, not the report's fault: keep it for replay.
          return writeUnsent(payload, key, status, issuesText(answer, res.status));
        }
        lastError = `the feedback service answered ${res.status}`;
        const askedMs = retryAfterMs(res.headers.get("retry-after"));
        // "Not before tomorrow" (a daily cap) is not worth holding the agent for: keep it for replay now.
        if (askedMs !== undefined && askedMs > (options.maxRetryAfterMs ?? 30_000)) {
          return writeUnsent(payload, key, status, issuesText(answer, res.status));
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
  return writeUnsent(payload, key, status, lastError);
}

/**
 * Add the feedback tool to an McpServer in one line. Pass FEEDBACK_SERVER_INSTRUCTIONS
 * as the server's `instructions` too.
 */
export function registerFeedbackTool(server: McpServer, serverName: string, options: FeedbackOptions = {}): void {
  const configured: FeedbackOptions = { ...options, serverName: serverName || options.serverName };
  // The SDK's registerTool generics differ between zod 3 and zod 4 builds; the shape is
  // valid for both, so it is passed through a narrow local signature.
  const register = server.registerTool.bind(server) as unknown as (
    name: string,
    config: {
      title: string;
      description: string;
      inputSchema: Record<string, z.ZodTypeAny>;
      annotations: typeof FEEDBACK_TOOL_ANNOTATIONS;
    },
    callback: (
      args: Record<string, unknown>,
    ) => Promise<{ content: Array<{ type: "text"; text: string }>; isError?: boolean }>,
  ) => unknown;
  register(
    FEEDBACK_TOOL_NAME,
    {
      title: FEEDBACK_TOOL_TITLE,
      description: FEEDBACK_TOOL_DESCRIPTION,
      inputSchema: feedbackInputShape(),
      annotations: FEEDBACK_TOOL_ANNOTATIONS,
    },
    async (args) => {
      const result = await sendFeedback(args, configured);
      // An invalid report is an error the agent can fix; a kept one is not an error (it will be delivered).
      return { content: [{ type: "text", text: result.reply }], ...(result.invalid ? { isError: true } : {}) };
    },
  );
}
