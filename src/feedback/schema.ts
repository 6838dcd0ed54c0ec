/**
 * THE feedback contract: one zod schema for what an agent reports.
 *
 * Two views of the same fields:
 *  - `feedbackToolInputSchema` is the clean shape an agent sees (the MCP tool's
 *    inputSchema is derived from it).
 *  - `feedbackPayloadSchema` is what ingestion accepts: the same fields, but
 *    liberal in what real drop-ins send (null for absent, "" for unset
 *    optionals, `tools_available` as a JSON string or a comma list, unknown
 *    extra fields ignored).
 */
import { z } from "zod";

export const GAP_TYPES = ["missing_tool", "incomplete_results", "missing_parameter", "wrong_format", "other"] as const;
export type GapType = (typeof GAP_TYPES)[number];

export const RESOLUTIONS = ["blocked", "worked_around", "partial"] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** Upper bounds for every field, in characters (or items for lists). */
export const LIMITS = {
  what_i_needed: 4000,
  what_i_tried: 4000,
  suggestion: 4000,
  user_goal: 2000,
  server_name: 200,
  server_version: 100,
  tool_name: 200,
  agent_model: 200,
  session_id: 200,
  client_type: 200,
  idempotency_key: 200,
  tools_available_items: 500,
  tool_name_in_list: 200,
} as const;

export const DEFAULT_SERVER_NAME = "unknown";

const text = (field: string, max: number, description: string) =>
  z
    .string({ error: `${field} must be a string` })
    .max(max, { error: `${field} must be at most ${max} characters` })
    .describe(description);

const requiredText = (field: string, max: number, description: string) =>
  z
    .string({ error: `${field} is required and must be a string` })
    .trim()
    .min(1, { error: `${field} must not be empty` })
    .max(max, { error: `${field} must be at most ${max} characters` })
    .describe(description);

const toolList = z
  .array(
    z.string({ error: "tools_available entries must be strings" }).max(LIMITS.tool_name_in_list, {
      error: `tools_available entries must be at most ${LIMITS.tool_name_in_list} characters`,
    }),
    { error: "tools_available must be a list of tool names" },
  )
  .max(LIMITS.tools_available_items, {
    error: `tools_available may list at most ${LIMITS.tools_available_items} tools`,
  })
  .describe("Names of the tools you could see on this server when you hit the gap.");

/** The fields, each described for the agent. Order is the order agents see. */
const fields = {
  what_i_needed: requiredText(
    "what_i_needed",
    LIMITS.what_i_needed,
    "The capability you needed and could not get, stated concretely: the data, action or parameter, " +
      "e.g. 'filter invoices by date range' or 'get the total cost per project'.",
  ),
  what_i_tried: requiredText(
    "what_i_tried",
    LIMITS.what_i_tried,
    "What you tried before giving up: the tools you called with which arguments, and what came back " +
      "or why it fell short.",
  ),
  gap_type: z
    .enum(GAP_TYPES, {
      error: `gap_type must be one of: ${GAP_TYPES.join(", ")}`,
    })
    .describe(
      "missing_tool: no tool does it. incomplete_results: a tool answered but left data out. " +
        "missing_parameter: the tool exists but lacks an argument you needed. " +
        "wrong_format: the data came back in a shape you could not use. other: anything else.",
    ),
  server_name: text("server_name", LIMITS.server_name, "Name of the MCP server this feedback is about.").optional(),
  server_version: text("server_version", LIMITS.server_version, "Version of the MCP server, if known.").optional(),
  tool_name: text(
    "tool_name",
    LIMITS.tool_name,
    "The tool that fell short, if the gap is about one existing tool.",
  ).optional(),
  suggestion: text(
    "suggestion",
    LIMITS.suggestion,
    "Your proposed fix: a new tool with its signature, a new parameter, or a changed behaviour or format.",
  ).optional(),
  user_goal: text(
    "user_goal",
    LIMITS.user_goal,
    "The user's underlying task that surfaced the gap, in one or two sentences.",
  ).optional(),
  resolution: z
    .enum(RESOLUTIONS, { error: `resolution must be one of: ${RESOLUTIONS.join(", ")}` })
    .describe(
      "blocked: you could not do the task at all. worked_around: you got there another way. " +
        "partial: you could only do part of it.",
    )
    .optional(),
  tools_available: toolList.optional(),
  agent_model: text("agent_model", LIMITS.agent_model, "Your model identifier, e.g. claude-sonnet-4-5.").optional(),
  session_id: text(
    "session_id",
    LIMITS.session_id,
    "An identifier for this conversation, so reports from one session can be grouped.",
  ).optional(),
  client_type: text(
    "client_type",
    LIMITS.client_type,
    "The client application you run in, e.g. claude-desktop, cursor, claude-code.",
  ).optional(),
};

/** The clean input an agent sends through the `feedback` tool. */
export const feedbackToolInputSchema = z.object(fields);
export type FeedbackToolInput = z.infer<typeof feedbackToolInputSchema>;

/** Fields an agent may leave out (derived: the schemas that accept undefined). */
const OPTIONAL_FIELDS = (Object.keys(fields) as (keyof typeof fields)[]).filter(
  (key) => fields[key].safeParse(undefined).success,
);

/**
 * Normalise `tools_available` from the shapes real drop-ins send:
 * null/absent → [], a JSON-encoded array string → its items, "a, b" → ["a","b"].
 */
export function normaliseToolsAvailable(value: unknown): unknown {
  if (value === null || value === undefined) return [];
  if (typeof value !== "string") return value;
  const trimmed = value.trim();
  if (trimmed === "") return [];
  if (trimmed.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (Array.isArray(parsed)) return parsed;
    } catch {
      // Not JSON after all: fall through to the comma-separated reading.
    }
  }
  return trimmed
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Drop null and "" for optional fields so they read as absent, as older drop-ins send them. */
function liberalInput(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const key of OPTIONAL_FIELDS) {
    const v = out[key];
    if (v === null || (typeof v === "string" && v.trim() === "")) delete out[key];
  }
  out.tools_available = normaliseToolsAvailable(out.tools_available);
  if (out.idempotency_key === null || out.idempotency_key === "") delete out.idempotency_key;
  return out;
}

/** What ingestion accepts (HTTP, MCP tool, proxy, replay). Unknown keys are stripped. */
export const feedbackPayloadSchema = z.preprocess(
  liberalInput,
  z.object(
    {
      ...fields,
      tools_available: toolList,
      idempotency_key: z
        .string({ error: "idempotency_key must be a string" })
        .max(LIMITS.idempotency_key, { error: `idempotency_key must be at most ${LIMITS.idempotency_key} characters` })
        .optional(),
    },
    { error: "the feedback body must be a JSON object" },
  ),
);

/**
 * A validated, normalised report ready to store: the schema's output, less the
 * idempotency key (stored beside it), with server_name always filled in.
 */
export type FeedbackPayload = Omit<z.output<typeof feedbackPayloadSchema>, "idempotency_key" | "server_name"> & {
  server_name: string;
};

export interface FieldIssue {
  field: string;
  message: string;
}

export type ParseResult =
  | { ok: true; payload: FeedbackPayload; idempotencyKey?: string }
  | { ok: false; issues: FieldIssue[] };

/** Turn zod issues into `{field, message}` pairs a human (or agent) can act on. */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.map(String).join(".") : "(body)",
    message: issue.message,
  }));
}

/**
 * Validate and normalise one report. `defaults.server_name` fills in when the
 * report does not name its server (the proxy and `mcp --server-name` use it).
 */
export function parseFeedback(input: unknown, defaults: { server_name?: string } = {}): ParseResult {
  const result = feedbackPayloadSchema.safeParse(input);
  if (!result.success) return { ok: false, issues: toFieldIssues(result.error) };
  const { idempotency_key, ...data } = result.data;
  const payload: FeedbackPayload = {
    ...data,
    server_name: data.server_name ?? defaults.server_name ?? DEFAULT_SERVER_NAME,
  };
  return idempotency_key === undefined ? { ok: true, payload } : { ok: true, payload, idempotencyKey: idempotency_key };
}
